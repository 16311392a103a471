"""Fangkong (防控): grassroots epidemic prevention and control."""

__version__ = "0.1.0"
