"""The dashboard's browser-test stack: a real exporter, Prometheus (1 s scrapes, our recording
rules), aiosmtpd and a `tradewatch-bridge` process; and Debian's Chromium through Playwright."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.bridge import TOKEN, BridgeProcess, bridge_process, config_data
from tests.support.procs import Proc, binary, free_port, running
from tests.support.prom import Prometheus, prometheus
from tests.support.smtp import SmtpServer, smtp_server

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "dashboard-pass-for-tests"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-quic",
]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright (tests/run.sh installs it: missing must fail)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def chromium_page(width: int = 1280, height: int = 900, timeout_ms: int = 20_000) -> Iterator[Any]:
    """One page of a fresh headless Chromium, en-GB in UTC (stable screenshots)."""
    with chromium() as browser:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB",
                                      timezone_id="UTC")
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        try:
            yield page
        finally:
            context.close()


@contextlib.contextmanager
def page_in(browser: Any, width: int, js: bool = True) -> Iterator[tuple[Any, list[str]]]:
    """A page of `browser` at `width` px, en-GB in UTC, JavaScript on or off; with the list the
    page's uncaught errors are collected in (the test asserts it is empty)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB",
                                  timezone_id="UTC", java_script_enabled=js)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page, errors
    finally:
        context.close()


@dataclass
class DashboardStack:
    bridge: BridgeProcess
    prom: Prometheus
    smtp: SmtpServer
    instance: str  # the exporter's instance label, as Prometheus and the dashboard name it
    bot_instance: str | None = None  # the demo bot's, when the stack runs one (job "trading-bot")
    bot: Proc | None = None  # the demo bot's process (to freeze it with SIGSTOP, say)


def rule_files() -> list[str]:
    return sorted(str(p) for p in (REPO / "prometheus" / "rules").glob("*.yml"))


@contextlib.contextmanager
def demo_bot(tmp: Path, instance: str | None) -> Iterator[Proc | None]:
    """exporter/demo_bot.py at `instance` (seeded, so its figures are repeatable); nothing for None."""
    if instance is None:
        yield None
        return
    args = [sys.executable, "-m", "exporter.demo_bot", "--listen", instance, "--seed", "7",
            "--reject-ratio", "0.15"]
    with running(args, tmp / "demo_bot.log", ready_url=f"http://{instance}/metrics") as proc:
        yield proc


@contextlib.contextmanager
def dashboard_stack(tmp: Path, refresh_seconds: int = 2, with_bot: bool = False,
                    **sections: dict[str, Any]) -> Iterator[DashboardStack]:
    """The stack; `with_bot` adds the demo bot as Prometheus job `trading-bot`; `sections`: more
    config sections (e.g. thresholds=...)."""
    exp_port = free_port()
    instance = f"127.0.0.1:{exp_port}"
    bot_instance = f"127.0.0.1:{free_port()}" if with_bot else None
    scrape = [{"job_name": "exporter", "static_configs": [{"targets": [instance]}]}]
    if bot_instance:
        scrape.append({"job_name": "trading-bot", "static_configs": [{"targets": [bot_instance]}]})
    prom_cfg = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": rule_files(),
        "scrape_configs": scrape,
    }
    exporter = [binary("tradewatch-exporter"), "--listen", instance]
    with running(exporter, tmp / "exporter.log", ready_url=f"http://{instance}/metrics"), \
            demo_bot(tmp, bot_instance) as bot, prometheus(tmp / "prom", prom_cfg) as prom, \
            smtp_server() as smtp:
        data: dict[str, Any] = config_data(
            tmp,
            email={"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none"},
            bridge={
                "api_token": TOKEN,
                "dashboard_password": PASSWORD,
                "prometheus_url": prom.url,
                "exporter_url": f"http://{instance}/metrics",
            },
            dashboard={"refresh_seconds": refresh_seconds},
            **sections,
        )
        with bridge_process(tmp, data) as bridge:
            yield DashboardStack(bridge, prom, smtp, instance, bot_instance, bot)
