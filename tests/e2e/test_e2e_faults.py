"""End to end, parts failing: the bridge down while Alertmanager sends (its retry delivers once
the bridge is back), and Prometheus stopped (the bridge misses the Watchdog and says so by email).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.support.procs import http_ok, wait_until
from tests.support.stack import E2EStack, ProbeTarget, text_of

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def stack(start_stack: Callable[..., E2EStack]) -> E2EStack:
    s = start_stack("e2e-faults", {"ledger-api": ProbeTarget()}, bridge={"watchdog_timeout": "6s"})
    # the Watchdog has reached the bridge: the dead-man's switch is armed
    wait_until(lambda: s.api("GET", "/api/monitoring/alerts")["watchdog_last_seen"], 30,
               what="the bridge to see the Watchdog")
    return s


def test_bridge_down_while_alertmanager_sends_then_restarted_emails_once(stack: E2EStack) -> None:
    assert stack.bridge is not None
    stack.bridge.stop()
    assert not http_ok(f"{stack.bridge_url}/health", timeout=1)
    failed_before = stack.am_metric(0, "alertmanager_notifications_failed_total", integration="webhook")
    stack.probes["ledger-api"].down()

    # Alertmanager has the alert and has tried (and failed) to deliver it to the bridge
    wait_until(lambda: any(a["labels"].get("probe") == "ledger-api" for a in stack.am_get(0, "alerts")), 30,
               what="Alertmanager to hold the ProbeFailing alert")
    wait_until(lambda: stack.am_metric(0, "alertmanager_notifications_failed_total", integration="webhook")
               > failed_before, 30, what="Alertmanager's webhook delivery to fail while the bridge is down")
    assert not [m for m in stack.emails(alertname="ProbeFailing") if "ledger-api" in text_of(m)]

    stack.start_bridge(wait=True)  # same database, same port
    wait_until(lambda: [m for m in stack.emails("firing", "ProbeFailing") if "ledger-api" in text_of(m)], 40,
               what="the retried alert to be emailed")
    time.sleep(4)  # Alertmanager keeps flushing every group interval: still one email
    emails = [m for m in stack.emails("firing", "ProbeFailing") if "ledger-api" in text_of(m)]
    assert len(emails) == 1, [m["Subject"] for m in emails]
    host = f"127.0.0.1:{stack.ports['exporter']}"
    assert emails[0]["Subject"] == f"[CRITICAL] ProbeFailing ledger-api on {host}"
    stack.probes["ledger-api"].up()
    wait_until(lambda: [m for m in stack.emails("resolved", "ProbeFailing") if "ledger-api" in text_of(m)],
               30, what="the resolved email")


def test_prometheus_stopped_bridge_emails_pipeline_broken(stack: E2EStack) -> None:
    before = len(stack.emails("watchdog"))
    # the Watchdog keeps arriving while the pipeline is whole (seen within the last few seconds)
    wait_until(lambda: len(stack.emails("watchdog")) == before and _seen_recently(stack), 20,
               what="a fresh Watchdog at the bridge")
    assert stack.prometheus is not None
    stopped_at = time.time()
    stack.prometheus.stop()
    msgs = stack.wait_emails(before + 1, timeout=45, kind="watchdog")
    msg = msgs[-1]
    assert msg["Subject"].startswith("[PIPELINE BROKEN] No Watchdog heartbeat")
    assert set(stack.smtp.mailbox.envelopes[stack.smtp.mailbox.messages.index(msg)].rcpt_tos) == {
        "ops@example.com"}
    print(f"Prometheus stopped -> pipeline-broken email: {time.time() - stopped_at:.1f} s")
    # once per outage: no second email for the same silence of the heartbeat
    time.sleep(3)
    assert len(stack.emails("watchdog")) == before + 1


def _seen_recently(stack: E2EStack) -> bool:
    from datetime import datetime

    seen = stack.api("GET", "/api/monitoring/alerts")["watchdog_last_seen"]
    return bool(seen) and time.time() - datetime.fromisoformat(seen.replace("Z", "+00:00")).timestamp() < 4
