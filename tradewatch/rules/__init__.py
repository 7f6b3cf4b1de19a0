"""Prometheus rules, prometheus.yml and alertmanager.yml rendered from the one config file."""

from tradewatch.rules.render import Deployment, prometheus_flags, render_all, render_files

__all__ = ["Deployment", "prometheus_flags", "render_all", "render_files"]
