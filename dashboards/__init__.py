"""Grafana dashboards for TradeWatch, generated from code (`python dashboards/build.py`).

The generated JSON files next to this package are committed; Grafana reads only the `*.json`.
"""
