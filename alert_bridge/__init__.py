"""The alert bridge: Alertmanager webhooks in, escalation, email, reports and the live dashboard.

It needs the distribution's `bridge` extra (Flask, Jinja2, waitress, css-inline, requests,
matplotlib); importing it without them fails here, naming the extra to install.
"""

from tradewatch.extras import require

require("bridge", "the alert bridge (alert_bridge)")
