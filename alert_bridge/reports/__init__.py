"""The daily report: data gathering, charts, rendering, sending and its HTTP endpoints."""
