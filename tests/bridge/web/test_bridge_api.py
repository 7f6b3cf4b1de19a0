"""Control and status API: alerts listing, ack, pause/resume with summary, test email, health, metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alert_bridge.web.app import create_app
from alert_bridge.web.signing import ack_token
from tests.support.bridge import TOKEN, alert, make_config, metric_value, notifications, webhook
from tests.support.exposition import exposition_server

HOOK = "/api/monitoring/webhook"


def db_path(app) -> str:
    return app.extensions["tradewatch"].db.path


def test_alerts_listing_counts_and_filters(client, clock):
    client.post(
        HOOK, json=webhook(alert("A"), alert("B", severity="warning"), alert("C", severity="emergency"))
    )
    client.post(HOOK, json=webhook(alert("A", status="resolved")))
    body = client.get("/api/monitoring/alerts").json
    assert {a["alertname"] for a in body["alerts"]} == {"A", "B", "C"}
    assert body["alerts"][-1]["alertname"] == "A"  # firing first, resolved after
    assert body["counts"] == {"info": 0, "warning": 1, "critical": 0, "emergency": 1}
    assert body["paused"] is None
    crit = client.get("/api/monitoring/alerts?severity=critical").json["alerts"]
    assert [a["alertname"] for a in crit] == ["A"] and crit[0]["status"] == "resolved"
    firing = client.get("/api/monitoring/alerts?status=firing").json["alerts"]
    assert {a["alertname"] for a in firing} == {"B", "C"}
    # resolved alerts drop out of "recent" after the window; firing ones stay
    clock.advance(25 * 3600)
    assert {a["alertname"] for a in client.get("/api/monitoring/alerts").json["alerts"]} == {"B", "C"}


@pytest.mark.parametrize("query", ["severity=loud", "status=open", "hours=-1", "limit=0", "limit=abc"])
def test_alerts_listing_rejects_bad_filters(client, query):
    resp = client.get(f"/api/monitoring/alerts?{query}")
    assert resp.status_code == 400 and resp.json["error"]


def test_ack_and_unknown_alert(client):
    client.post(HOOK, json=webhook(alert("C", severity="emergency")))
    alert_id = client.get("/api/monitoring/alerts").json["alerts"][0]["id"]
    resp = client.post(f"/api/monitoring/alerts/{alert_id}/ack", json={"comment": "on it"})
    assert resp.status_code == 200 and resp.json["alert"]["acked_at"]
    assert client.post("/api/monitoring/alerts/9999/ack").status_code == 404
    assert client.post(f"/api/monitoring/alerts/{alert_id}/ack", json={"comment": 5}).status_code == 400
    assert client.post(f"/api/monitoring/alerts/{alert_id}/ack", data="[1]").status_code == 400


def test_one_click_ack_link_needs_a_post_and_a_valid_signature(app, client):
    client.post(HOOK, json=webhook(alert("C", severity="emergency")))
    [note] = notifications(db_path(app))
    link = note["context"]["ack_url"].removeprefix("http://localhost:8080")
    page = client.get(link)
    assert page.status_code == 200 and b'<form method="post">' in page.data
    assert client.get("/api/monitoring/alerts").json["alerts"][0]["acked_at"] is None
    assert client.post(link).status_code == 200
    assert client.get("/api/monitoring/alerts").json["alerts"][0]["acked_at"] is not None
    forged = ack_token("not-the-key", note["alert_id"])
    assert client.post(f"/ack/{forged}").status_code == 404


def test_pause_holds_critical_and_resume_sends_one_summary(app, client):
    resp = client.post("/api/monitoring/stop", json={"duration": "2h", "comment": "maintenance"})
    assert resp.status_code == 200
    paused = resp.json["paused"]
    assert paused["comment"] == "maintenance" and paused["include_emergencies"] is False
    assert client.get("/api/monitoring/alerts").json["paused"]["id"] == paused["id"]
    assert metric_value(client.get("/metrics").get_data(True), "tradewatch_bridge_notifications_paused") == 1
    client.post(
        HOOK,
        json=webhook(alert("Crit"), alert("Emerg", severity="emergency"), alert("Warn", severity="warning")),
    )
    kinds = [(n["kind"], n["context"]["alert"]["alertname"]) for n in notifications(db_path(app))]
    assert kinds == [("firing", "Emerg")]  # emergencies still go out
    resumed = client.post("/api/monitoring/start").json
    assert resumed["resumed"] is True and resumed["held_alerts"] == 1
    summary = notifications(db_path(app))[-1]
    assert summary["kind"] == "pause_summary" and summary["id"] == resumed["summary_notification"]
    assert [h["alertname"] for h in summary["context"]["held"]] == ["Crit"]
    assert summary["context"]["comment"] == "maintenance"
    assert client.get("/api/monitoring/alerts").json["paused"] is None
    # resuming again is harmless
    assert client.post("/api/monitoring/start").json == {
        "resumed": False,
        "held_alerts": 0,
        "summary_notification": None,
        "silence_errors": [],
    }


def test_pause_including_emergencies_holds_them(app, client):
    client.post("/api/monitoring/stop", json={"duration": "30m", "include_emergencies": True})
    client.post(HOOK, json=webhook(alert("Emerg", severity="emergency")))
    assert notifications(db_path(app)) == []
    client.post("/api/monitoring/start")
    [summary] = notifications(db_path(app))
    assert summary["kind"] == "pause_summary"


@pytest.mark.parametrize(
    "body",
    [
        {"duration": "soon"},
        {"duration": "0s"},
        {"duration": "400d"},
        {"duration": True},
        {"include_emergencies": "yes"},
        {"comment": ["x"]},
        {"comment": "x" * 1001},
    ],
)
def test_stop_rejects_bad_input(client, body):
    resp = client.post("/api/monitoring/stop", json=body)
    assert resp.status_code == 400 and resp.json["error"]
    assert client.get("/api/monitoring/alerts").json["paused"] is None


def test_send_test_email_answers_with_the_delivery_result(app, client, config):
    resp = client.post("/api/monitoring/send-test-email", json={"note": "hello"})
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "sent" and resp.json["message_id"]
    [note] = notifications(db_path(app))
    assert note["kind"] == "test" and note["status"] == "sent" and note["context"]["note"] == "hello"
    assert list(Path(config.bridge.outbox_dir).glob("*.eml"))


def test_send_test_email_failure_is_502_with_the_reason(tmp_path, clock):
    # an SMTP server that refuses connections: nothing listens on this port
    from tests.support.procs import free_port

    cfg = make_config(
        tmp_path,
        email={"smtp_server": "127.0.0.1", "smtp_port": free_port(), "security": "none", "timeout": "2s"},
    )
    application = create_app(cfg, clock=clock)
    try:
        resp = application.test_client().post("/api/monitoring/send-test-email")
        assert resp.status_code == 502
        assert resp.json["error"] == "test email not delivered"
        assert resp.json["detail"]["status"] in ("pending", "failed") and resp.json["detail"]["error"]
    finally:
        application.extensions["tradewatch"].db.close()


def test_health_reports_each_check(client):
    body = client.get("/health")
    assert body.status_code == 503  # no worker runs in this in-process app
    checks = body.json["checks"]
    assert checks["database"] == {"ok": True, "detail": "writable"}
    assert checks["workers"]["ok"] is False and "prometheus" not in checks


def test_health_checks_configured_dependencies(tmp_path, clock):
    from tests.support.procs import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    application = create_app(
        make_config(tmp_path, bridge={"prometheus_url": dead, "alertmanager_url": dead}), clock=clock
    )
    try:
        checks = application.test_client().get("/health").json["checks"]
        assert checks["prometheus"]["ok"] is False and "unreachable" in checks["prometheus"]["detail"]
        assert checks["alertmanager"]["ok"] is False
    finally:
        application.extensions["tradewatch"].db.close()


def test_metrics_exposition_has_the_contract_names(client):
    client.post(HOOK, json=webhook(alert(), alert("W", severity="warning")))
    client.post(HOOK, json=webhook(alert()))
    client.post(HOOK, data="{")
    text = client.get("/metrics").get_data(True)
    assert metric_value(text, "tradewatch_bridge_webhooks_total", result="accepted") == 1
    assert metric_value(text, "tradewatch_bridge_webhooks_total", result="duplicate") == 1
    assert metric_value(text, "tradewatch_bridge_webhooks_total", result="invalid") == 1
    assert (
        metric_value(text, "tradewatch_bridge_alerts_received_total", severity="critical", status="firing")
        == 1
    )
    assert (
        metric_value(text, "tradewatch_bridge_alerts_received_total", severity="warning", status="firing")
        == 1
    )
    assert metric_value(text, "tradewatch_bridge_outbox_depth") == 1
    assert metric_value(text, "tradewatch_bridge_emails_total", result="sent") == 0
    assert metric_value(text, "tradewatch_bridge_outbox_oldest_age_seconds") == 0


EXPOSITION = """# TYPE node_memory_MemTotal_bytes gauge
node_memory_MemTotal_bytes 1000
# TYPE node_memory_MemAvailable_bytes gauge
node_memory_MemAvailable_bytes 250
# TYPE node_load1 gauge
node_load1 0.5
# TYPE node_filesystem_size_bytes gauge
node_filesystem_size_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 200
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 50
"""


def test_current_metrics_fall_back_to_the_exporter(tmp_path, clock):
    from tests.support.procs import free_port

    with exposition_server(EXPOSITION) as url:
        cfg = make_config(
            tmp_path, bridge={"prometheus_url": f"http://127.0.0.1:{free_port()}", "exporter_url": url}
        )
        application = create_app(cfg, clock=clock)
        try:
            body = application.test_client().get("/api/monitoring/metrics").json
        finally:
            application.extensions["tradewatch"].db.close()
    assert body["source"] == "exporter" and "prometheus" in body["errors"]
    [host] = body["hosts"].values()
    assert host["memory_percent"] == 75.0 and host["load1"] == 0.5 and host["cpu_percent"] is None
    assert host["filesystems"] == [{"mountpoint": "/", "device": "/dev/sda1", "used_percent": 75.0}]


def test_current_metrics_without_any_source_is_503(client):
    resp = client.get("/api/monitoring/metrics")
    assert resp.status_code == 503 and resp.json["error"] == "no metrics source reachable"


def test_unknown_route_is_json_404(client):
    resp = client.get("/api/nothing-here")
    assert resp.status_code == 404 and resp.json == {"error": "not found", "detail": resp.json["detail"]}


def _routed(app) -> set[tuple[str, str]]:
    """(path in OpenAPI spelling, method) for every route but static files; HEAD/OPTIONS are Flask's."""
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[-1] == "static":
            continue
        path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
        out |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return out


