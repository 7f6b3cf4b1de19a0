"""End to end: a real breach becomes one email, an emergency escalates and repeats until
acknowledged, and a pause silences in Alertmanager and resumes delivery.

real exporter (HTTP probes, filesystem) -> real Prometheus (1 s scrape and evaluation, rules
rendered from the config with `for: 0s`) -> real Alertmanager -> bridge process -> aiosmtpd.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from email.message import EmailMessage

import pytest

from tests.support.procs import wait_until
from tests.support.stack import E2EStack, ProbeTarget, text_of
from tradewatch import metric_names as mn

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def stack(start_stack: Callable[..., E2EStack]) -> E2EStack:
    return start_stack("e2e-alerts", {"checkout-api": ProbeTarget(), "pause-api": ProbeTarget()})


def about(probe: str, messages: list[EmailMessage]) -> list[EmailMessage]:
    return [m for m in messages if probe in text_of(m)]


def quiet(seconds: float) -> None:
    """Let the pipeline run (a few scrape, evaluation and group intervals) before counting emails."""
    time.sleep(seconds)


def test_probe_down_emails_one_critical_and_recovery_one_resolved_in_thread(stack: E2EStack) -> None:
    target = stack.probes["checkout-api"]
    host = f"127.0.0.1:{stack.ports['exporter']}"  # the instance that runs the probe
    t0 = time.monotonic()
    target.down()
    stack.wait_emails(1, timeout=30, kind="firing", alertname="ProbeFailing")
    wait_until(lambda: about("checkout-api", stack.emails("firing", "ProbeFailing")), 30)
    breach_to_email = time.monotonic() - t0
    target.up()
    wait_until(lambda: about("checkout-api", stack.emails("resolved", "ProbeFailing")), 30,
               what="the resolved email")
    quiet(4)  # two group intervals: any duplicate would have arrived by now

    firing = about("checkout-api", stack.emails("firing", "ProbeFailing"))
    resolved = about("checkout-api", stack.emails("resolved", "ProbeFailing"))
    assert len(firing) == 1, [m["Subject"] for m in firing]
    assert len(resolved) == 1, [m["Subject"] for m in resolved]
    fire, res = firing[0], resolved[0]
    assert fire["Subject"] == f"[CRITICAL] ProbeFailing checkout-api on {host}"
    assert res["Subject"].startswith("[RESOLVED] ProbeFailing") and host in res["Subject"]
    assert "checkout-api" in text_of(fire) and host in text_of(fire)
    assert fire["X-TradeWatch-Severity"] == "critical"
    # the resolved email threads under the firing one
    assert res["In-Reply-To"] == fire["Message-ID"] and fire["Message-ID"] in res["References"]
    print(f"breach -> critical email: {breach_to_email:.1f} s")


def test_threshold_below_current_value_emails_one_critical_with_the_value(stack: E2EStack) -> None:
    usage = float(wait_until(lambda: stack.query(mn.REC_MEMORY_UTILISATION), 30,
                             what="memory utilisation in Prometheus")[0]["value"][1])
    threshold = round(usage * 100 / 2, 2)
    stack.set_thresholds(memory_percent={"critical": threshold})
    try:
        msg = stack.wait_emails(1, timeout=30, kind="firing", alertname="HostMemoryHigh")[0]
    finally:
        stack.set_thresholds(memory_percent={"critical": 1e9})
    stack.wait_emails(1, timeout=30, kind="resolved", alertname="HostMemoryHigh")
    quiet(4)
    assert len(stack.emails("firing", "HostMemoryHigh")) == 1
    assert len(stack.emails("resolved", "HostMemoryHigh")) == 1
    # host alerts name the host by node_uname_info's nodename (the rules join it on)
    assert msg["Subject"] == f"[CRITICAL] HostMemoryHigh on {os.uname().nodename}"
    text = text_of(msg)
    # "on <nodename> (<address>)": the host by name, the address as detail
    node = re.escape(os.uname().nodename)
    shown = re.search(rf"Memory utilisation on {node} \(127\.0\.0\.1:\d+\) is ([\d.]+)%", text)
    assert shown, text
    # the value Prometheus evaluated, in human units, next to the configured threshold
    assert abs(float(shown.group(1)) - usage * 100) < 5.0, (shown.group(0), usage)
    assert f"critical above {threshold:g}%" in text


def test_pause_creates_a_silence_and_resume_restores_delivery(stack: E2EStack) -> None:
    target = stack.probes["pause-api"]
    paused = stack.api("POST", "/api/monitoring/stop", {"duration": "10m", "comment": "e2e maintenance"})
    silence_id = paused["paused"]["silence_id"]
    assert silence_id, paused
    silence = stack.am_get(0, f"silence/{silence_id}")
    assert silence["status"]["state"] == "active" and silence["comment"] == "e2e maintenance"

    target.down()

    def suppressed() -> bool:
        alerts = stack.am_get(0, "alerts?silenced=true&active=false&inhibited=false"
                                 "&filter=probe%3D%22pause-api%22")
        return any(a["status"]["state"] == "suppressed" and silence_id in a["status"]["silencedBy"]
                   for a in alerts)

    wait_until(suppressed, 30, what="Alertmanager to hold the alert under the pause's silence")
    quiet(5)  # beyond group_wait and two group intervals: nothing may be emailed
    assert not about("pause-api", stack.emails(alertname="ProbeFailing"))

    # while paused the bridge shows what the silence holds (read from Alertmanager)
    held = stack.api("GET", "/api/monitoring/alerts")["held"]
    assert any(a["alertname"] == "ProbeFailing" and a["labels"].get("probe") == "pause-api" for a in held)

    resumed = stack.api("POST", "/api/monitoring/start")
    assert resumed["resumed"] is True and resumed["held_alerts"] >= 1
    wait_until(lambda: stack.am_get(0, f"silence/{silence_id}")["status"]["state"] == "expired", 10)
    # the still-failing probe is in the resume summary; once the silence is gone Alertmanager sends
    # it to the bridge, which knows it was told: no second email
    wait_until(lambda: about("pause-api", stack.emails(kind="pause_summary")), 30,
               what="the held alert in the resume summary")
    quiet(5)
    assert not about("pause-api", stack.emails(alertname="ProbeFailing"))
    target.up()
    wait_until(lambda: about("pause-api", stack.emails("resolved", "ProbeFailing")), 30)


def test_emergency_reaches_escalation_and_repeats_until_acknowledged(stack: E2EStack) -> None:
    usage = float(wait_until(lambda: stack.query(f'{mn.REC_FILESYSTEM_USAGE}{{mountpoint="/"}}'), 30,
                             what="the filesystem usage of /")[0]["value"][1])
    # a threshold set below the current value: the config changes, rules re-rendered, Prometheus reloaded
    threshold = round(usage * 100 / 2, 2)
    stack.set_thresholds(disk_percent={"emergency": threshold})
    try:
        first = stack.wait_emails(1, timeout=30, kind="firing", alertname="HostFilesystemFull")[0]
        assert first["Subject"] == f"[EMERGENCY] HostFilesystemFull / on {os.uname().nodename}"
        assert first["Importance"] == "high"
        i = stack.smtp.mailbox.messages.index(first)
        assert set(stack.smtp.mailbox.envelopes[i].rcpt_tos) == {"ops@example.com", "boss@example.com"}
        shown = re.search(r"is ([\d.]+)% full", text_of(first))
        assert shown, text_of(first)
        assert abs(float(shown.group(1)) - usage * 100) < 1.0, (shown.group(0), usage)
        assert f"above {threshold:g}%" in text_of(first)

        repeats = stack.wait_emails(2, timeout=30, kind="emergency_repeat", alertname="HostFilesystemFull")
        for m in repeats:
            j = stack.smtp.mailbox.messages.index(m)
            assert set(stack.smtp.mailbox.envelopes[j].rcpt_tos) == {"ops@example.com", "boss@example.com"}
            assert m["In-Reply-To"] == first["Message-ID"]
        assert "reminder 1" in repeats[0]["Subject"] and "reminder 2" in repeats[1]["Subject"]

        firing = stack.api("GET", "/api/monitoring/alerts?status=firing")["alerts"]
        alert = next(a for a in firing if a["alertname"] == "HostFilesystemFull")
        acked = stack.api("POST", f"/api/monitoring/alerts/{alert['id']}/ack", {"comment": "on it"})
        assert acked["acknowledged"] is True
        quiet(1.5)  # a reminder already handed to SMTP at the moment of the ack may still land
        after_ack = len(stack.emails("emergency_repeat", "HostFilesystemFull"))
        quiet(8)  # more than two repeat periods (3 s)
        assert len(stack.emails("emergency_repeat", "HostFilesystemFull")) == after_ack
    finally:
        stack.set_thresholds(disk_percent={"critical": 1e9 - 1, "emergency": 1e9})
    stack.wait_emails(1, timeout=30, kind="resolved", alertname="HostFilesystemFull")
