"""exporter/collectors/freqtrade.py against freqtrade's own API app (routes, auth, response models)
with a stub trading engine behind it (tests/support/freqtrade_standin.py), also through the real
exporter process; the config section's validation."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from exporter.collectors.freqtrade import CollectorFailed, FreqtradeCollector
from tests.support.exporter_probes import families, value
from tests.support.freqtrade_standin import BotState, FreqtradeStandIn
from tests.support.procs import binary, free_port, running, wait_until
from tests.support.prom import prometheus
from tradewatch import metric_names as names
from tradewatch.config import Config, ConfigError, FreqtradeBot, load_config
from tradewatch.rules import render_all


def bot(name: str, url: str, state: BotState | None = None, timeout: float = 3.0) -> FreqtradeBot:
    state = state or BotState()
    return FreqtradeBot(name=name, url=url, username=state.username, password=state.password, timeout=timeout)


def collect(collector: FreqtradeCollector) -> tuple[dict, Exception | None]:
    """The families the collector yields and what it raised after them (as the exporter serves them)."""
    out, error = [], None
    try:
        for family in collector.collect():
            out.append(family)
    except CollectorFailed as exc:
        error = exc
    return families(out), error


@contextmanager
def standins(*states: BotState) -> Iterator[list[FreqtradeStandIn]]:
    with ExitStack() as stack:
        yield [stack.enter_context(FreqtradeStandIn(s).serve()) for s in states]


def test_every_series_matches_what_freqtrade_answered():
    state = BotState()
    with standins(state) as (ft,):
        collector = FreqtradeCollector([bot("main", ft.url + "/api/v1/", state)])  # /api/v1 tolerated
        try:
            f, error = collect(collector)
        finally:
            collector.close()
    assert error is None
    expected = {
        names.TRADING_BOT_UP: 1,
        names.TRADING_REALIZED_PNL: state.closed_profit,
        names.TRADING_EQUITY: state.total,
        names.TRADING_OPEN_POSITIONS: state.open_count,
        names.TRADING_LAST_TRADE: state.latest_trade_ms / 1000,
        names.TRADING_HEARTBEAT: state.last_process_ts,
        names.TRADING_START_TIME: state.bot_start_ts,
        names.FREQTRADE_OPEN_TRADES: state.open_count,
        names.FREQTRADE_MAX_OPEN_TRADES: state.max_open,
        names.FREQTRADE_OPEN_PROFIT: sum(state.open_profits),
        names.FREQTRADE_CLOSED_PROFIT_RATIO: state.closed_ratio,
        names.FREQTRADE_CLOSED_TRADES: state.closed_trades,
        names.FREQTRADE_WINNING_TRADES: state.wins,
        names.FREQTRADE_LOSING_TRADES: state.losses,
        names.FREQTRADE_TODAY_PROFIT: state.today_profit,
        names.FREQTRADE_TODAY_TRADES: state.today_trades,
    }
    for name, want in expected.items():
        assert value(f, name, bot="main") == pytest.approx(want), name
    assert 0 <= value(f, names.FREQTRADE_LAST_PROCESS_AGE, bot="main") < 600
    assert value(f, names.FREQTRADE_STATE, bot="main", state="running") == 1
    assert value(f, names.FREQTRADE_STATE, bot="main", state="stopped") == 0
    assert ft.requests == ["ping", "health", "show_config", "profit", "balance", "count", "status", "daily"]


def test_bots_are_polled_concurrently():
    """Each bot's /ping waits until the other bot's /ping has arrived: polled one after the other,
    the first would wait in vain until its timeout and read as down."""
    barrier = threading.Barrier(2, timeout=5)

    def meet(endpoint: str) -> None:
        if endpoint == "ping":
            barrier.wait()

    a, b = BotState(before=meet), BotState(before=meet)
    with standins(a, b) as (fa, fb):
        collector = FreqtradeCollector([bot("a", fa.url, a, timeout=3), bot("b", fb.url, b, timeout=3)])
        try:
            f, error = collect(collector)
        finally:
            collector.close()
    assert error is None
    assert value(f, names.TRADING_BOT_UP, bot="a") == value(f, names.TRADING_BOT_UP, bot="b") == 1


def test_a_silent_or_absent_bot_is_down_and_fails_the_collector_but_the_others_are_served():
    release = threading.Event()

    def hang(endpoint: str) -> None:
        release.wait(10)

    good, slow = BotState(), BotState(before=hang)
    with standins(good, slow) as (fg, fs):
        collector = FreqtradeCollector([
            bot("good", fg.url, good), bot("slow", fs.url, slow, timeout=0.5),
            bot("gone", f"http://127.0.0.1:{free_port()}", timeout=0.5),
        ])
        try:
            f, error = collect(collector)
        finally:
            release.set()
            collector.close()
    assert error is not None and "gone" in str(error) and "slow" in str(error)
    assert value(f, names.TRADING_BOT_UP, bot="good") == 1
    assert value(f, names.TRADING_BOT_UP, bot="slow") == 0
    assert value(f, names.TRADING_BOT_UP, bot="gone") == 0
    assert value(f, names.TRADING_EQUITY, bot="good") == good.total
    assert {s.labels["bot"] for s in f[names.TRADING_EQUITY].samples} == {"good"}


def test_wrong_credentials_fail_the_collector_with_the_bot_up():
    state = BotState()
    with standins(state) as (ft,):
        wrong = FreqtradeBot(name="main", url=ft.url, username="freq", password="not-it")
        collector = FreqtradeCollector([wrong])
        try:
            f, error = collect(collector)
        finally:
            collector.close()
    assert error is not None and "credentials" in str(error) and "not-it" not in str(error)
    assert value(f, names.TRADING_BOT_UP, bot="main") == 1  # /ping is public in freqtrade
    assert names.TRADING_EQUITY not in f


def test_a_stopped_bot_reports_its_state_and_what_it_still_answers():
    state = BotState(state="stopped")
    with standins(state) as (ft,):
        collector = FreqtradeCollector([bot("main", ft.url, state)])
        try:
            f, error = collect(collector)
        finally:
            collector.close()
    assert error is None  # /count's 502 while stopped is freqtrade's normal answer
    assert value(f, names.FREQTRADE_STATE, bot="main", state="stopped") == 1
    assert value(f, names.FREQTRADE_STATE, bot="main", state="running") == 0
    assert names.FREQTRADE_OPEN_TRADES not in f
    assert value(f, names.TRADING_REALIZED_PNL, bot="main") == state.closed_profit


@pytest.mark.integration
def test_through_the_exporter_process(tmp_path):
    state = BotState()
    with standins(state) as (ft,):
        cfg = tmp_path / "tradewatch.yaml"
        cfg.write_text(yaml.safe_dump({"freqtrade": [
            {"name": "main", "url": ft.url, "username": "${FT_USER}", "password": "${FT_PASSWORD}",
             "timeout": "2s"},
            {"name": "gone", "url": f"http://127.0.0.1:{free_port()}", "timeout": "1s"},
        ]}))
        port = free_port()
        url = f"http://127.0.0.1:{port}/metrics"
        env = {"FT_USER": state.username, "FT_PASSWORD": state.password, "PATH": "/usr/bin:/bin"}
        args = [binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{port}", "--config", str(cfg),
                "--collector.disable-defaults", "--collector.freqtrade", "--collector.loadavg"]
        with (running(args, tmp_path / "exporter.log", ready_url=url, env=env),
              urllib.request.urlopen(url, timeout=10) as resp):
            text = resp.read().decode()
    f = families(text_string_to_metric_families(text))
    assert value(f, names.TRADING_BOT_UP, bot="main") == 1
    assert value(f, names.TRADING_BOT_UP, bot="gone") == 0
    assert value(f, names.TRADING_EQUITY, bot="main") == state.total
    assert value(f, names.COLLECTOR_SUCCESS, collector="freqtrade") == 0
    assert value(f, names.COLLECTOR_SUCCESS, collector="loadavg") == 1
    assert "node_load1" in f
    log = (tmp_path / "exporter.log").read_text()
    assert "gone" in log and state.password not in log


# --------------------------------------------------------------------------- config

def test_config_section_contract(monkeypatch, tmp_path):
    monkeypatch.setenv("FT_USER", "freq")
    monkeypatch.setenv("FT_PASSWORD", "s3cret")
    path = tmp_path / "tradewatch.yaml"
    path.write_text(yaml.safe_dump({"freqtrade": [{
        "name": "main", "url": "http://127.0.0.1:8081", "username": "${FT_USER}",
        "password": "${FT_PASSWORD}", "timeout": "5s"}]}))
    cfg = load_config(path)
    assert cfg.freqtrade[0].username == "freq" and cfg.freqtrade[0].password == "s3cret"
    assert cfg.freqtrade[0].timeout == 5.0
    assert "s3cret" not in str(cfg.masked())


@pytest.mark.parametrize(("entry", "problem"), [
    ({"name": "main", "url": "http://x:1", "colour": "red"}, "freqtrade[0].colour: unknown key"),
    ({"name": "main", "url": "ftp://x"}, "freqtrade[0].url"),
    ({"name": "main bot", "url": "http://x:1"}, "freqtrade[0].name"),
    ({"name": "main", "url": "http://x:1", "timeout": "0s"}, "freqtrade[0].timeout"),
])
def test_config_section_errors_name_the_key(tmp_path, entry, problem):
    path = tmp_path / "tradewatch.yaml"
    path.write_text(yaml.safe_dump({"freqtrade": [entry]}))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert problem in str(err.value) and str(path) in str(err.value)


def test_bot_names_are_unique():
    with pytest.raises(ValueError, match="unique"):
        Config(freqtrade=[{"name": "a", "url": "http://x:1"}, {"name": "a", "url": "http://y:1"}])


@pytest.mark.integration
def test_prometheus_scrapes_the_bots_and_fires_trading_bot_down(tmp_path):
    """The whole path: freqtrade's API -> the exporter process -> Prometheus with the rendered
    prometheus.yml and rules -> TradingBotDown for the bot that is gone, not for the one that answers."""
    state = BotState()
    with standins(state) as (ft,):
        cfg_data = {
            "intervals": {"system_metrics": "3s", "evaluation": "1s"},
            "alerting": {"for_override": "0s"},
            "freqtrade": [
                {"name": "main", "url": ft.url, "username": state.username, "password": state.password,
                 "timeout": "1s"},
                {"name": "gone", "url": f"http://127.0.0.1:{free_port()}", "timeout": "1s"},
            ],
        }
        cfg_file = tmp_path / "tradewatch.yaml"
        cfg_file.write_text(yaml.safe_dump(cfg_data))
        port = free_port()
        exporter_args = [binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{port}", "--config",
                         str(cfg_file), "--collector.disable-defaults", "--collector.freqtrade"]
        prom_port = free_port()
        work = tmp_path / "prom"
        render_all(load_config(cfg_file), work, exporter_targets=[f"127.0.0.1:{port}"], bridge_targets=[],
                   trading_bot_targets=[], prometheus_target=f"127.0.0.1:{prom_port}",
                   alertmanager_target=f"127.0.0.1:{free_port()}")
        prom_config = yaml.safe_load((work / "prometheus.yml").read_text())
        with (running(exporter_args, tmp_path / "exporter.log", ready_url=f"http://127.0.0.1:{port}/metrics"),
              prometheus(work, prom_config, port=prom_port) as prom):
            def bot_down() -> list[dict] | None:
                firing = [a for a in prom.api("alerts")["alerts"]
                          if a["labels"]["alertname"] == "TradingBotDown" and a["state"] == "firing"]
                return firing or None

            (down,) = wait_until(bot_down, 40, what="TradingBotDown firing")
            assert down["labels"]["bot"] == "gone" and down["labels"]["severity"] == "critical"
            equity = prom.query(f'{names.TRADING_EQUITY}{{bot="main"}}')
            assert float(equity[0]["value"][1]) == state.total
            assert prom.query(f"{names.TRADING_BOT_UP} == 1")[0]["metric"]["bot"] == "main"
