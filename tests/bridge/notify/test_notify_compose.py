"""compose(): multipart emails, inlined CSS, safe subjects and links, threading, fallback."""

from __future__ import annotations

import email
import email.policy
import logging
import re
from datetime import UTC, datetime

import jinja2
import pytest

from alert_bridge.notify import view as v
from alert_bridge.notify.compose import compose, template_env
from tests.support.notify import alert_context, body, email_config

NOW = datetime(2026, 11, 25, 1, 58, 30, tzinfo=UTC)
STARTS_EPOCH = int(datetime(2026, 11, 25, 1, 40, tzinfo=UTC).timestamp())


def reparse(msg):
    """What the recipient's mail client sees: the message after a trip through bytes."""
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


def test_firing_email_has_text_and_html_parts_with_the_facts():
    msg = reparse(compose("firing", alert_context(), email_config(), now=NOW))
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    text, html = body(msg, "plain"), body(msg, "html")
    for part in (text, html):
        assert "HighCpuUsage" in part
        assert "web-1:9184" in part
        assert "CPU usage is 97.2% on web-1:9184" in part
        assert "97.2%" in part
        assert "2026-11-25 01:40:00 UTC" in part
        assert "18m" in part  # firing for 18m 30s -> two largest units
        assert "CRITICAL" in part
        assert "job" in part and "node" in part  # labels table
    assert msg["From"].addresses[0].addr_spec == "tradewatch@example.com"
    assert [a.addr_spec for a in msg["To"].addresses] == ["ops@example.com"]
    assert msg["Date"].datetime == NOW
    assert msg["Auto-Submitted"] == "auto-generated"


def test_css_is_inlined_for_gmail_and_outlook():
    html = body(compose("firing", alert_context(), email_config(), now=NOW), "html")
    # Key styles live on the elements themselves...
    h1 = re.search(r"<h1[^>]*>", html).group(0)
    assert "font-size" in h1 and "style=" in h1
    band = re.search(r'<td[^>]*class="band"[^>]*>', html).group(0)
    assert "background-color: #b91c1c" in band
    button = re.search(r'<a[^>]*class="button"[^>]*>Open dashboard', html).group(0)
    assert "background-color" in button and "text-decoration: none" in button
    # ...and what is left in <style> is only the phone-width @media block.
    leftover = " ".join(re.findall(r"<style[^>]*>(.*?)</style>", html, re.S))
    assert re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", leftover).strip() == ""


def test_subject_states_severity_alert_and_host():
    cfg = email_config()
    subject = compose("firing", alert_context(), cfg, now=NOW)["Subject"]
    assert subject == "[CRITICAL] HighCpuUsage on web-1:9184"
    resolved = alert_context(status="resolved", ends_at="2026-11-25T01:55:00Z")
    assert compose("resolved", resolved, cfg, now=NOW)["Subject"] == "[RESOLVED] HighCpuUsage on web-1:9184"
    emerg = alert_context(severity="emergency", labels={"severity": "emergency"}, repeat=2)
    assert compose("emergency_repeat", emerg, cfg, now=NOW)["Subject"] == (
        "[EMERGENCY] HighCpuUsage on web-1:9184 (reminder 2, not acknowledged)"
    )
    no_host = alert_context(instance="", labels={"instance": ""})
    assert compose("firing", no_host, cfg, now=NOW)["Subject"] == "[CRITICAL] HighCpuUsage"


def test_subject_strips_crlf_and_control_characters_and_is_capped():
    evil = alert_context(alertname="Cpu\r\nBcc: victim@example.com\x00\x1b[31m",
                         instance="web-1\n:9184" + "x" * 500)
    msg = compose("firing", evil, email_config(), now=NOW)
    subject = msg["Subject"]
    assert "\r" not in subject and "\n" not in subject and "\x00" not in subject and "\x1b" not in subject
    assert subject.startswith("[CRITICAL] Cpu Bcc: victim@example.com")
    assert len(subject) <= v.SUBJECT_MAX
    again = reparse(msg)
    assert again["Bcc"] is None  # no header injection
    assert again["Subject"] == subject


def test_script_in_annotations_is_escaped_in_html():
    ctx = alert_context(annotations={"description": '<script>alert("x")</script><img src=x onerror=alert(1)>',
                                     "summary": "<b>bold</b> & more"},
                        labels={"team": '"><script>steal()</script>'})
    html = body(compose("firing", ctx, email_config(), now=NOW), "html")
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
                                 "data:text/html,<script>1</script>", "vbscript:x", "/relative/path",
                                 "http://ok.example/\nx", "ftp://files.example/x"])
