"""Push messages for a phone: what they say, escaping of hostile labels, service length limits."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from alert_bridge.notify import push_message as pm

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script> *bold* _it_ [x](javascript:evil) `code` <a href="http://evil">'


def context(status: str = "firing", severity: str = "critical", **labels: str) -> dict:
    return {
        "alert": {
            "id": 7, "fingerprint": "abc", "alertname": "DiskAlmostFull", "status": status,
            "severity": severity, "category": "system", "instance": "10.0.0.5:9184",
            "labels": {"mountpoint": "/data", "nodename": "web-1", "severity": severity, **labels},
            "annotations": {"summary": "Disk /data is 93% full", "description": "Only 7 GB left."},
            "starts_at": "2026-12-05T07:00:00Z",
            "ends_at": "2026-12-05T07:42:00Z" if status == "resolved" else None,
            "generator_url": "",
        },
        "severity_assumed": False, "repeat": 2,
        "ack_url": "http://localhost:8080/api/monitoring/alerts/7/ack?sig=s",
        "dashboard_url": "http://localhost:8080/",
    }


def render(kind: str = "firing", ctx: dict | None = None, **kw) -> pm.PushMessage:
    return pm.render(kind, context() if ctx is None else ctx, now=NOW, **kw)


def test_firing_names_severity_alert_label_host_value_duration_and_links() -> None:
    m = render()
    assert m.title == "\U0001f534 CRITICAL: DiskAlmostFull /data on web-1"
    assert m.notify_type == "failure"
    for part in ("Disk /data is 93% full", "web-1 (10.0.0.5:9184)", "1h (since 2026-12-05 07:00:00 UTC)",
                 "Acknowledge: http://localhost:8080/api/monitoring/alerts/7/ack?sig=s",
                 "Dashboard: http://localhost:8080/"):
        assert part in m.body


def test_resolved_says_so_and_how_long_without_an_ack_link() -> None:
    m = render("resolved", context("resolved"))
    assert m.title.startswith("\u2705 RESOLVED: DiskAlmostFull /data on web-1")
    assert m.notify_type == "success"
    assert "resolved after 42m" in m.body and "Acknowledge" not in m.body


def test_emergency_repeat_says_which_reminder() -> None:
    m = render("emergency_repeat", context(severity="emergency"))
    assert m.title.startswith("\U0001f6a8 EMERGENCY: ") and "(reminder 2, not acknowledged)" in m.title


def test_warning_has_no_ack_link_and_a_warning_colour() -> None:
    m = render(ctx=context(severity="warning"))
    assert m.notify_type == "warning" and "Acknowledge" not in m.body


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_hostile_label_values_are_escaped(fmt: str) -> None:
    ctx = context(mountpoint=HOSTILE, nodename=HOSTILE)
    ctx["alert"]["annotations"]["summary"] = HOSTILE
    m = render(ctx=ctx, fmt=fmt)
    assert m.body_format == fmt
    for text in (m.title, m.body):
        assert "<script>" not in text and '<a href="http://evil">' not in text
    if fmt == "html":
        assert html.escape("<script>") in m.body
        # the only tags are ours
        assert set(re.findall(r"</?([a-z]+)", m.body)) <= {"b", "a", "br"}
        assert re.findall(r'href="([^"]*)"', m.body) == [
            "http://localhost:8080/api/monitoring/alerts/7/ack?sig=s", "http://localhost:8080/"]
    else:
        assert "\\*bold\\*" in m.body and "\\[x\\]\\(javascript:evil\\)" in m.body
        assert re.findall(r"\]\(([^)]*)\)", m.body.replace("\\)", "")) == [
            "http://localhost:8080/api/monitoring/alerts/7/ack?sig=s", "http://localhost:8080/"]


def test_plain_text_is_left_as_it_is() -> None:
    ctx = context()
    ctx["alert"]["annotations"]["summary"] = "a_b *c*"
    assert "a_b *c*" in render(ctx=ctx, fmt="text").body


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
@pytest.mark.parametrize("limit", [120, 200, 500, 1024])
def test_bodies_fit_the_service_limit_and_keep_the_essentials(fmt: str, limit: int) -> None:
    ctx = context(mountpoint="/" + "d" * 300)
    ctx["alert"]["annotations"]["description"] = "x" * 5000
    ctx["alert"]["annotations"]["summary"] = "Disk is 93% full " + "y" * 3000
    m = render(ctx=ctx, fmt=fmt, body_max=limit, title_max=60)
    assert len(m.body) <= limit and len(m.title) <= 60
    if limit >= 200:
        assert "Disk is 93% full" in m.body
    if limit >= 500:
        assert "Acknowledge" in m.body


def test_a_service_without_titles_gets_the_title_as_the_first_line() -> None:
    m = render(title_max=0, fmt="html", body_max=4096)
    assert m.title == "" and m.body.startswith("\U0001f534 CRITICAL: DiskAlmostFull /data on web-1")


def test_other_kinds() -> None:
    w = pm.render("watchdog", {"last_seen": "2026-12-05T07:50:00Z", "timeout_seconds": 300}, now=NOW)
    assert "PIPELINE BROKEN" in w.title and "10m" in w.body
    held = [context()["alert"], {**context()["alert"], "alertname": "ApiDown"}]
    s = pm.render("pause_summary", {"paused_at": "2026-12-05T07:00:00Z", "resumed_at": "2026-12-05T08:00:00Z",
                                    "comment": "maintenance", "held": held}, now=NOW)
    assert "2 alerts held" in s.title and "[CRITICAL] ApiDown /data on web-1" in s.body
    t = pm.render("test", {"requested_at": "2026-12-05T08:00:00Z"}, now=NOW, channel="phone")
    assert t.title.startswith("\U0001f9ea TEST") and "(phone)" in t.body
    r = pm.render("report", {"report_date": "2026-12-04", "score": 87.4, "grade": "B",
                             "dashboard_url": "http://localhost:8080/"}, now=NOW)
    assert "2026-12-04" in r.title and "87/100 (B)" in r.body
    assert pm.held_filters({"held": held}) == [("critical", "system"), ("critical", "system")]


def test_broken_contexts_still_render() -> None:
    for kind in ("firing", "resolved", "pause_summary", "watchdog", "test", "report", "other"):
        m = pm.render(kind, {"alert": "junk", "held": "junk"}, now=NOW, fmt="html", body_max=300)
        assert m.title and len(m.body) <= 300


def test_choose_format_takes_the_first_the_service_declares() -> None:
    assert pm.choose_format(("html", "markdown")) == "html"
    assert pm.choose_format("markdown") == "markdown"
    assert pm.choose_format(()) == "text"
