"""Alertmanager webhook v4 validation: what is accepted, and errors that name the field."""

from __future__ import annotations

import json

import pytest

from alert_bridge.alerts.payload import PayloadError, iso, parse_webhook
from tests.support.bridge import alert, webhook


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def fields(exc: PayloadError) -> list[str]:
    return [p["field"] for p in exc.problems]


def test_valid_payload_with_extra_fields_is_accepted():
    data = webhook(alert(), alert("Disk", severity="emergency", status="resolved"))
    data["someFutureField"] = {"x": 1}
    data["alerts"][0]["silencedBy"] = []
    p = parse_webhook(body(data))
    assert p.version == "4" and p.truncatedAlerts == 0 and p.groupKey
    assert [a.status for a in p.alerts] == ["firing", "resolved"]
    assert p.alerts[0].ends is None  # 0001-01-01 means "no end"
    assert p.alerts[1].ends is not None


def test_nanosecond_times_normalise_to_one_key():
    a = parse_webhook(body(webhook(alert(starts_at="2026-11-25T01:40:00.123456789Z")))).alerts[0]
    b = parse_webhook(body(webhook(alert(starts_at="2026-11-25T03:40:00.123456+02:00")))).alerts[0]
    assert iso(a.startsAt) == iso(b.startsAt) == "2026-11-25T01:40:00.123456Z"


@pytest.mark.parametrize("missing", ["version", "status", "receiver", "alerts"])
def test_missing_top_level_field_is_named(missing):
    data = webhook(alert())
    del data[missing]
    with pytest.raises(PayloadError) as exc:
        parse_webhook(body(data))
    assert missing in fields(exc.value)
    assert exc.value.problems[0]["problem"] == "required field is missing"


@pytest.mark.parametrize("missing", ["status", "labels", "startsAt", "fingerprint"])
def test_missing_alert_field_names_its_path(missing):
    data = webhook(alert(), alert("Other"))
    del data["alerts"][1][missing]
    with pytest.raises(PayloadError) as exc:
        parse_webhook(body(data))
    assert f"alerts[1].{missing}" in fields(exc.value)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(version="3"), "version"),
        (lambda d: d.update(version=4), "version"),
        (lambda d: d.update(status="pending"), "status"),
        (lambda d: d.update(alerts={"a": 1}), "alerts"),
        (lambda d: d.update(commonLabels=["x"]), "commonLabels"),
        (lambda d: d["alerts"][0].update(status="ok"), "alerts[0].status"),
        (lambda d: d["alerts"][0].update(startsAt="yesterday"), "alerts[0].startsAt"),
        (lambda d: d["alerts"][0].update(startsAt=1700000000), "alerts[0].startsAt"),
        (lambda d: d["alerts"][0].update(startsAt="2026-11-25T01:40:00"), "alerts[0].startsAt"),
        (lambda d: d["alerts"][0].update(fingerprint=""), "alerts[0].fingerprint"),
        (lambda d: d["alerts"][0].update(fingerprint=123), "alerts[0].fingerprint"),
        (lambda d: d["alerts"][0]["labels"].update(severity=5), "alerts[0].labels.severity"),
        (lambda d: d["alerts"][0]["labels"].pop("alertname"), "alerts[0].labels"),
        (lambda d: d["alerts"][0].update(annotations="text"), "alerts[0].annotations"),
    ],
)
def test_wrong_types_and_values_name_the_field(mutate, field):
    data = webhook(alert())
    mutate(data)
    with pytest.raises(PayloadError) as exc:
        parse_webhook(body(data))
    assert field in fields(exc.value), exc.value.problems
    assert str(exc.value).startswith(exc.value.problems[0]["field"])


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"[]", b"null", b'"text"'])
def test_not_a_json_object(raw):
    with pytest.raises(PayloadError) as exc:
        parse_webhook(raw)
    assert fields(exc.value) == ["(body)"]


def test_empty_alert_list_is_valid():
    assert parse_webhook(body(webhook())).alerts == []
