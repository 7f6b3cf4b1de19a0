"""Subjects name what tells alerts apart and the host's name (issues 14.12, 14.13); resolved emails
say when and how long, not the firing text (14.15)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

from alert_bridge.notify.compose import compose
from tests.support.notify import alert_context, body, email_config

NOW = datetime(2026, 11, 25, 1, 58, 30, tzinfo=UTC)


def disk(mount: str, **changes):
    labels = {"alertname": "HostFilesystemFull", "mountpoint": mount, "nodename": "web-1",
              "instance": "127.0.0.1:9184", "device": "/dev/sda1"}
    return alert_context(alertname="HostFilesystemFull", instance="127.0.0.1:9184", labels=labels,
                         annotations={"summary": f"{mount} is 97% full", "description": "2 GB left",
                                      "value": "97%"}, **changes)


def render(kind: str, ctx) -> email.message.EmailMessage:
    msg = compose(kind, ctx, email_config(), now=NOW)
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


def test_disk_subjects_name_the_mount_and_the_host_name():
    assert render("firing", disk("/data"))["Subject"] == "[CRITICAL] HostFilesystemFull /data on web-1"
    assert render("firing", disk("/tmp/a"))["Subject"] != render("firing", disk("/tmp/b"))["Subject"]


def test_the_address_is_detail_beside_the_host_name():
    msg = render("firing", disk("/data"))
    assert "Host:       web-1 (127.0.0.1:9184)" in body(msg, "plain")
    assert "web-1</strong> (127.0.0.1:9184)" in body(msg, "html")


def test_probe_and_bot_alerts_name_what_they_are_about():
    probe = alert_context(alertname="ProbeDown", labels={"alertname": "ProbeDown", "probe": "exchange-api"})
    assert render("firing", probe)["Subject"] == "[CRITICAL] ProbeDown exchange-api on web-1:9184"
    labels = {"alertname": "BotDown", "bot": "main", "nodename": "vps-3"}
    bot = alert_context(alertname="BotDown", labels=labels)
    assert render("firing", bot)["Subject"] == "[CRITICAL] BotDown main on vps-3"


def test_resolved_emails_say_when_and_how_long_not_the_firing_text():
    ctx = disk("/data", status="resolved", ends_at="2026-11-25T01:55:00Z")
    msg = render("resolved", ctx)
    assert msg["Subject"] == "[RESOLVED] HostFilesystemFull /data on web-1"
    for part in ("plain", "html"):
        text = body(msg, part)
        assert "Resolved at 2026-11-25 01:55:00 UTC, after lasting 15m" in text
        assert "/data is 97% full" not in text and "2 GB left" not in text and "97%" not in text