def test_links_that_are_not_http_are_dropped(bad):
    ctx = alert_context(generator_url=bad, annotations={"runbook_url": bad})
    ctx["ack_url"] = bad
    ctx["dashboard_url"] = bad
    msg = compose("firing", ctx, email_config(), now=NOW)
    html, text = body(msg, "html"), body(msg, "plain")
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs, "the footer link to the bridge should remain"
    assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
    assert ">Source<" not in html and ">Acknowledge<" not in html and ">Runbook<" not in html
    assert "Source:" not in text and "Acknowledge:" not in text
    # The dashboard button falls back to the bridge's own external URL.
    assert 'href="http://localhost:8080"' in html


def test_http_links_become_buttons():
    html = body(compose("firing", alert_context(), email_config(), now=NOW), "html")
    assert re.search(r'href="http://localhost:8080/"[^>]*>Open dashboard', html)
    ack = r'href="http://localhost:8080/api/monitoring/alerts/7/ack\?token=abc"[^>]*>Acknowledge'
    assert re.search(ack, html)
    source = r'href="http://prometheus.example:9090/graph\?g0.expr=cpu&amp;g0.tab=1"[^>]*>Source'
    assert re.search(source, html)


def test_warning_has_no_acknowledge_button():
    ctx = alert_context(severity="warning", labels={"severity": "warning"})
    html = body(compose("firing", ctx, email_config(), now=NOW), "html")
    assert ">Acknowledge<" not in html
    assert ">Open dashboard<" in html


def test_resolved_and_reminders_thread_with_the_firing_email():
    cfg = email_config()
    firing = reparse(compose("firing", alert_context(), cfg, now=NOW))
    root = f"<alert.3f2c9a1b4d5e6f70.{STARTS_EPOCH}@tradewatch>"
    assert firing["Message-ID"] == root
    assert firing["In-Reply-To"] is None

    resolved_ctx = alert_context(status="resolved", ends_at="2026-11-25T01:55:00Z")
    resolved = reparse(compose("resolved", resolved_ctx, cfg, now=NOW))
    assert resolved["In-Reply-To"] == root
    assert resolved["References"] == root
    assert resolved["Message-ID"] not in (None, root)
    assert "lasted" in body(resolved, "html").lower() and "15m" in body(resolved, "plain")
    assert "2026-11-25 01:55:00 UTC" in body(resolved, "plain")

    reminders = [reparse(compose("emergency_repeat", alert_context(repeat=n), cfg, now=NOW)) for n in (1, 2)]
    assert all(r["In-Reply-To"] == root for r in reminders)
    ids = {firing["Message-ID"], resolved["Message-ID"], *(r["Message-ID"] for r in reminders)}
    assert len(ids) == 4


def test_message_ids_are_stable_across_retries():
    cfg = email_config()
    for kind, ctx in (("firing", alert_context()), ("test", {"requested_at": "2026-11-25T01:00:00Z"})):
        first = compose(kind, ctx, cfg, now=NOW)["Message-ID"]
        later = compose(kind, ctx, cfg, now=datetime(2026, 11, 25, 3, 0, tzinfo=UTC))["Message-ID"]
        assert first == later


def test_emergencies_also_go_to_the_escalation_recipients():
    cfg = email_config()
    ctx = alert_context(severity="emergency", labels={"severity": "emergency"})
    for kind in ("firing", "emergency_repeat", "resolved"):
        msg = reparse(compose(kind, ctx, cfg, now=NOW))
        assert [a.addr_spec for a in msg["To"].addresses] == ["ops@example.com", "boss@example.com"]
        assert (msg["Importance"] == "high") is (kind != "resolved")
    critical = reparse(compose("firing", alert_context(), cfg, now=NOW))
    assert [a.addr_spec for a in critical["To"].addresses] == ["ops@example.com"]


@pytest.mark.parametrize("severity", ["urgent", "", None])
def test_unknown_or_missing_severity_is_treated_as_critical_and_said_so(severity):
    labels = {"alertname": "DiskFull", "instance": "db-1:9184"}
    if severity is not None:
        labels["severity"] = severity
    ctx = alert_context(alertname="DiskFull", instance="db-1:9184", severity=severity, labels=None)
    ctx["alert"]["labels"] = labels
    msg = compose("firing", ctx, email_config(), now=NOW)
    assert msg["Subject"] == "[CRITICAL] DiskFull on db-1:9184"
    text, html = body(msg, "plain"), body(msg, "html")
    assert "severity unknown" in text.lower() and "treated as CRITICAL" in text
    assert "Severity unknown" in html and "(assumed)" in html
    if severity:
        assert f'"{severity}"' in text
    # the ack button is there: critical alerts can be acknowledged
    assert ">Acknowledge<" in html


