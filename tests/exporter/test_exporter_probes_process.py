"""Probes, the textfile collector and the trading textfile through the real exporter process."""

from __future__ import annotations

import contextlib
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from exporter.trading import TradingMetrics
from tests.support.exporter_probes import families, http_server, reply, value
from tests.support.procs import REPO, binary, free_port, running
from tradewatch import metric_names as names

DOC = REPO / "docs" / "exporter-probes.md"


def documented_families() -> dict[str, str]:
    """name -> type from the metric table of docs/exporter-probes.md."""
    rows = re.findall(r"^\| `([a-z_<>]+)` \| (\w+) \|", DOC.read_text(), re.M)
    assert rows, "no metric table in docs/exporter-probes.md"
    return dict(rows)


def documented_labels() -> dict[str, set[str]]:
    """name -> label names (the `labels` column) from the same table."""
    rows = re.findall(r"^\| `([a-z_<>]+)` \| \w+ \| ([^|]*)\|", DOC.read_text(), re.M)
    return {name: set(re.findall(r"`(\w+)`", labels)) for name, labels in rows}


def exporter(tmp_path: Path, config: dict, *collectors: str):
    cfg = tmp_path / "tradewatch.yaml"
    cfg.write_text(yaml.safe_dump(config))
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    args = [binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{port}", "--config", str(cfg),
            "--collector.disable-defaults", *(f"--collector.{c}" for c in collectors)]
    return running(args, tmp_path / "exporter.log", ready_url=url), url


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read().decode()


def promtool_problems(text: str) -> str:
    out = subprocess.run([binary("promtool"), "check", "metrics"], input=text.encode(),
                         capture_output=True, timeout=30)
    return (out.stdout + out.stderr).decode().strip()


def bot_textfile(directory: Path) -> None:
    directory.mkdir()
    m = TradingMetrics()
    m.order_submitted()
    m.order_filled(latency_seconds=0.05)
    m.set_pnl(realized=10.0, equity=1010.0)
    m.set_open_positions(1)
    m.record_exchange_request(200, 0.1, exchange="binance", endpoint="fetch_ticker")
    m.record_exchange_error("RateLimitExceeded", exchange="binance", endpoint="create_order")
    m.heartbeat()
    m.write_textfile(directory / "bot.prom")


@pytest.mark.integration
def test_http_probe_and_trading_textfile_through_the_exporter(tmp_path):
    bot_textfile(tmp_path / "textfile")
    with http_server({"/ping": reply(200, b"pong")}) as target:
        config = {
            "probes": {"http": [{"name": "api", "url": f"{target}/ping", "body_regex": "pong"},
                                {"name": "down", "url": f"http://127.0.0.1:{free_port()}/"}]},
            "exporter": {"collectors": {"textfile_directory": "textfile"}},
        }
        ctx, url = exporter(tmp_path, config, "probe_http", "textfile")
        with ctx:
            text = scrape(url)
    assert promtool_problems(text) == ""
    f = families(text_string_to_metric_families(text))
    assert value(f, names.PROBE_SUCCESS, probe="api", type="http") == 1
    assert value(f, names.PROBE_SUCCESS, probe="down", type="http") == 0
    assert value(f, names.COLLECTOR_SUCCESS, collector="probe_http") == 1
    assert value(f, names.COLLECTOR_SUCCESS, collector="textfile") == 1
    assert value(f, names.TEXTFILE_SCRAPE_ERROR) == 0
    assert value(f, "trading_orders", status="filled") == 1
    assert value(f, names.TRADING_EQUITY) == 1010.0


@pytest.fixture(scope="module")
def all_kinds(tmp_path_factory) -> str:
    """One scrape of the real exporter with every probe kind and the textfile collector."""
    tmp_path = tmp_path_factory.mktemp("all_kinds")
    db = tmp_path / "bot.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.executescript("CREATE TABLE t (sym TEXT, n REAL); INSERT INTO t VALUES ('BTC', 1.5);")
        conn.commit()
    bot_textfile(tmp_path / "textfile")
    with http_server({"/ping": reply(200, b"pong")}) as target:
        config = {
            "probes": {
                "http": [{"name": "api", "url": f"{target}/ping"}],
                "tcp": [{"name": "web", "address": target.removeprefix("http://")}],
                "sql": [{"name": "botdb", "dsn": "bot.db",
                         "queries": [{"name": "positions", "sql": "SELECT sym, n FROM t",
                                      "labels": ["sym"]}]}],
            },
            "exporter": {"collectors": {"textfile_directory": "textfile"}},
        }
        ctx, url = exporter(tmp_path, config, "probe_http", "probe_tcp", "probe_sql", "textfile")
        with ctx:
            return scrape(url)


