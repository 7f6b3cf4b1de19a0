"""TradeWatch's psutil Prometheus exporter (`tradewatch-exporter`)."""

# Kept equal to the distribution's version by a test; importlib.metadata would cost the
# exporter about 1 MB of RSS at start-up just to read it.
__version__ = "0.1.0"
