"""The words every part of TradeWatch shares: severities, categories, the Watchdog alert.

The rule renderer writes these into labels, the bridge reads them back from Alertmanager's
webhooks, the report and the dashboards sort and colour by them. They are defined here once, so
a new severity or category is one edit and a test catches a part that spells one differently.
"""

from __future__ import annotations

# Least to most urgent: the order thresholds rise in (warning < critical < emergency).
SEVERITIES = ("info", "warning", "critical", "emergency")
# Most urgent first: the order people read lists in (dashboard, report, counts).
SEVERITY_ORDER = tuple(reversed(SEVERITIES))
# Severities that need a person now (highlighted, counted as urgent, recommended on).
URGENT_SEVERITIES = ("critical", "emergency")
# A missing or unknown severity label is treated as this, and flagged as assumed: a typo in a
# hand-written rule must not make an alert quieter.
ASSUMED_SEVERITY = "critical"

# The `category` label of every alerting rule (what the alert is about).
CATEGORIES = ("system", "network", "api", "database", "trading")

# The always-firing dead-man's switch: Alertmanager sends it on every repeat interval, the
# bridge alarms when it stops, and it is never an incident (not scored, not acknowledgeable).
WATCHDOG_ALERT = "Watchdog"


def effective_severity(label: str | None) -> tuple[str, bool]:
    """(severity, assumed): unknown or missing labels become ASSUMED_SEVERITY, flagged as assumed."""
    value = (label or "").strip().lower()
    if value in SEVERITIES:
        return value, False
    return ASSUMED_SEVERITY, True


def severity_rank(severity: str) -> int:
    """Position in SEVERITY_ORDER (0 = most urgent); unknown severities sort last."""
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)
