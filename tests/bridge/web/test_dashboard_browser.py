"""The live dashboard in headless Chromium against a real bridge, exporter, Prometheus and SMTP.

The tests run in file order against one stack and one page (a session an operator keeps open):
render -> refresh -> alert -> ack -> pause/resume -> test email -> screenshots -> no console
errors -> CSRF refusal -> stale warning (the bridge is stopped last).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect  # tests/run.sh installs it: missing must fail

from tests.support.bridge import alert, webhook
from tests.support.dashboard import PASSWORD, REPO, DashboardStack, chromium, dashboard_stack
from tests.support.procs import wait_until

expect.set_options(timeout=15_000)  # a refresh on a busy 2-core machine can take a few seconds

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardStack]:
    with dashboard_stack(tmp_path_factory.mktemp("dashboard")) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


class Session:
    def __init__(self, page: Any, errors: list[str]):
        self.page, self.errors = page, errors


@pytest.fixture(scope="module")
def session(browser: Any, stack: DashboardStack) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            errors.append(f"console: {msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    try:
        yield Session(page, errors)
    finally:
        context.close()


def _fire(stack: DashboardStack, *alerts: dict[str, Any]) -> None:
    status, body = stack.bridge.request("POST", "/api/monitoring/webhook", webhook(*alerts))
    assert status == 200, body


def _api(stack: DashboardStack, path: str) -> Any:
    status, body = stack.bridge.request("GET", path)
    assert status == 200, body
    return body


def test_renders_host_metrics(session: Session, stack: DashboardStack) -> None:
    page = session.page
    resp = page.goto(f"{stack.bridge.url}/?window=1m")
    assert resp is not None and resp.status == 200
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    host = page.locator(f'article.host[data-instance="{stack.instance}"]')
    expect(host).to_be_visible()
    # Prometheus has the exporter's series (first paint may have used the exporter fallback)
    expect(page.locator("#metrics-source")).to_contain_text("From Prometheus", timeout=30_000)
    expect(host.locator('[data-metric="cpu"] path.spark-line')).to_have_count(1, timeout=30_000)
    for metric in ("cpu", "memory"):
        text = host.locator(f'[data-metric="{metric}"] .value').inner_text()
        assert text.endswith("%") and 0 <= float(text[:-1]) <= 100, (metric, text)
    expect(host.locator('[data-metric="network_receive"] .value')).to_contain_text("/s")
    root = host.locator('[data-metric="filesystem"][data-mount="/"]')
    expect(root).to_have_count(1)
    used = float(root.locator(".value").inner_text().rstrip("%"))
    live = stack.prom.query(f'instance_mountpoint:node_filesystem_usage:ratio{{mountpoint="/",'
                            f'instance="{stack.instance}"}}')
    assert live and abs(100 * float(live[0]["value"][1]) - used) < 2, (used, live)
    # the health score (from /api/monitoring/health-score) with its grade
    expect(page.locator("#health-score")).to_have_text(re.compile(r"^\d{1,3}$"))
    expect(page.locator("#health-grade")).not_to_have_text("—")


def test_refreshes_without_reloading(session: Session, stack: DashboardStack) -> None:
    page = session.page
    page.evaluate("window.__noReload = 'still here'")
    cpu = f'article.host[data-instance="{stack.instance}"] [data-metric="cpu"]'
    # tag the CPU row's nodes as they are now: a refresh must replace them with fresh ones
    before = page.evaluate(
        """(sel) => {
            const line = document.querySelector(sel + ' path.spark-line');
            const value = document.querySelector(sel + ' .value');
            line.__beforeRefresh = true;
            value.__beforeRefresh = true;
            return line.getAttribute('d');
        }""",
        cpu,
    )
    assert before and before.startswith("M"), before
    first = page.locator("#updated-time").get_attribute("datetime")
    expect(page.locator("#updated-time")).not_to_have_attribute("datetime", first or "")
    # Prometheus scrapes every second and the page refreshes every 2 s: the sparkline is redrawn
    # from new points (a new node whose line differs), not just the clock
    page.wait_for_function(
        """([sel, before]) => {
            const line = document.querySelector(sel + ' path.spark-line');
            const value = document.querySelector(sel + ' .value');
            return line && value && !line.__beforeRefresh && !value.__beforeRefresh
                && line.getAttribute('d') !== before;
        }""",
        arg=[cpu, before],
        timeout=TIMEOUT_MS,
    )
    text = page.locator(f"{cpu} .value").inner_text()
    assert text.endswith("%") and 0 <= float(text[:-1]) <= 100, text
    assert page.evaluate("window.__noReload") == "still here"
    assert page.locator("#stale").is_hidden()


def test_login_with_password(session: Session) -> None:
    page = session.page
    expect(page.locator("#test-email")).to_be_disabled()
    page.get_by_label("Password or API token").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#signed-in")).to_be_visible()
    expect(page.locator("#test-email")).to_be_enabled()
    assert PASSWORD not in page.content()


def test_critical_alert_pulses(session: Session, stack: DashboardStack, artifacts: Path) -> None:
    page = session.page
    _fire(stack, alert("HighCpuUsage", severity="critical", instance=stack.instance,
                       fingerprint="fp-dash-cpu"),
          alert("DiskSpaceLow", severity="warning", instance=stack.instance, fingerprint="fp-dash-disk",
                mountpoint="/"))
    row = page.locator("tr.row-critical", has_text="HighCpuUsage")
    expect(row).to_be_visible()
    expect(row.locator(".sev")).to_have_text("Critical")  # a word, not only a colour
    urgent = page.locator("#urgent")
    expect(urgent).to_be_visible()
    expect(urgent).to_have_class("urgent pulsing")
    animation = page.evaluate(
        "getComputedStyle(document.querySelector('#urgent .urgent-dot'), '::after').animationName")
    assert animation == "tw-pulse"
    expect(page.locator('[data-count="critical"]')).to_have_text("1")
    expect(page.locator('[data-count="warning"]')).to_have_text("1")
    # the firing email left through the real outbox
    expect(page.locator("#notifications-body tr", has_text="HighCpuUsage")).to_contain_text("sent")
    shot = artifacts / "dashboard-desktop-alert.png"
    page.screenshot(path=str(shot), full_page=True, animations="disabled")


def test_reduced_motion_stops_the_pulse(session: Session) -> None:
    page = session.page
    page.emulate_media(reduced_motion="reduce")
    try:
        animation = page.evaluate(
            "getComputedStyle(document.querySelector('#urgent .urgent-dot'), '::after').animationName")
        assert animation == "none"
    finally:
        page.emulate_media(reduced_motion="no-preference")


def test_acknowledge_from_the_page_by_keyboard(session: Session, stack: DashboardStack) -> None:
    page = session.page
    button = page.get_by_role("button", name=f"Acknowledge HighCpuUsage on {stack.instance}")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#ack-result")).to_contain_text("Acknowledged HighCpuUsage")
    expect(page.locator("tr.row-critical")).to_contain_text("Acknowledged")
    expect(page.locator("#urgent")).to_have_class("urgent")  # still shown, no longer pulsing
    acked = [a for a in _api(stack, "/api/monitoring/alerts?status=firing")["alerts"]
             if a["alertname"] == "HighCpuUsage"]
    assert acked and acked[0]["acked_at"]


def test_pause_and_resume(session: Session, stack: DashboardStack) -> None:
    page = session.page
    page.get_by_label("Duration").select_option("30m")
    page.get_by_label("Comment").fill("kernel upgrade <b>now</b>")
    page.get_by_label("Also mute emergencies").check()
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#pause-result")).to_contain_text("paused until")
    expect(page.locator("#pause-state")).to_contain_text("Paused until")
    expect(page.locator("#pause-state")).to_contain_text("kernel upgrade <b>now</b> (emergencies too)")
    paused = _api(stack, "/api/monitoring/alerts")["paused"]
    assert paused and paused["comment"] == "kernel upgrade <b>now</b>" and paused["include_emergencies"]
    page.get_by_role("button", name="Resume now").click()
    expect(page.locator("#pause-result")).to_contain_text("Notifications resumed")
    expect(page.locator("#pause-state")).to_contain_text("Active")
    assert _api(stack, "/api/monitoring/alerts")["paused"] is None


def test_send_test_email(session: Session, stack: DashboardStack) -> None:
    page = session.page
    before = len(stack.smtp.mailbox.messages)
    page.get_by_role("button", name="Send test email").click()
    expect(page.locator("#test-result")).to_contain_text("Delivered to ops@example.com")
    messages = wait_until(
        lambda: [m for m in stack.smtp.mailbox.messages[before:] if "TEST" in str(m["Subject"])],
        what="the test email at aiosmtpd")
    message_id = str(messages[0]["Message-ID"])  # type: ignore[index]
    expect(page.locator("#test-result")).to_contain_text(message_id)
    expect(page.locator("#notifications-body tr", has_text="test").first).to_contain_text("sent")


def test_screenshots(session: Session, artifacts: Path) -> None:
    page = session.page
    page.screenshot(path=str(artifacts / "dashboard-desktop.png"), full_page=True, animations="disabled")
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        expect(page.locator("#hosts article.host").first).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"the page scrolls sideways at phone width by {overflow}px"
        page.screenshot(path=str(artifacts / "dashboard-phone.png"), full_page=True, animations="disabled")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
    if os.environ.get("TRADEWATCH_UPDATE_SCREENSHOT"):
        shutil.copyfile(artifacts / "dashboard-desktop-alert.png", REPO / "docs" / "img" / "dashboard.png")
        shutil.copyfile(artifacts / "dashboard-phone.png", REPO / "docs" / "img" / "dashboard-phone.png")


def test_no_console_errors(session: Session) -> None:
    assert session.errors == []


def test_mutation_without_csrf_token_is_refused(session: Session, stack: DashboardStack) -> None:
    page = session.page
    # the page's own session cookie, but no X-CSRF-Token header
    resp = page.request.post(f"{stack.bridge.url}/api/monitoring/stop", data={"duration": "5m"})
    assert resp.status == 403, resp.text()
    status = page.evaluate("""() => fetch('/api/monitoring/stop', {method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json'}, body: '{"duration": "5m"}'}).then(r => r.status)""")
    assert status == 403
    assert _api(stack, "/api/monitoring/alerts")["paused"] is None


def test_stale_warning_when_the_bridge_stops(session: Session, stack: DashboardStack) -> None:
    page = session.page
    expect(page.locator("#stale")).to_be_hidden()
    stack.bridge.proc.stop()
    expect(page.locator("#stale")).to_be_visible()
    expect(page.locator("#stale")).to_contain_text("has not answered since")
