"""Report endpoints: preview, send now, health score, the gauge, and the scheduler hook."""

from __future__ import annotations

import pytest

from alert_bridge.store import outbox
from alert_bridge.store import reports as store
from tradewatch.config import parse_config


def test_preview_renders_without_prometheus(client):
    resp = client.get("/api/monitoring/reports/daily")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "TradeWatch daily report" in html and "could not be queried" in html
    assert "cid:" not in html
    text = client.get("/api/monitoring/reports/daily?format=text")
    assert text.mimetype == "text/plain" and "DATA GAPS" in text.get_data(as_text=True)


@pytest.mark.parametrize(
    "query", ["date=2026-02-30", "date=yesterday", "date=20260101", "date=", "format=pdf"]
)
def test_preview_rejects_bad_dates(client, query):
    resp = client.get(f"/api/monitoring/reports/daily?{query}")
    assert resp.status_code == 400
    assert set(resp.json) == {"error", "detail"} and query.split("=")[0] in resp.json["error"]


@pytest.mark.parametrize("query", ["date=2999-01-01", "date=0001-01-01"])
def test_preview_of_a_day_without_a_report_is_404(client, query):
    # well formed, but in the future or older than retention.metrics_days: no such report
    resp = client.get(f"/api/monitoring/reports/daily?{query}")
    assert resp.status_code == 404 and "date" in resp.json["error"]


def test_send_now_is_manual_and_queued(app, client):
    resp = client.post("/api/monitoring/reports/daily")
    assert resp.status_code == 202, resp.json
    body = resp.json
    assert body["status"] == "queued" and body["kind"] == "manual" and body["notification_id"]
    assert app.extensions["tradewatch"].sender.wakes == 1  # email leaves at once, not at the next poll
    db = app.extensions["tradewatch"].db
    row = outbox.get(db.connection(), body["notification_id"])
    assert row["kind"] == "report" and row["recipients"] == ["ops@example.com"]
    assert b"multipart/alternative" in row["raw"]
    # a second manual send also goes out, and neither used up the scheduled slot
    assert client.post("/api/monitoring/reports/daily", json={}).status_code == 202
    assert not store.scheduled_sent(db.connection(), body["report_date"])
    assert client.post("/api/monitoring/reports/daily", data="[1]").status_code == 400
    assert client.post("/api/monitoring/reports/daily", json={"date": 5}).status_code == 400
    assert client.post("/api/monitoring/reports/daily", json={"date": {}}).status_code == 400
    assert client.post("/api/monitoring/reports/daily", json={"day": "2026-01-01"}).status_code == 400
    assert client.post("/api/monitoring/reports/daily", json={"date": "1900-01-01"}).status_code == 404


def test_send_now_refused_to_remote_clients_without_token(client):
    resp = client.post("/api/monitoring/reports/daily", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert resp.status_code == 401 and resp.json["error"]


def test_health_score_endpoint_and_gauge(client):
    body = client.get("/api/monitoring/health-score").json
    assert set(body) >= {"score", "grade", "components", "hosts", "inputs", "gaps", "coverage"}
    assert body["components"]["performance"]["status"] == "no data"
    assert body["components"]["alerts"]["points"] == 25.0
    assert body["inputs"]["prometheus_ok"] is False and body["inputs"]["alerts"] == []
    assert body["coverage"] == 45.0  # alerts 25 + integrity 20 (0 points: Prometheus unreachable)
    assert body["components"]["integrity"]["points"] == 0
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'tradewatch_health_score{component="overall"} 55.6' in metrics  # 25 of 45 points
    assert 'tradewatch_health_score{component="alerts"} 100.0' in metrics
    assert 'component="performance"' not in metrics  # no data: absent, never 0
    assert client.get("/api/monitoring/health-score?window=5x").status_code == 400
    assert client.get("/api/monitoring/health-score?window=10s").status_code == 400


def test_the_daily_report_is_one_of_the_background_jobs():
    from alert_bridge.jobs.schedule import build_jobs
    from alert_bridge.reports.send import scheduler_job

    job = next(j for j in build_jobs(parse_config({}, env={})) if j.name == "daily_report")
    assert job.interval == 60.0 and job.run is scheduler_job
