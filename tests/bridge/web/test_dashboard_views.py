"""The dashboard's views with Flask's test client: escaping, CSP, login/CSRF, read access, the
sparkline endpoint's fallback to the exporter, and the notifications listing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from alert_bridge.store import outbox
from alert_bridge.web.app import create_app
from alert_bridge.web.dashboard import sparklines
from alert_bridge.web.dashboard.levels import level_of, page_levels
from tests.support.bridge import TOKEN, Clock, alert, make_config, webhook
from tests.support.exposition import exposition_server
from tests.support.procs import free_port
from tradewatch.config import parse_config

PASSWORD = "correct horse battery"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dashboard"
EVIL = "<script>alert('x')</script>"


def _app(tmp_path: Path, **bridge: Any) -> Flask:
    cfg = make_config(tmp_path, bridge={"api_token": TOKEN, "dashboard_password": PASSWORD, **bridge})
    app = create_app(cfg, clock=Clock())
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    application = _app(tmp_path)
    yield application
    application.extensions["tradewatch"].db.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _login(client: FlaskClient, password: str = PASSWORD) -> Any:
    return client.post("/api/auth/login", json={"password": password})


def _fire(client: FlaskClient, *alerts: dict[str, Any]) -> None:
    resp = client.post("/api/monitoring/webhook", json=webhook(*alerts),
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200, resp.json


def test_page_escapes_alert_labels(client: FlaskClient) -> None:
    _fire(client, alert(EVIL, severity="critical", instance=f"{EVIL}:9100"))
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    # the critical alert is shown with a word, the pulsing indicator and an acknowledge button
    assert 'class="urgent pulsing"' in html
    assert "Critical</span>" in html
    assert re.search(r'<button type="button" class="ack" data-alert-id="\d+"', html)


def test_page_has_a_strict_csp_and_no_inline_script(client: FlaskClient) -> None:
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    html = resp.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(" src=" in s for s in scripts)
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers are blocked by the CSP"
    assert " style=" not in html
    for name in ("dashboard.js", "dashboard.css"):
        static = client.get(f"/dashboard/static/{name}")
        assert static.status_code == 200
        static.close()


def test_secrets_never_rendered(client: FlaskClient) -> None:
    for html in (client.get("/").get_data(as_text=True),
                 (_login(client), client.get("/"))[1].get_data(as_text=True)):
        assert TOKEN not in html and PASSWORD not in html


def test_login_sets_session_and_csrf_token(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'data-logged-in="false"' in page and 'data-csrf=""' in page
    resp = _login(client)
    assert resp.status_code == 200 and resp.json["authenticated"] is True
    token = resp.json["csrf_token"]
    assert token
    page = client.get("/").get_data(as_text=True)
    assert 'data-logged-in="true"' in page
    assert f'data-csrf="{token}"' in page
    # the session acts only with its CSRF token
    assert client.post("/api/monitoring/stop", json={"duration": "10m"}).status_code == 403
    ok = client.post("/api/monitoring/stop", json={"duration": "10m"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json["paused"]["until"]
    assert "Paused until" in client.get("/").get_data(as_text=True)


def test_login_with_api_token_also_works(client: FlaskClient) -> None:
    assert _login(client, TOKEN).status_code == 200


def test_wrong_password_refused(client: FlaskClient) -> None:
    resp = _login(client, "not the password")
    assert resp.status_code == 401
    assert resp.json["error"] == "unauthorized"
    page = client.get("/").get_data(as_text=True)
    assert 'data-logged-in="false"' in page
    assert client.post("/api/monitoring/stop", json={"duration": "10m"}).status_code == 401


def test_beyond_loopback_reading_needs_login_unless_read_open(tmp_path: Path) -> None:
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    app = _app(tmp_path / "closed")
    try:
        client = app.test_client()
        resp = client.get("/", environ_base=remote)
        assert resp.status_code == 401
        html = resp.get_data(as_text=True)
        assert 'id="login-form"' in html and "Active alerts" not in html
        assert "Content-Security-Policy" in resp.headers
        assert client.get("/api/monitoring/sparklines", environ_base=remote).status_code == 401
        assert client.get("/api/monitoring/notifications", environ_base=remote).status_code == 401
        login = client.post("/api/auth/login", json={"password": PASSWORD}, environ_base=remote)
        assert login.status_code == 200
        assert client.get("/", environ_base=remote).status_code == 200
    finally:
        app.extensions["tradewatch"].db.close()
    app = _app(tmp_path / "open", read_open=True)
    try:
        resp = app.test_client().get("/", environ_base=remote)
        assert resp.status_code == 200 and "Active alerts" in resp.get_data(as_text=True)
    finally:
        app.extensions["tradewatch"].db.close()


def test_sparklines_fall_back_to_exporter_when_prometheus_is_down(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with exposition_server((FIXTURES / "exporter.prom").read_text()) as exporter_url:
        app = _app(tmp_path, prometheus_url=dead, exporter_url=exporter_url)
        try:
            client = app.test_client()
            resp = client.get("/api/monitoring/sparklines")
            assert resp.status_code == 200, resp.json
            data = resp.json
            page = client.get("/").get_data(as_text=True)
        finally:
            app.extensions["tradewatch"].db.close()
    assert data["source"] == "exporter"
    assert dead in data["errors"]["prometheus"]
    (instance, host), = data["hosts"].items()
    assert instance == exporter_url.split("/")[2]
    assert host["memory"]["current"] == pytest.approx(0.75)
    assert len(host["memory"]["points"]) == 1
    assert host["cpu"] == {"current": None, "points": []}  # a rate needs two scrapes: Prometheus
    mounts = {f["mountpoint"]: f["current"] for f in host["filesystems"]}
    assert mounts == {"/": pytest.approx(0.75), "/data": pytest.approx(0.25)}
    assert "Current values from the exporter" in page
    assert 'data-mount="/data"' in page and "75.0%" in page


def test_sparklines_without_any_source_is_a_503(client: FlaskClient) -> None:
    resp = client.get("/api/monitoring/sparklines")
    assert resp.status_code == 503
    assert resp.json["error"] == "no metrics source reachable"
    assert "exporter" in resp.json["detail"]
    assert "No metrics source answered" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("window", ["soon", "10s", "2d"])
def test_bad_window_is_a_400(client: FlaskClient, window: str) -> None:
    resp = client.get(f"/api/monitoring/sparklines?window={window}")
    assert resp.status_code == 400 and "window" in resp.json["error"]


class FakeRangeAPI:
    """query_range answers per expression (the logic under test is the merge, not HTTP)."""

    def __init__(self, answers: dict[str, list[dict[str, Any]]],
                 instant: dict[str, list[dict[str, Any]]] | None = None):
        self.answers, self.instant, self.calls = answers, instant or {}, []

    def query(self, expr: str, time: float | None = None) -> list[dict[str, Any]]:
        return self.instant.get(expr, [])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        self.calls.append((expr, start, end, step))
        return self.answers.get(expr, [])


def test_rule_and_raw_series_join_into_one_line() -> None:
    raw = {"metric": {"instance": "h:9184", "job": "exporter"}, "values": [[100, "0.5"], [110, "0.6"]]}
    rec = {"metric": {"__name__": "instance:node_cpu_utilisation:rate5m", "instance": "h:9184",
                      "job": "exporter"}, "values": [[120, "0.7"], [130, "NaN"], [140, "0.8"]]}
    fs_raw = {"metric": {"instance": "h:9184", "mountpoint": "/", "device": "sda"}, "values": [[100, "0.1"]]}
    fs_rec = {"metric": {"__name__": "x", "instance": "h:9184", "mountpoint": "/", "device": "sda"},
              "values": [[110, "0.2"]]}
    api = FakeRangeAPI({sparklines.HOST_QUERIES["cpu"]: [raw, rec],
                        sparklines.FILESYSTEM_QUERY: [fs_raw, fs_rec]})
    data = sparklines.collect("", "", window=600, now=1000.0, api=api)  # type: ignore[arg-type]
    assert data["source"] == "prometheus"
    cpu = data["hosts"]["h:9184"]["cpu"]
    assert cpu["points"] == [[100, 0.5], [110, 0.6], [120, 0.7], [140, 0.8]]
    assert cpu["current"] == 0.8
    (fs,) = data["hosts"]["h:9184"]["filesystems"]
    assert fs["points"] == [[100, 0.1], [110, 0.2]] and fs["mountpoint"] == "/"
    assert data["hosts"]["h:9184"]["memory"] == {"current": None, "points": []}
    assert {(c[1], c[2], c[3]) for c in api.calls} == {(400.0, 1000.0, 5.0)}  # 120 points over the window
    assert data["hosts"]["h:9184"]["nodename"] is None  # no node_uname_info: the card shows the address


def test_hosts_are_named_by_node_uname_info() -> None:
    raw = {"metric": {"instance": "h:9184", "job": "exporter"}, "values": [[100, "0.5"]]}
    uname = {"metric": {"__name__": "node_uname_info", "instance": "h:9184", "job": "exporter",
                        "nodename": "trader-1"}, "value": [1000, "1"]}
    api = FakeRangeAPI({sparklines.HOST_QUERIES["cpu"]: [raw]}, {"node_uname_info": [uname]})
    data = sparklines.collect("", "", window=600, now=1000.0, api=api)  # type: ignore[arg-type]
    assert data["hosts"]["h:9184"]["nodename"] == "trader-1"


@pytest.mark.parametrize(("ratio", "level"), [
    (None, None), (0.5, None), (0.80, None), (0.8001, "warning"), (0.94, "critical"), (0.98, "emergency"),
    (1.0, "emergency"),
])
def test_values_take_the_level_they_are_above(ratio: float | None, level: str | None) -> None:
    levels = page_levels(parse_config({"thresholds": {"disk_percent": {"warning": 80, "critical": 90,
                                                                        "emergency": 97}}}).thresholds)
    assert level_of(ratio, levels["filesystem"]) == level


def test_notifications_listing_hides_message_bodies(app: Flask, client: FlaskClient) -> None:
    db = app.extensions["tradewatch"].db
    with db.transaction() as conn:
        outbox.enqueue(conn, "test", ["a@example.com", "b@example.com"], {"note": "hello"},
                       raw=b"Subject: secret body", now=1_800_000_000.0)
    resp = client.get("/api/monitoring/notifications?limit=5")
    assert resp.status_code == 200
    (n,) = resp.json["notifications"]
    assert n["kind"] == "test" and n["status"] == "pending" and n["recipients"] == 2
    assert "context" not in n and "raw" not in n and "secret body" not in resp.get_data(as_text=True)
    assert resp.json["stats"]["depth"] == 1
    assert client.get("/api/monitoring/notifications?limit=0").status_code == 400


def test_openapi_describes_the_dashboard_endpoints(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"/", "/api/monitoring/sparklines", "/api/monitoring/notifications"} <= set(paths)


def test_every_notification_kind_is_listed_with_its_email_subject(app: Flask, client: FlaskClient) -> None:
    """Issue 14.20: test and report rows used to list "subject": ""."""
    db = app.extensions["tradewatch"].db
    alert = {"alertname": "HostFilesystemFull", "instance": "127.0.0.1:9184", "severity": "critical",
             "labels": {"alertname": "HostFilesystemFull", "mountpoint": "/data", "nodename": "web-1"}}
    with db.transaction() as conn:
        outbox.enqueue(conn, "test", ["a@example.com"], {"note": "hi"}, now=1_800_000_000.0)
        report = {"report_date": "2026-12-05", "subject": "[TradeWatch] Daily report 2026-12-05: 97/100 (A)"}
        outbox.enqueue(conn, "report", ["a@example.com"], report, raw=b"Subject: x", now=1_800_000_001.0)
        outbox.enqueue(conn, "firing", ["a@example.com"], {"alert": alert}, now=1_800_000_002.0)
        outbox.enqueue(conn, "watchdog", ["a@example.com"], {"timeout_seconds": 300}, now=1_800_000_003.0)
    listed = client.get("/api/monitoring/notifications").json["notifications"]
    subjects = {n["kind"]: n["subject"] for n in listed}
    assert subjects == {
        "test": "[TEST] TradeWatch test email",
        "report": "[TradeWatch] Daily report 2026-12-05: 97/100 (A)",
        "firing": "[CRITICAL] HostFilesystemFull /data on web-1",
        "watchdog": "[PIPELINE BROKEN] No Watchdog heartbeat from Alertmanager for over 5m",
    }


BOT_EXPOSITION = f"""# TYPE trading_realized_pnl gauge
trading_realized_pnl{{bot="{EVIL}"}} 12.06
trading_realized_pnl{{bot="main"}} -3.5
# TYPE trading_equity gauge
trading_equity{{bot="main"}} 10012.5
# TYPE trading_orders_total counter
trading_orders_total{{bot="main",status="submitted"}} 40
trading_orders_total{{bot="main",status="rejected"}} 4
# TYPE trading_exchange_requests_total counter
trading_exchange_requests_total{{bot="main",exchange="binance",code="200"}} 90
trading_exchange_requests_total{{bot="main",exchange="binance",code="429"}} 10
# TYPE trading_heartbeat_timestamp_seconds gauge
trading_heartbeat_timestamp_seconds{{bot="main"}} 1.0
"""


def test_trading_cards_from_the_bots_metrics_when_prometheus_is_down(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with exposition_server(BOT_EXPOSITION) as bot_url:
        app = _app(tmp_path, prometheus_url=dead, exporter_url="", bot_urls=[bot_url])
        try:
            client = app.test_client()
            resp = client.get("/api/monitoring/trading")
            page = client.get("/").get_data(as_text=True)
        finally:
            app.extensions["tradewatch"].db.close()
    assert resp.status_code == 200, resp.json
    data = resp.json
    assert data["source"] == "exporter" and dead in data["errors"]["prometheus"]
    bots = {b["name"]: b for b in data["bots"]}
    assert set(bots) == {EVIL, "main"}
    main = bots["main"]
    now = data["generated_at_epoch"]
    assert main["realized_pnl"] == {"current": -3.5, "today": None, "points": [[now, -3.5]]}
    assert main["heartbeat"]["level"] == "critical"  # a heartbeat from 1970 is older than 2m
    assert main["rejection_ratio"]["value"] is None  # no change between the two scrapes: no rate
    assert "Current values from the bots" in page
    assert EVIL not in page and "&lt;script&gt;" in page


def test_trading_without_any_source_is_a_503(client: FlaskClient) -> None:
    resp = client.get("/api/monitoring/trading")
    assert resp.status_code == 503
    assert resp.json["error"] == "no metrics source reachable"
    assert "No trading bot found" in client.get("/").get_data(as_text=True)


def test_silences_without_an_alertmanager_say_so(client: FlaskClient) -> None:
    resp = client.get("/api/monitoring/silences")
    assert resp.status_code == 200 and resp.json == {"silences": [], "configured": False}
    resp = client.post("/api/monitoring/silences/abc/expire", json={},
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 409 and "alertmanager_url" in resp.json["detail"]
    assert "No Alertmanager configured" in client.get("/").get_data(as_text=True)


def test_the_health_card_is_capped_by_what_fires_now(app: Flask, client: FlaskClient) -> None:
    """The card shows the score stored by the last refresh (every few minutes): an emergency that
    fired since caps it at once (issue 14.7: "99 Excellent" with an urgent alert firing)."""
    from alert_bridge.reports import send

    b = app.extensions["tradewatch"]
    state = send.refresh_health_state(b.config, b.db, now=b.clock(), force=True)
    assert state is not None and state["score"]["grade"] == "Excellent"

    def card() -> tuple[str, str]:
        page = client.get("/").get_data(as_text=True)
        score = re.search(r'id="health-score">([^<]*)<', page)
        grade = re.search(r'id="health-grade">([^<]*)<', page)
        assert score and grade
        return score.group(1), grade.group(1)

    assert card() == ("100", "Excellent")
    _fire(client, alert("HostFilesystemFull", severity="emergency", mountpoint="/data"))
    # 59.9, the emergency cap: the whole number is floored, never shown as a "60" graded Poor
    assert card() == ("59", "Poor")
    assert send.load_health_state(b.db)["score"]["grade"] == "Excellent"  # the stored one is untouched


def test_a_bot_seen_before_is_down_not_not_found(tmp_path: Path) -> None:
    """Issue 14: a frozen bot read "No trading bot found". Here no source answers at all (the
    bot's /metrics is gone): the bot the bridge saw before is listed as down since it was last
    seen, by name; a bridge that never saw a bot still says none was found."""
    from alert_bridge.store import jobs
    from alert_bridge.web.dashboard import views

    app = _app(tmp_path / "a", bot_urls=["http://127.0.0.1:1/metrics"])
    b = app.extensions["tradewatch"]
    try:
        client = app.test_client()
        page = client.get("/").get_data(as_text=True)
        assert "No trading bot found" in page and "bot-down" not in page
        seen = {"/127.0.0.1:1/main": {"job": "", "instance": "127.0.0.1:1", "bot": "main", "name": "main",
                                      "last_seen": 1_780_000_000.0}}
        with b.db.transaction() as conn:
            jobs.set_state(conn, views.BOTS_SEEN_STATE, json.dumps(seen))
        page = client.get("/").get_data(as_text=True)
        assert "No trading bot found" not in page
        card = re.search(r'<article class="card bot bot-down"[^>]*data-status="down">(.*?)</article>', page,
                         re.S)
        assert card, page
        assert "<h3>main</h3>" in card.group(1)
        assert 'Down</strong> since <time datetime="2026-05-28T20:26:40Z">' in card.group(1)
    finally:
        b.db.close()
