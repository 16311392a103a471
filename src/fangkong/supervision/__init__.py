"""Supervision: inspections, findings, rectification, discipline."""
