"""Where current numbers come from: Prometheus's HTTP API, else one scrape of the exporter."""
