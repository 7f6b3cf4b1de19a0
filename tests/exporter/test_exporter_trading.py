"""exporter/trading.py: the families, their types and labels, and both ways of publishing them."""

from __future__ import annotations

import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, Counter
from prometheus_client.parser import text_string_to_metric_families

from exporter.collectors.textfile import TextfileCollector
from exporter.trading import NO_RESPONSE, TradingMetrics
from tests.support.exporter_probes import families, value
from tests.support.procs import binary
from tradewatch import metric_names as names


def parsed(m: TradingMetrics) -> dict:
    return families(text_string_to_metric_families(m.exposition().decode()))


def busy_bot() -> TradingMetrics:
    m = TradingMetrics()
    for _ in range(3):
        m.order_submitted()
    m.order_filled(latency_seconds=0.03, timestamp=1_700_000_123.0)
    m.order_filled(latency_seconds=0.2, timestamp=1_700_000_456.0)
    m.order_rejected(latency_seconds=0.01)
    m.order_cancelled()
    m.set_pnl(realized=-12.5, equity=9_987.5)
    m.set_open_positions(2)
    m.record_exchange_request(200, 0.12)
    m.record_exchange_request(429, 0.05)
    m.heartbeat(timestamp=1_700_000_500.0)
    return m


def test_families_types_and_labels():
    f = parsed(busy_bot())
    assert f["trading_orders"].type == "counter"
    assert value(f, "trading_orders", status="submitted") == 3
    assert value(f, "trading_orders", status="filled") == 2
    assert value(f, "trading_orders", status="rejected") == 1
    assert value(f, "trading_orders", status="cancelled") == 1
    assert f["trading_order_latency_seconds"].type == "histogram"
    lat = {s.labels["le"]: s.value for s in f["trading_order_latency_seconds"].samples
           if s.name.endswith("_bucket")}
    assert lat["0.01"] == 1 and lat["0.05"] == 2 and lat["0.25"] == 3 and lat["+Inf"] == 3
    assert f["trading_exchange_requests"].type == "counter"
    assert value(f, "trading_exchange_requests", exchange="", endpoint="", code="200") == 1
    assert value(f, "trading_exchange_requests", exchange="", endpoint="", code="429") == 1
    dur = {s.labels["le"]: s.value for s in f[names.TRADING_EXCHANGE_DURATION].samples
           if s.name.endswith("_bucket")}
    assert "1.0" in dur and "3.0" in dur  # the API response-time thresholds are bucket bounds
    assert dur["0.1"] == 1 and dur["0.25"] == 2
    assert value(f, names.TRADING_REALIZED_PNL) == -12.5
    assert value(f, names.TRADING_EQUITY) == 9_987.5
    assert value(f, names.TRADING_OPEN_POSITIONS) == 2
    assert value(f, names.TRADING_LAST_TRADE) == 1_700_000_456.0
    assert value(f, names.TRADING_HEARTBEAT) == 1_700_000_500.0
    for g in (names.TRADING_REALIZED_PNL, names.TRADING_EQUITY, names.TRADING_OPEN_POSITIONS,
              names.TRADING_LAST_TRADE, names.TRADING_HEARTBEAT):
        assert f[g].type == "gauge"


def test_output_passes_promtool_check_metrics():
    out = subprocess.run([binary("promtool"), "check", "metrics"], input=busy_bot().exposition(),
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    assert out.stdout.strip() == b"" and out.stderr.strip() == b""


def test_fresh_instance_has_order_statuses_but_no_made_up_gauges():
    f = parsed(TradingMetrics())
    assert {s.labels["status"] for s in f["trading_orders"].samples if s.name == "trading_orders_total"} == {
        "submitted", "filled", "cancelled", "rejected"}
    for g in (names.TRADING_EQUITY, names.TRADING_HEARTBEAT, names.TRADING_REALIZED_PNL):
        assert f[g].samples == []


def test_exchange_request_context_manager():
    m = TradingMetrics()
    with m.exchange_request() as r:
        r.code = 503
    with pytest.raises(ConnectionError), m.exchange_request():
        raise ConnectionError("exchange unreachable")
    f = parsed(m)
    assert value(f, "trading_exchange_requests", exchange="", endpoint="", code="503") == 1
    assert value(f, "trading_exchange_requests", exchange="", endpoint="", code=NO_RESPONSE) == 1
    count = [s.value for s in f[names.TRADING_EXCHANGE_DURATION].samples if s.name.endswith("_count")]
    assert count == [2]


def test_instances_are_independent_unless_sharing_a_registry():
    a, b = TradingMetrics(), TradingMetrics()
    a.order_submitted()
    assert value(parsed(b), "trading_orders", status="submitted") == 0
    shared = TradingMetrics(registry=REGISTRY)
    try:
        assert REGISTRY.get_sample_value("trading_orders_total", {"status": "submitted"}) == 0
        Counter("bot_loops", "The bot's own metric.", registry=shared.registry).inc()
        assert REGISTRY.get_sample_value("bot_loops_total") == 1
    finally:
        for c in list(REGISTRY._collector_to_names):  # leave the global registry as found
            if any(n.startswith(("trading_", "bot_loops")) for n in REGISTRY._collector_to_names[c]):
                REGISTRY.unregister(c)


def test_http_server_serves_metrics():
    m = busy_bot()
    server = m.start_http_server(0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    finally:
        server.close()
    assert 'trading_orders_total{status="filled"} 2.0' in text


def test_textfile_is_written_atomically_and_read_by_the_collector(tmp_path: Path):
    m = busy_bot()
    m.write_textfile(tmp_path / "bot.prom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bot.prom"]  # no temp file left behind
    f = families(TextfileCollector(tmp_path).collect())
    assert value(f, names.TEXTFILE_SCRAPE_ERROR) == 0
    assert value(f, "trading_orders", status="filled") == 2
    assert value(f, names.TRADING_EQUITY) == 9_987.5
    with pytest.raises(ValueError, match=r"\*\.prom"):
        m.write_textfile(tmp_path / "bot.txt")


def test_textfile_writer_keeps_the_file_current(tmp_path: Path):
    m = TradingMetrics()
    path = tmp_path / "bot.prom"
    writer = m.start_textfile_writer(path, interval=0.05)
    try:
        m.heartbeat(timestamp=42.0)
    finally:
        writer.stop()  # writes once more on stop
    f = families(TextfileCollector(tmp_path).collect())
    assert value(f, names.TRADING_HEARTBEAT) == 42.0
    assert not [t for t in threading.enumerate() if t.name == "trading-textfile"]
