"""Supplies: items, warehouses, stock movements, requests, forecasts."""
