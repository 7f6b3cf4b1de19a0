"""Alerts from Alertmanager: webhook -> payload -> ingest -> escalation; repeats, pause, watchdog."""
