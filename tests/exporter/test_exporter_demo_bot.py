"""The demo bot as a real process: scraped, its heartbeat advancing, misbehaving on request, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.exporter_probes import families, value
from tests.support.procs import REPO, free_port, running, wait_until
from tests.support.prom import prometheus
from tradewatch import metric_names as names

TRADING_FAMILIES = {
    "trading_orders": "counter",
    "trading_order_latency_seconds": "histogram",
    "trading_exchange_requests": "counter",
    names.TRADING_EXCHANGE_DURATION: "histogram",
    names.TRADING_REALIZED_PNL: "gauge",
    names.TRADING_EQUITY: "gauge",
    names.TRADING_OPEN_POSITIONS: "gauge",
    names.TRADING_LAST_TRADE: "gauge",
    names.TRADING_HEARTBEAT: "gauge",
}


def scrape(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return families(text_string_to_metric_families(resp.read().decode()))


def bot(tmp_path: Path, *flags: str):
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    args = [sys.executable, "-m", "exporter.demo_bot", "--listen", f"127.0.0.1:{port}", *flags]
    return running(args, tmp_path / "demo_bot.log", ready_url=url), url


def test_scraped_heartbeat_advances_and_sigterm_exits_cleanly(tmp_path):
    ctx, url = bot(tmp_path, "--seed", "7", "--tick", "0.02")
    with ctx as proc:
        first = wait_until(lambda: (f := scrape(url))[names.TRADING_HEARTBEAT].samples and f,
                           what="a first heartbeat")
        for name, kind in TRADING_FAMILIES.items():
            assert first[name].type == kind, name
        beat = value(first, names.TRADING_HEARTBEAT)
        later = wait_until(lambda: (f := scrape(url)) and value(f, names.TRADING_HEARTBEAT) > beat and f,
                           timeout=5, what="the heartbeat to advance")
        assert value(later, "trading_orders", status="submitted") > 0
        assert value(later, names.TRADING_EQUITY) > 0
        assert value(later, "trading_exchange_requests", exchange="", endpoint="", code="200") > 0
        proc.popen.send_signal(signal.SIGTERM)
        assert proc.popen.wait(10) == 0
        log = proc.output()
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines and all("demo: synthetic data" in line for line in lines), log


def test_misbehaviour_flags(tmp_path):
    ctx, url = bot(tmp_path, "--seed", "1", "--tick", "0.02", "--stop-heartbeat-after", "0.3",
                   "--reject-ratio", "1")
    with ctx as proc:
        wait_until(lambda: "heartbeat stopped on purpose" in proc.output(), timeout=10,
                   what="the heartbeat to stop")
        stopped = value(scrape(url), names.TRADING_HEARTBEAT)
        orders = value(scrape(url), "trading_orders", status="submitted")
        f = wait_until(lambda: (f := scrape(url)) and value(f, "trading_orders", status="submitted")
                       > orders + 5 and f, timeout=10, what="more orders")
        assert value(f, names.TRADING_HEARTBEAT) == stopped  # still serving, no longer beating
        assert value(f, "trading_orders", status="filled") == 0
        assert value(f, "trading_orders", status="rejected") == value(f, "trading_orders", status="submitted")


def test_help_says_synthetic_and_bad_flags_exit_2():
    out = subprocess.run([sys.executable, "-m", "exporter.demo_bot", "--help"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0 and "demo: synthetic data" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "exporter.demo_bot", "--reject-ratio", "2"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "between 0 and 1" in bad.stderr


@pytest.mark.integration
def test_prometheus_scrapes_the_bot_and_the_trading_rules_evaluate(tmp_path):
    """Real Prometheus, job trading-bot, the project's rendered trading and API rules."""
    ctx, url = bot(tmp_path, "--seed", "5", "--tick", "0.02", "--reject-ratio", "0.5")
    with ctx:
        target = url.removeprefix("http://").removesuffix("/metrics")
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(REPO / "prometheus" / "rules" / "trading.yml"),
                           str(REPO / "prometheus" / "rules" / "api.yml")],
            "scrape_configs": [{"job_name": "trading-bot", "static_configs": [{"targets": [target]}]}],
        }
        with prometheus(tmp_path / "prom", config) as prom:
            # the first evaluations rest on a handful of orders (0.25 has been seen): wait for
            # the ratio to settle near the bot's --reject-ratio 0.5
            ratio = wait_until(lambda: (r := prom.query("instance:trading_orders_rejected:ratio_rate15m"))
                               and 0.3 < float(r[0]["value"][1]) < 0.9 and r,
                               timeout=30, what="the rejection-ratio recording rule near 0.5")
            assert ratio[0]["metric"]["job"] == "trading-bot"
            p95 = wait_until(lambda: prom.query("instance:trading_exchange_request_duration_seconds:p95_5m"),
                             timeout=30, what="the exchange p95 recording rule")
            assert 0 < float(p95[0]["value"][1]) < 10
            age = prom.query("time() - trading_heartbeat_timestamp_seconds")
            assert float(age[0]["value"][1]) < 5