@pytest.mark.integration
def test_all_probe_kinds_together_match_the_docs(all_kinds):
    f: dict = {}
    for m in text_string_to_metric_families(all_kinds):  # tolerant of a family split across collectors
        if m.name in f:
            f[m.name].samples.extend(m.samples)
        else:
            f[m.name] = m
    for kind, probe in (("http", "api"), ("tcp", "web"), ("sql", "botdb")):
        assert value(f, names.PROBE_SUCCESS, probe=probe, type=kind) == 1
        assert value(f, names.COLLECTOR_SUCCESS, collector=f"probe_{kind}") == 1
    assert value(f, "tradewatch_sql_positions", sym="BTC") == 1.5
    documented = documented_families()
    emitted = {m.name: m.type for m in f.values()}
    for name, kind in documented.items():
        name = name.replace("<query>", "positions")
        parsed_name = name.removesuffix("_total") if kind == "counter" else name
        assert emitted.get(parsed_name) == kind, f"documented {name} ({kind}) not emitted as such"
    for name, labels in documented_labels().items():
        if "<query>" in name:
            continue
        parsed_name = name.removesuffix("_total") if documented[name] == "counter" else name
        seen = {k for smp in f[parsed_name].samples for k in smp.labels if k not in ("le", "quantile")}
        assert seen == labels, f"{name}: documented labels {labels}, emitted {seen}"
    ours = {n for n in emitted if n.startswith(("tradewatch_probe", "tradewatch_sql", "tradewatch_textfile"))}
    documented_names = {n.replace("<query>", "positions") for n in documented}
    assert ours <= documented_names, f"emitted but not documented: {ours - documented_names}"


def runner_merges_families() -> bool:
    """Does exporter/scrape.py merge one family name coming from several collectors?"""
    from prometheus_client.core import GaugeMetricFamily

    from exporter.scrape import ScrapeCollector

    class Part:
        def __init__(self, name: str):
            self.name = name

        def collect(self):
            family = GaugeMetricFamily("shared_family", "Shared.", labels=["part"])
            family.add_metric([self.name], 1)
            yield family

    scrape = ScrapeCollector([Part("a"), Part("b")], version="test")
    try:
        return [m.name for m in scrape.collect()].count("shared_family") == 1
    finally:
        scrape.close()


@pytest.mark.integration
def test_all_probe_kinds_together_pass_promtool(all_kinds):
    if not runner_merges_families():
        pytest.xfail(
            "exporter/scrape.py yields each collector's families as they are, so tradewatch_probe_success "
            "from probe_http, probe_tcp and probe_sql appears as three families (promtool: 'second HELP "
            "line'); the runner must merge same-named families across collectors as node_exporter's "
            "gatherer does"
        )
    assert promtool_problems(all_kinds) == ""


def test_postgresql_probe_without_the_extra_stops_the_exporter_with_a_clear_error(tmp_path):
    cfg = tmp_path / "tradewatch.yaml"
    cfg.write_text(yaml.safe_dump({"probes": {"sql": [
        {"name": "pg-main", "driver": "postgresql", "dsn": "host=127.0.0.1 dbname=bot"}]}}))
    # The exporter as installed, with psycopg made unimportable (as without the extra).
    run = ("import sys; sys.modules['psycopg'] = None; from exporter.cli import main; "
           "sys.exit(main(sys.argv[1:]))")
    out = subprocess.run([sys.executable, "-c", run, "--config", str(cfg), "--listen",
                          f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2, out.stderr
    assert "probes.sql[0].driver" in out.stderr and "pg-main" in out.stderr
    assert "tradewatch-monitor[postgres]" in out.stderr


@pytest.mark.integration
def test_sigterm_is_not_held_up_by_a_probe_in_flight(tmp_path):
    release = threading.Event()

    def hang(h) -> None:
        release.wait(30)
        reply(200)(h)

    try:
        with http_server({"/hang": hang}) as target:
            config = {"probes": {"http": [{"name": "hung", "url": f"{target}/hang", "timeout": "20s"}]}}
            ctx, url = exporter(tmp_path, config, "probe_http")
            with ctx as proc:
                with contextlib.suppress(OSError):  # give up on the scrape: the probe stays in flight
                    urllib.request.urlopen(url, timeout=1).close()
                t0 = time.monotonic()
                proc.popen.send_signal(signal.SIGTERM)
                assert proc.popen.wait(10) == 0
                assert time.monotonic() - t0 < 10, "exit waited for the probe's 20 s timeout"
    finally:
        release.set()