def test_openapi_documents_exactly_the_routes_and_methods(app, client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    routed = _routed(app)
    assert routed - documented == set(), "routed but not documented"
    assert documented - routed == set(), "documented but not routed"
    assert ("/ack/{token}", "get") in documented and ("/ack/{token}", "post") in documented


def test_openapi_describes_auth_bodies_and_errors(client):
    spec = client.get("/api/openapi.json").json
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    stop = paths["/api/monitoring/stop"]["post"]
    # this bridge has no api_token: loopback may write without credentials, and the document says so
    assert {} in stop["security"] and "loopback" in stop["description"]
    assert set(stop["responses"]) == {"200", "400", "401", "403", "413", "503"}
    assert stop["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    body = schemas["StopRequest"]
    assert body["additionalProperties"] is False and "pattern" in body["properties"]["duration"]
    reads = [paths[p]["get"] for p in ("/api/monitoring/alerts", "/api/monitoring/sparklines",
                                       "/api/monitoring/notifications", "/api/monitoring/health-score")]
    assert all({} in op["security"] and "loopback" in op["description"] for op in reads)
    hook = paths["/api/monitoring/webhook"]["post"]
    assert hook["requestBody"]["required"] is True
    assert schemas["WebhookPayload"]["required"] == ["version", "status", "receiver", "alerts"]
    assert "security" not in paths["/health"]["get"]
    assert set(paths["/api/monitoring/reports/daily"]["get"]["responses"]["200"]["content"]) == {
        "text/html", "text/plain"}
    assert paths["/api/monitoring/alerts"]["get"]["parameters"][0]["schema"]["anyOf"][0]["enum"] == [
        "info", "warning", "critical", "emergency"]


def test_openapi_with_a_token_requires_it_for_writes(make_app):
    paths = make_app(bridge={"api_token": TOKEN}).test_client().get("/api/openapi.json").json["paths"]
    assert paths["/api/monitoring/stop"]["post"]["security"] == [{"bearer": []}, {"session": [], "csrf": []}]
    assert paths["/api/monitoring/webhook"]["post"]["security"] == [{"bearer": []}]
    assert {} in paths["/api/monitoring/alerts"]["get"]["security"]  # loopback still reads


def test_api_docs_page_and_its_assets_are_served_locally(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/api/docs/assets/[^"]+)"', html)
    assert len(assets) == 4 and "http" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', html)).replace(
        "/api/openapi.json", "")
    for path in assets:
        resp = client.get(path)
        assert resp.status_code == 200 and resp.mimetype in ("text/css", "text/javascript"), path
    assert b"SwaggerUIBundle" in client.get("/api/docs/assets/swagger-ui-bundle.js").data
    assert client.get("/api/docs/assets/other.js").status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/monitoring/alerts?severity=",
        "/api/monitoring/alerts?hours=nan",
        "/api/monitoring/sparklines?window=,",
        "/api/monitoring/sparklines?window=25h",
        "/api/monitoring/health-score?window=,",
        "/api/monitoring/health-score?window=1h30m",
        "/api/monitoring/reports/daily?format=null",
        "/api/monitoring/notifications?limit=201",
        "/?window=0s",
    ],
)
def test_query_values_the_document_refuses_are_400(client, path):
    resp = client.get(path)
    assert resp.status_code == 400, path
    assert resp.json["detail"]["problems"] and resp.json["error"].startswith("invalid query: ")


def test_stop_error_names_the_field(client):
    resp = client.post("/api/monitoring/stop", json={"duration": "31d"})
    assert resp.json["error"] == "invalid request body: duration"
    assert "from 1s to 30d" in resp.json["detail"]["message"]