def test_severity_assumed_flag_from_the_bridge_is_shown():
    ctx = alert_context(severity_assumed=True)  # bridge stored "critical" after assuming it
    text = body(compose("firing", ctx, email_config(), now=NOW), "plain")
    assert "treated as CRITICAL" in text


def test_template_failure_still_sends_a_plain_text_email(caplog):
    broken = jinja2.Environment(
        loader=jinja2.DictLoader({"firing.txt": "{{ nope.missing }}", "firing.html": "{% for %}"}),
        undefined=jinja2.StrictUndefined, autoescape=True,
    )
    with caplog.at_level(logging.ERROR, logger="alert_bridge.notify.compose"):
        msg = compose("firing", alert_context(), email_config(), now=NOW, env=broken)
    assert msg.get_content_type() == "text/plain"
    assert msg["X-TradeWatch-Fallback"] == "template-error"
    assert msg["Subject"] == "[CRITICAL] HighCpuUsage on web-1:9184"
    assert msg["Message-ID"] == f"<alert.3f2c9a1b4d5e6f70.{STARTS_EPOCH}@tradewatch>"
    text = msg.get_content()
    assert "CPU usage is 97.2% on web-1:9184" in text
    assert "Host: web-1:9184" in text
    assert "Acknowledge: http://localhost:8080/api/monitoring/alerts/7/ack?token=abc" in text
    assert any("failed to render" in r.getMessage() for r in caplog.records)


def test_garbage_context_still_produces_an_email():
    msg = compose("firing", {"alert": {"labels": "not a dict", "annotations": 5}}, email_config(), now=NOW)
    assert msg["Subject"].startswith("[")
    assert msg.get_content_type() in ("multipart/alternative", "text/plain")


@pytest.mark.parametrize("kind, ctx, expect", [
    ("test", {"requested_at": "2026-11-25T01:00:00Z", "note": "from the dashboard <b>"},
     "Email delivery works"),
    ("watchdog", {"last_seen": "2026-11-25T01:00:00Z", "timeout_seconds": 300}, "58m 30s ago"),
    ("watchdog", {"last_seen": None, "timeout_seconds": 300}, "not seen since the bridge started"),
    ("pause_summary", {"paused_at": "2026-11-25T00:00:00Z", "resumed_at": "2026-11-25T01:30:00Z",
                       "comment": "deploy", "held": [alert_context()["alert"]]}, "after 1h 30m"),
])
def test_every_kind_renders_both_parts(kind, ctx, expect):
    msg = compose(kind, ctx, email_config(), now=NOW)
    assert msg["X-TradeWatch-Fallback"] is None
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert expect in body(msg, "plain") and expect in body(msg, "html")
    assert "<b>" not in body(msg, "html")


def test_subjects_of_other_kinds():
    cfg = email_config()
    assert compose("test", {}, cfg, now=NOW)["Subject"] == "[TEST] TradeWatch test email"
    assert compose("watchdog", {"timeout_seconds": 300}, cfg, now=NOW)["Subject"] == (
        "[PIPELINE BROKEN] No Watchdog heartbeat from Alertmanager for over 5m"
    )
    assert compose("watchdog", {"timeout_seconds": None}, cfg, now=NOW)["Subject"] == (
        "[PIPELINE BROKEN] No Watchdog heartbeat from Alertmanager"
    )
    held = [alert_context()["alert"]] * 3
    assert compose("pause_summary", {"held": held}, cfg, now=NOW)["Subject"] == (
        "[SUMMARY] 3 alerts held while notifications were paused"
    )


def test_every_template_pair_exists():
    env = template_env()
    names = set(env.list_templates())
    for kind in ("firing", "resolved", "emergency_repeat", "test", "watchdog", "pause_summary"):
        assert {f"{kind}.html", f"{kind}.txt"} <= names


