"""Hostile webhook bodies (issue 13.4): every malformed body gets a 4xx with the JSON error shape,
never a 5xx; the bridge stays up and stores valid payloads sent afterwards.

A property-based test (hypothesis) puts hostile JSON fragments into every field of a valid
Alertmanager payload: deep nesting, huge numbers, lone surrogates and control characters, extreme
and odd dates, wrong types. The real process gets the cases that were 500s on bc6b3c5.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alert_bridge.web.app import create_app
from tests.support.bridge import Clock, alert, alert_rows, bridge_process, config_data, make_config, webhook
from tests.support.procs import wait_until

HOOK = "/api/monitoring/webhook"


@pytest.fixture
def hostile(tmp_path):
    """A bridge app (no token: loopback test client) and its config."""
    config = make_config(tmp_path)
    app = create_app(config, clock=Clock())
    try:
        yield app.test_client(), config
    finally:
        app.extensions["tradewatch"].db.close()


def template() -> str:
    """A valid payload as JSON text with one placeholder per field the fragments go into."""
    a = alert("HostileTest", severity="critical", fingerprint="fp-hostile")
    body = webhook(a)
    body["extra"] = 0
    return json.dumps(body)


FIELDS = [
    '"version": "4"', '"status": "firing"', '"receiver": "tradewatch-bridge"', '"truncatedAlerts": 0',
    '"extra": 0', '"alertname": "HostileTest"', '"startsAt": "2026-11-25T01:40:00.123456789Z"',
    '"endsAt": "0001-01-01T00:00:00Z"', '"fingerprint": "fp-hostile"', '"severity": "critical"',
    '"summary": "HostileTest on web-1:9184"', '"groupKey": "{}:{alertname=\\"x\\"}"',
]

deep = st.integers(900, 3000).flatmap(
    lambda n: st.sampled_from(["[" * n + "]" * n, '{"a":' * n + "1" + "}" * n]))
huge = st.one_of(st.integers(4301, 8000).map(lambda n: "9" * n), st.sampled_from(
    ["1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1" + "0" * 400, "0." + "0" * 5000 + "1"]))
surrogate = st.sampled_from(
    ['"\\ud800"', '"S\\ud800"', '"\\udfff x"', '"\\udc00\\ud800"', '"ok \\ud83d\\ude00"'])
controls = st.text(st.characters(max_codepoint=0x9F, exclude_categories=("Cs",)), max_size=40).map(json.dumps)
date = st.builds(
    lambda y, mo, d, h, mi, s, tz, t, frac: json.dumps(
        f"{y:04d}-{mo:02d}-{d:02d}{t}{h:02d}:{mi:02d}:{s:02d}{frac}{tz}"),
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 60),
    st.integers(0, 61),
    st.sampled_from(["Z", "z", "+00:00", "-01:00", "+01:00", "+23:59", "-23:59", "", "+24:00"]),
    st.sampled_from(["T", "t", " "]), st.sampled_from(["", ".123", ".123456789", ".1234567891234"]),
)
odd_dates = st.sampled_from([json.dumps(s) for s in (
    "9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+01:00", "2026-11-25t01:40:00z", "", "now",
    "2026-02-30T00:00:00Z", "2026-11-25T01:40:00", "1e9", "2026-11-25T01:40:00+99:99")])
wrong_type = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
).map(json.dumps)
fragment = st.one_of(deep, huge, surrogate, controls, date, odd_dates, wrong_type)


def hostile_body(field: str, value: str) -> bytes:
    key = field.split(":", 1)[0]
    return template().replace(field, f"{key}: {value}", 1).encode("utf-8", "surrogatepass")


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=fragment)
def test_hostile_fields_never_get_a_server_error(hostile, field, value):
    client, _ = hostile
    resp = client.post(HOOK, data=hostile_body(field, value), content_type="application/json")
    assert resp.status_code < 500, (field, value[:200], resp.status_code, resp.get_data()[:300])
    if resp.status_code >= 400:
        assert set(resp.json) == {"error", "detail"}, resp.json
        assert resp.json["error"]


def test_valid_payloads_after_hostile_ones_are_stored(hostile):
    client, config = hostile
    for value in ('"S\\ud800"', "9" * 5000, "[" * 2000 + "]" * 2000):
        resp = client.post(HOOK, data=hostile_body('"extra": 0', value), content_type="application/json")
        assert resp.status_code == 400
    ok = client.post(HOOK, json=webhook(alert("AfterHostile", fingerprint="fp-after")))
    assert ok.status_code == 200, ok.json
    assert any(r["alertname"] == "AfterHostile" for r in alert_rows(config.bridge.database))


# The bodies that got 500 on bc6b3c5, and the lowercase z that got 400, against the real process.
CASES_400 = {
    "deep nesting": hostile_body('"extra": 0', "[" * 1000 + "]" * 1000),
    "5,000 digits": hostile_body('"truncatedAlerts": 0', "9" * 5000),
    "lone surrogate": hostile_body('"alertname": "HostileTest"', '"S\\ud800"'),
    "year 9999 west of UTC": hostile_body('"startsAt": "2026-11-25T01:40:00.123456789Z"',
                                          '"9999-12-31T23:59:59-01:00"'),
    "year 1 east of UTC": hostile_body('"endsAt": "0001-01-01T00:00:00Z"', '"0001-01-01T00:30:00+01:00"'),
}


@pytest.mark.integration
def test_the_real_bridge_answers_4xx_and_stays_up(tmp_path):
    with bridge_process(tmp_path, config_data(tmp_path)) as bridge:
        import urllib.error
        import urllib.request

        for name, body in CASES_400.items():
            req = urllib.request.Request(bridge.url + HOOK, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    status, payload = resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                status, payload = exc.code, json.loads(exc.read())
                exc.close()
            assert status == 400, (name, status, payload)
            assert set(payload) == {"error", "detail"}
        lower_z = webhook(alert("LowerZ", starts_at="2026-11-25t01:40:00.5z", fingerprint="fp-lower-z"))
        assert bridge.request("POST", HOOK, lower_z)[0] == 200
        wait_until(lambda: bridge.request("GET", "/health")[0] == 200, 20, what="/health 200")
        assert bridge.request("POST", HOOK, webhook(alert("AfterHostile", fingerprint="fp-after")))[0] == 200
        names = {r["alertname"] for r in alert_rows(bridge.db_path)}
    assert {"LowerZ", "AfterHostile"} <= names
