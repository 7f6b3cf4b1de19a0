"""/help/score, the page the report links (issue 14.18): this deployment's numbers, from the code's
own constants, served openly under the dashboard's headers."""

from __future__ import annotations

from alert_bridge.reports import explain
from alert_bridge.reports import health_score as hs
from alert_bridge.web.app import create_app
from alert_bridge.web.pages import CSP
from tests.support.bridge import make_config


def test_the_page_follows_the_configured_thresholds(tmp_path):
    config = make_config(tmp_path, thresholds={"cpu_percent": {"warning": 70, "critical": 88}})
    page = explain.page(config)
    cpu = page["rows"][0]
    assert cpu.name == "Performance: CPU headroom" and cpu.zero == "u >= 88 %"
    assert page["caps"] == [("emergency", "at most 59.9 (Poor)"), ("critical", "at most 74.9 (Fair)")]
    assert [g for g, _ in page["grades"]] == ["Excellent", "Good", "Fair", "Poor"]
    kinds = [k for k, _ in page["recommendations"]]
    assert kinds[:2] == ["firing_alert", "disk_fill"] and "heartbeat_gaps" in kinds
    assert sum(float(r.points.split()[0]) * (3 if "each" in r.points else 1) for r in page["rows"]) == sum(
        hs.COMPONENT_MAX.values())  # the rows add up to 100


def test_help_page_is_open_and_carries_the_dashboard_headers(tmp_path):
    app = create_app(make_config(tmp_path))
    try:
        resp = app.test_client().get("/help/score", environ_base={"REMOTE_ADDR": "203.0.113.9"})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and resp.headers["Content-Security-Policy"] == CSP
        assert "/dashboard/static/dashboard.css" in html and "at most 59.9 (Poor)" in html
    finally:
        app.extensions["tradewatch"].db.close()