def test_sample_critical_email_artifact(artifacts):
    """The rendered critical email, for eyes and for docs/img/email-critical.png: the message
    is complete (headers, both parts) and the page written is its HTML part with every fact."""
    msg = reparse(compose("firing", alert_context(), email_config(), now=NOW))
    assert msg["Subject"] == "[CRITICAL] HighCpuUsage on web-1:9184"
    assert msg["X-TradeWatch-Kind"] == "firing" and msg["X-TradeWatch-Severity"] == "critical"
    assert msg["Message-ID"] == f"<alert.3f2c9a1b4d5e6f70.{STARTS_EPOCH}@tradewatch>"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    html = body(msg, "html")
    out = artifacts / "sample-critical.html"
    out.write_text(html, encoding="utf-8")
    page = out.read_text(encoding="utf-8")
    assert page == html
    assert re.search(r"<title>\[CRITICAL\] HighCpuUsage on web-1:9184</title>", page)
    for fact in ("CPU usage is 97.2% on web-1:9184", "CPU usage has been above 95% for 5 minutes.",
                 "2026-11-25 01:40:00 UTC", "18m", "CRITICAL", "background-color: #b91c1c"):
        assert fact in page, fact
    links = re.findall(r'href="([^"]+)"', page)
    assert "http://localhost:8080/api/monitoring/alerts/7/ack?token=abc" in links
    assert "http://localhost:8080/" in links
    assert "http://prometheus.example:9090/graph?g0.expr=cpu&amp;g0.tab=1" in links
    assert "{{" not in page and "{%" not in page  # no template text left unrendered


# ----------------------------------------------------------------- pure view functions

@pytest.mark.parametrize("value, expected", [
    ("2026-11-25T01:40:00Z", datetime(2026, 11, 25, 1, 40, tzinfo=UTC)),
    ("2026-11-25T01:40:00.123456789Z", datetime(2026, 11, 25, 1, 40, 0, 123456, tzinfo=UTC)),
    ("2026-11-25T03:40:00+02:00", datetime(2026, 11, 25, 1, 40, tzinfo=UTC)),
    ("0001-01-01T00:00:00Z", None), ("", None), ("yesterday", None), (None, None),
])
def test_parse_time(value, expected):
    assert v.parse_time(value) == expected


def test_format_time():
    assert v.format_time(datetime(2026, 11, 25, 3, 4, 5, tzinfo=UTC)) == "2026-11-25 03:04:05 UTC"
    assert v.format_time(None) == "\u2014"


@pytest.mark.parametrize("url, ok", [
    ("https://grafana.example/d/x?a=1&b=2", True), ("http://127.0.0.1:9090/graph", True),
    ("javascript:alert(1)", False), ("https://", False), ("//evil.example/x", False),
    ("https://ok.example/a b", False), (None, False), (42, False),
])
def test_safe_url(url, ok):
    assert (v.safe_url(url) is not None) is ok


def test_clean_text():
    assert v.clean_text("a\r\nb\tc\u2028d") == "a b c d"
    assert v.clean_text("x" * 10, 5) == "xxxx\u2026"


def test_pause_summary_lists_at_most_fifty_and_counts_the_rest():
    held = [alert_context(alertname=f"Alert{i}", fingerprint=f"fp{i}")["alert"] for i in range(60)]
    msg = compose("pause_summary", {"held": held}, email_config(), now=NOW)
    text, html = body(msg, "plain"), body(msg, "html")
    assert msg["Subject"] == "[SUMMARY] 60 alerts held while notifications were paused"
    assert "60 alerts fired" in text and "60 alerts fired" in html
    assert "Alert49" in text and "Alert50" not in text
    assert "and 10 more" in text and "and 10 more" in html


def test_identical_test_emails_of_different_rows_get_different_message_ids():
    ctx = {"requested_at": "2026-11-25T01:00:00Z", "note": "same"}
    one = compose("test", ctx, email_config(), now=NOW, notification_id=1)["Message-ID"]
    two = compose("test", ctx, email_config(), now=NOW, notification_id=2)["Message-ID"]
    assert one != two
    assert one == compose("test", ctx, email_config(), now=NOW, notification_id=1)["Message-ID"]


@pytest.mark.parametrize("kind", ["firing", "resolved", "emergency_repeat", "test", "watchdog"])
def test_cached_header_classes_give_the_same_bytes_as_the_default_policy(kind, monkeypatch):
    from alert_bridge.notify import compose as compose_mod

    context = alert_context() if kind in compose_mod.ALERT_KINDS else {"note": "n"}
    cfg = email_config()
    fast = compose(kind, context, cfg, now=NOW, notification_id=4)
    monkeypatch.setattr(compose_mod, "POLICY", email.policy.default)
    plain = compose(kind, context, cfg, now=NOW, notification_id=4)
    assert fast.policy.header_factory is not plain.policy.header_factory
    boundary = re.compile(rb"={15}\d+==")
    assert boundary.sub(b"B", fast.as_bytes()) == boundary.sub(b"B", plain.as_bytes())
