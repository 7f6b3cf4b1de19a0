"""The alert and recording-rule table: one entry per rule, read by the renderer, the rule unit
test generator and the docs table, so the three cannot drift apart.

Each alert is a small spec: its PromQL for one threshold value, the config key holding its levels
(or a fixed severity), annotation templates, the words for docs/alerts.md, and a scenario builder
that writes `promtool test rules` input series for a chosen value of the measured quantity.
Thresholds are in the config's units (percent, ms, hours, seconds); the PromQL compares the
0..1 ratios and seconds the metrics carry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tradewatch import metric_names as m
from tradewatch import quantities as qt
from tradewatch import trading_quantities as tq
from tradewatch.config import Config
from tradewatch.duration import format_duration
from tradewatch.quantities import Quantity
from tradewatch.vocabulary import WATCHDOG_ALERT

HOST = {"instance": "host-a:9184", "job": "exporter"}
BOT = {"instance": "127.0.0.1:9185", "job": "trading-bot"}
FREQTRADE = {"instance": "host-a:9184", "job": "exporter", "bot": "main"}  # polled by the exporter
BRIDGE = {"instance": "127.0.0.1:8080", "job": "bridge"}
PROBES = {"instance": "host-a:9184", "job": "probes"}


def num(x: float) -> str:
    """A number as PromQL and promtool read it back exactly (no 0.30000000000000004)."""
    text = f"{x:.15g}"
    return text if float(text) == x else repr(x)


def sel(metric: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def ramp(start: float, step: float, minutes: int) -> str:
    """promtool series notation: `start`, then `step` more every minute, up to minute `minutes`."""
    sign = "+" if step >= 0 else "-"
    return f"{num(start)}{sign}{num(abs(step))}x{minutes}"


def const(value: float, minutes: int) -> str:
    return ramp(value, 0, minutes)


HOST_NODENAME = "host-a"
_UNAME = {**HOST, "nodename": HOST_NODENAME, "sysname": "Linux", "release": "6.1.0", "machine": "x86_64"}


@dataclass(frozen=True)
class Scenario:
    """Input series for one promtool case, evaluated at minute `minutes`."""

    series: list[tuple[str, str]]
    labels: dict[str, str]  # the labels the alert gets from its expression
    value: float  # the alert's $value at evaluation time
    minutes: int


# (cfg, value in threshold units (1/0 = broken/healthy for fixed rules), for seconds) -> Scenario
ScenarioFn = Callable[[Config, float, float], Scenario]


@dataclass(frozen=True)
class AlertSpec:
    name: str
    file: str  # rule file (prometheus/rules/<file>.yml)
    category: str
    expr: Callable[[Config, str, float | None], str]  # (cfg, severity, threshold) -> PromQL
    for_default: float
    summary: str  # Go template; <threshold> and <dashboard> are filled in per level
    description: str
    words: str  # the expression in words, for docs/alerts.md; <threshold> filled in
    scenario: ScenarioFn
    threshold_key: str | None = None  # a Thresholds field; None: one rule at `severity`
    severity: str | None = None
    unit: str = "%"  # %, ms, h, s, count, ratio, money
    compare: str = ">"
    # named situations in which no level may fire (promtool cases expecting silence)
    quiet: tuple[tuple[str, ScenarioFn], ...] = ()
    # further named situations in which every level fires (built with a value past the highest
    # level, or 1 for a fixed-severity rule), besides the scenario's own past/short-of cases
    also_fires: tuple[tuple[str, ScenarioFn], ...] = ()
    host_named: bool = False  # a host alert: carries the host's `nodename` (quantities.with_host_name)

    def promql(self, cfg: Config, severity: str, threshold: float | None) -> str:
        expr = self.expr(cfg, severity, threshold)
        return qt.with_host_name(expr) if self.host_named else expr


def threshold_text(unit: str, value: float) -> str:
    if unit == "%":
        return f"{value:g}%"
    if unit == "ms":
        return f"{value:g} ms"
    if unit == "h":
        return f"{value:g}h"
    if unit == "s":
        return format_duration(value)
    if unit == "per core":
        return f"{value:g} per core"
    return f"{value:g}"


def probe_window(cfg: Config) -> str:
    """Probes are scraped every intervals.api: look back three of those (at least 5m)."""
    return format_duration(max(300.0, 3 * cfg.intervals.api))


def drawdown_window(cfg: Config) -> str:
    return format_duration(cfg.alerting.trading_drawdown_window)


def heartbeat_window(cfg: Config) -> str:
    return format_duration(max(3600.0, 3 * cfg.thresholds.trading_heartbeat_stale_seconds.items()[-1][1]))


# --------------------------------------------------------------------------- scenarios

def _cpu(cfg: Config, v: float, for_s: float) -> Scenario:
    n = 5 + _mins(for_s) + 2
    busy = 60 * v / 100
    series = [
        (sel("node_cpu_seconds_total", {**HOST, "cpu": "0", "mode": "idle"}), ramp(0, 60 - busy, n)),
        (sel("node_cpu_seconds_total", {**HOST, "cpu": "0", "mode": "user"}), ramp(0, busy, n)),
    ]
    return Scenario(series, dict(HOST), v / 100, n)


def _memory(cfg: Config, v: float, for_s: float) -> Scenario:
    n = _mins(for_s) + 2
    total = 8 * 1024**3
    avail = total * (1 - v / 100)
    series = [
        (sel("node_memory_MemTotal_bytes", HOST), const(total, n)),
        (sel("node_memory_MemAvailable_bytes", HOST), const(avail, n)),
    ]
    return Scenario(series, dict(HOST), 1 - float(num(avail)) / total, n)


_ROOT = {"device": "/dev/sda1", "fstype": "ext4", "mountpoint": "/"}
_SIZE = 100 * 1024**3


def _fs_series(labels: dict[str, str], size: float, avail: str, readonly: int,
               n: int) -> list[tuple[str, str]]:
    return [
        (sel("node_filesystem_size_bytes", {**HOST, **labels}), const(size, n)),
        (sel("node_filesystem_avail_bytes", {**HOST, **labels}), avail),
        (sel("node_filesystem_readonly", {**HOST, **labels}), const(readonly, n)),
    ]


def _fs_full(cfg: Config, v: float, for_s: float) -> Scenario:
    n = _mins(for_s) + 2
    avail = _SIZE * (1 - v / 100)
    # A read-only image mounted full must never alert.
    iso = {"device": "/dev/loop0", "fstype": "ext4", "mountpoint": "/mnt/image"}
    series = _fs_series(_ROOT, _SIZE, const(avail, n), 0, n) + _fs_series(iso, 1024**3, const(0, n), 1, n)
    return Scenario(series, {**HOST, **_ROOT}, 1 - float(num(avail)) / _SIZE, n)


def _fs_filling(cfg: Config, hours: float, for_s: float) -> Scenario:
    """A disk draining linearly, below every guard, that will be full `hours` after the start of
    the `for` window (so `hours - for` after evaluation)."""
    n = 360 + _mins(for_s) + 2
    hours = hours - for_s / 3600
    guard = min(v for _, v in cfg.thresholds.disk_fill_avail_percent.items()) / 100
    # end low enough for every guard, start low enough to fit on the disk
    ratio = min(guard / 2, 0.9 / (1 + n / (60 * hours)))
    end = _SIZE * ratio
    step = end / (hours * 60)  # bytes per minute
    start = end + step * n
    # A full but static disk (no growth) must never alert: the node-mixin guard.
    data = {"device": "/dev/sdb1", "fstype": "xfs", "mountpoint": "/data"}
    series = _fs_series(_ROOT, _SIZE, ramp(start, -step, n), 0, n) + _fs_series(
        data, _SIZE, const(_SIZE * 0.01, n), 0, n
    )
    return Scenario(series, {**HOST, **_ROOT}, (float(num(start)) - float(num(step)) * n) / _SIZE, n)


def _fs_static_full(cfg: Config, v: float, for_s: float) -> Scenario:
    """A disk 99 % full that does not grow: predict_linear stays positive, nothing to predict."""
    n = 360 + _mins(for_s) + 2
    data = {"device": "/dev/sdb1", "fstype": "xfs", "mountpoint": "/data"}
    return Scenario(_fs_series(data, _SIZE, const(_SIZE * 0.01, n), 0, n), {}, 0, n)


def _fs_readonly_filling(cfg: Config, v: float, for_s: float) -> Scenario:
    """The draining disk of the firing case, but mounted read-only."""
    hours = min(h for _, h in cfg.thresholds.disk_fill_hours.items()) * 0.5
    filling = _fs_filling(cfg, hours + for_s / 3600, for_s)
    series = [(s, const(1, filling.minutes) if s.startswith("node_filesystem_readonly") else v)
              for s, v in filling.series]
    return Scenario(series, {}, 0, filling.minutes)


def _fs_readonly_full(cfg: Config, v: float, for_s: float) -> Scenario:
    n = _mins(for_s) + 2
    iso = {"device": "/dev/sr0", "fstype": "ext4", "mountpoint": "/media/cdrom"}
    return Scenario(_fs_series(iso, _SIZE, const(0, n), 1, n), {}, 0, n)


def _not_deployed(cfg: Config, v: float, for_s: float) -> Scenario:
    """A host that runs only the exporter: no bot, no probes, no bridge series at all."""
    n = 60 + _mins(for_s)
    return Scenario([(sel("up", HOST), const(1, n)),
                     (sel("node_load1", HOST), const(0.5, n))], {}, 0, n)


def _load(cfg: Config, v: float, for_s: float) -> Scenario:
    n = _mins(for_s) + 2
    series = [
        (sel("node_cpu_seconds_total", {**HOST, "cpu": c, "mode": "idle"}), ramp(0, 30, n)) for c in "01"
    ] + [(sel("node_load1", HOST), const(2 * v, n))]
    return Scenario(series, dict(HOST), float(num(2 * v)) / 2, n)


def _net_errors(cfg: Config, v: float, for_s: float) -> Scenario:
    n = 5 + _mins(for_s) + 2
    series = []
    for dev, errs in (("eth0", 20 * v), ("lo", 1000.0)):  # loopback errors are ignored
        d = {**HOST, "device": dev}
        series += [
            (sel("node_network_receive_packets_total", d), ramp(0, 1000, n)),
            (sel("node_network_transmit_packets_total", d), ramp(0, 1000, n)),
            (sel("node_network_receive_errs_total", d), ramp(0, errs, n)),
            (sel("node_network_transmit_errs_total", d), const(0, n)),
        ]
    return Scenario(series, {**HOST, "device": "eth0"}, v / 100, n)


def _flag(metric: str, labels: dict[str, str], broken_value: float = 0, healthy_value: float = 1,
          window: int = 0) -> ScenarioFn:
    def build(cfg: Config, broken: float, for_s: float) -> Scenario:
        n = window + _mins(for_s) + 2
        value = broken_value if broken else healthy_value
        return Scenario([(sel(metric, labels), const(value, n))], dict(labels), value, n)

    return build


def _probe(ptype: str, metric: str = m.PROBE_SUCCESS, extra: dict[str, str] | None = None) -> ScenarioFn:
    labels = {**PROBES, **(extra or {"probe": f"{ptype}-check", "type": ptype})}
    return _flag(metric, labels)


def _api_latency(cfg: Config, ms: float, for_s: float) -> Scenario:
    n = 5 + _mins(for_s) + 2
    upper = ms / 1000 / 0.95  # every request in (0, upper]: p95 interpolates to 0.95 * upper
    b = m.TRADING_EXCHANGE_DURATION + "_bucket"
    series = [
        (sel(b, {**BOT, "le": num(upper)}), ramp(0, 100, n)),
        (sel(b, {**BOT, "le": "+Inf"}), ramp(0, 100, n)),
    ]
    return Scenario(series, dict(BOT), float(num(upper)) * 0.95, n)


def _api_errors(cfg: Config, v: float, for_s: float) -> Scenario:
    n = 5 + _mins(for_s) + 2
    series = [
        (sel(m.TRADING_EXCHANGE_REQUESTS, {**BOT, "code": "200"}), ramp(0, 2000 - 20 * v, n)),
        (sel(m.TRADING_EXCHANGE_REQUESTS, {**BOT, "code": "503"}), ramp(0, 20 * v, n)),
    ]
    return Scenario(series, dict(BOT), v / 100, n)


def _heartbeat(cfg: Config, age: float, for_s: float) -> Scenario:
    """The bot stops beating: at evaluation the last beat is `age + for` old."""
    n = _mins(for_s) + 5
    frozen = n * 60 - age - for_s
    values = " ".join(num(min(i * 60, frozen)) for i in range(n + 1))
    return Scenario([(sel(m.TRADING_HEARTBEAT, BOT), values)], dict(BOT), age + for_s, n)


def _rejections(cfg: Config, v: float, for_s: float) -> Scenario:
    n = 15 + _mins(for_s) + 2
    series = [
        (sel(m.TRADING_ORDERS, {**BOT, "status": "submitted"}), ramp(0, 100, n)),
        (sel(m.TRADING_ORDERS, {**BOT, "status": "rejected"}), ramp(0, v, n)),
        (sel(m.TRADING_ORDERS, {**BOT, "status": "filled"}), ramp(0, 100 - v, n)),
    ]
    return Scenario(series, dict(BOT), v / 100, n)


def _drawdown(cfg: Config, v: float, for_s: float) -> Scenario:
    """Equity climbs to a peak of 14500, then falls by `v`; realized P&L and start time stay put."""
    n = 10 + _mins(for_s) + 2
    equity = f"{ramp(10000, 500, 9)} {const(14500 - v, n - 10)}"
    series = [(sel(m.TRADING_EQUITY, BOT), equity), (sel(m.TRADING_REALIZED_PNL, BOT), const(250, n)),
              (sel(m.TRADING_START_TIME, BOT), const(1_700_000_000, n))]
    return Scenario(series, dict(BOT), 14500 - float(num(14500 - v)), n)


def _drawdown_realized(cfg: Config, v: float, for_s: float) -> Scenario:
    """A bot that exports no equity: realized P&L climbs to 5000, then falls by `v`, no restart."""
    n = 10 + _mins(for_s) + 2
    values = f"{ramp(500, 500, 9)} {const(5000 - v, n - 10)}"
    series = [(sel(m.TRADING_REALIZED_PNL, BOT), values),
              (sel(m.TRADING_START_TIME, BOT), const(1_700_000_000, n))]
    return Scenario(series, dict(BOT), 5000 - float(num(5000 - v)), n)


def _restart(cfg: Config, for_s: float, equity: bool) -> Scenario:
    """The bot restarts at minute 10: realized P&L 5000 resets to 0, then loses half the lowest
    level (a drawdown since the restart, below every level); equity, when exported, holds."""
    n = 10 + _mins(for_s) + 5
    lowest = levels_of(cfg, "drawdown")[0]
    pnl = f"{ramp(500, 500, 9)} {const(0, 1)} {const(-lowest / 2, n - 11)}"
    start = f"{const(1_700_000_000, 9)} {const(1_700_000_600, n - 10)}"
    series = [(sel(m.TRADING_REALIZED_PNL, BOT), pnl), (sel(m.TRADING_START_TIME, BOT), start)]
    if equity:
        series.append((sel(m.TRADING_EQUITY, BOT), const(15000, n)))
    return Scenario(series, {}, 0, n)


def _restart_realized_only(cfg: Config, v: float, for_s: float) -> Scenario:
    return _restart(cfg, for_s, equity=False)


def _restart_with_equity(cfg: Config, v: float, for_s: float) -> Scenario:
    return _restart(cfg, for_s, equity=True)


def levels_of(cfg: Config, key: str) -> list[float]:
    configured = getattr(cfg.thresholds, key)
    return [v for _, v in configured.items()] if configured is not None else []


def _ft_process_stale(cfg: Config, age: float, for_s: float) -> Scenario:
    """A freqtrade bot whose API answers (up 1) while its last process loop is `age + for` old."""
    hb = _heartbeat(cfg, age, for_s)
    series = [(sel(m.TRADING_HEARTBEAT, FREQTRADE), hb.series[0][1]),
              (sel(m.TRADING_BOT_UP, FREQTRADE), const(1, hb.minutes))]
    return Scenario(series, dict(FREQTRADE), hb.value, hb.minutes)


def _ft_down_heartbeat(cfg: Config, v: float, for_s: float) -> Scenario:
    """A freqtrade bot that stopped answering: its heartbeat froze, TradingBotDown speaks for it."""
    top = levels_of(cfg, "trading_heartbeat_stale_seconds")[-1]
    hb = _heartbeat(cfg, top * 2, for_s)
    series = [(sel(m.TRADING_HEARTBEAT, FREQTRADE), hb.series[0][1]),
              (sel(m.TRADING_BOT_UP, FREQTRADE), const(0, hb.minutes))]
    return Scenario(series, {}, 0, hb.minutes)


_RATE_LIMIT_LABELS = {**BOT, "exchange": "binance"}


def _rate_limits(cfg: Config, count: float, for_s: float) -> Scenario:
    """`count` rate-limit answers every 5 minutes, seen by ccxt twice (a 429 request and a
    RateLimitExceeded error) and counted once; an exchange without any stays quiet."""
    n = 10 + _mins(for_s)
    stepped = " ".join(num(count * (i // 5)) for i in range(n + 1))
    ok = {**_RATE_LIMIT_LABELS, "endpoint": "create_order"}
    other = {**BOT, "exchange": "kraken", "endpoint": "fetch_ticker"}
    series = [
        (sel(m.TRADING_EXCHANGE_ERRORS, {**ok, "error": "RateLimitExceeded"}), stepped),
        (sel(m.TRADING_EXCHANGE_REQUESTS, {**ok, "code": "429"}), stepped),
        (sel(m.TRADING_EXCHANGE_REQUESTS, {**ok, "code": "200"}), ramp(0, 60, n)),
        (sel(m.TRADING_EXCHANGE_REQUESTS, {**other, "code": "200"}), ramp(0, 60, n)),
    ]
    return Scenario(series, dict(_RATE_LIMIT_LABELS), float(num(count)), n)


def _rate_limits_by_code(cfg: Config, count: float, for_s: float) -> Scenario:
    """A hand-instrumented bot that records only HTTP codes: its 418s count."""
    n = 10 + _mins(for_s)
    stepped = " ".join(num(count * (i // 5)) for i in range(n + 1))
    series = [(sel(m.TRADING_EXCHANGE_REQUESTS, {**BOT, "code": "418"}), stepped),
              (sel(m.TRADING_EXCHANGE_REQUESTS, {**BOT, "code": "200"}), ramp(0, 60, n))]
    return Scenario(series, dict(BOT), float(num(count)), n)


def _balance(cfg: Config, v: float, for_s: float) -> Scenario:
    n = _mins(for_s) + 2
    return Scenario([(sel(m.TRADING_EQUITY, FREQTRADE), const(v, n))], dict(FREQTRADE), float(num(v)), n)


def _email_failures(cfg: Config, count: float, for_s: float) -> Scenario:
    n = _mins(for_s) + 8
    jump = n - _mins(for_s) - 3
    failed = f"{const(0, jump - 1)} {const(count, n - jump)}"
    labels = {**BRIDGE, "result": "failed"}
    series = [
        (sel(m.BRIDGE_EMAILS, labels), failed),
        (sel(m.BRIDGE_EMAILS, {**BRIDGE, "result": "sent"}), ramp(0, 3, n)),
    ]
    return Scenario(series, labels, count, n)


def _outbox(cfg: Config, depth: float, for_s: float) -> Scenario:
    n = 5 + _mins(for_s) + 2
    rising = f"{ramp(0, depth / 5, 5)} {const(depth, n - 6)}"
    # Another bridge with a bigger but draining backlog is catching up: no alert.
    other = {**BRIDGE, "instance": "127.0.0.1:8081"}
    drain = ramp(depth * 3, -depth * 1.5 / n, n)
    series = [(sel(m.BRIDGE_OUTBOX_DEPTH, BRIDGE), rising), (sel(m.BRIDGE_OUTBOX_DEPTH, other), drain)]
    return Scenario(series, dict(BRIDGE), depth, n)


def _outbox_draining(cfg: Config, v: float, for_s: float) -> Scenario:
    """A backlog far above every level that shrinks every minute: the sender is catching up."""
    top = max(t for _, t in cfg.thresholds.outbox_backlog.items())
    n = 15 + _mins(for_s) + 2
    return Scenario([(sel(m.BRIDGE_OUTBOX_DEPTH, BRIDGE), ramp(top * 4, -top * 2 / n, n))], {}, 0, n)


def _watchdog(cfg: Config, broken: float, for_s: float) -> Scenario:
    n = _mins(for_s) + 2
    return Scenario([(sel("up", HOST), const(1, n))], {}, 1, n)


def _mins(seconds: float) -> int:
    return math.ceil(seconds / 60)


def _named_host(build: ScenarioFn) -> ScenarioFn:
    """A host scenario whose exporter also exposes node_uname_info: the alert carries `nodename`."""
    def named(cfg: Config, v: float, for_s: float) -> Scenario:
        sc = build(cfg, v, for_s)
        labels = {**sc.labels, "nodename": HOST_NODENAME} if sc.labels else sc.labels
        return Scenario([*sc.series, (sel(qt.UNAME_INFO, _UNAME), const(1, sc.minutes))], labels, sc.value,
                        sc.minutes)

    return named


# --------------------------------------------------------------------------- recording rules

@dataclass(frozen=True)
class RecordSpec:
    record: str
    file: str
    expr: Callable[[Config], str]
    words: str
    # input series and the exact samples the rule must produce from them
    sample: Callable[[Config], tuple[list[tuple[str, str]], int, list[tuple[dict[str, str], float]]]]


def _rec_cpu_sample(cfg: Config):  # 25 % busy on two CPUs: iowait and steal count as idle
    series = []
    for c in "01":
        series += [
            (sel("node_cpu_seconds_total", {**HOST, "cpu": c, "mode": "idle"}), ramp(0, 30, 10)),
            (sel("node_cpu_seconds_total", {**HOST, "cpu": c, "mode": "iowait"}), ramp(0, 15, 10)),
            (sel("node_cpu_seconds_total", {**HOST, "cpu": c, "mode": "user"}), ramp(0, 15, 10)),
        ]
    return series, 10, [(HOST, 0.25)]


def _rec_num_cpu_sample(cfg: Config):
    series = [(sel("node_cpu_seconds_total", {**HOST, "cpu": c, "mode": md}), ramp(0, 30, 5))
              for c in "0123" for md in ("idle", "user")]
    return series, 5, [(HOST, 4)]


def _rec_mem_sample(cfg: Config):
    return [
        (sel("node_memory_MemTotal_bytes", HOST), const(8 * 1024**3, 2)),
        (sel("node_memory_MemAvailable_bytes", HOST), const(6 * 1024**3, 2)),
    ], 2, [(HOST, 0.25)]


def _rec_fs_sample(cfg: Config):
    tmp = {"device": "tmpfs", "fstype": "tmpfs", "mountpoint": "/run"}
    series = _fs_series(_ROOT, _SIZE, const(_SIZE * 0.75, 2), 0, 2) + _fs_series(tmp, 0, const(0, 2), 0, 2)
    return series, 2, [({**HOST, **_ROOT}, 0.25)]  # a zero-sized filesystem yields nothing


def _rec_load_sample(cfg: Config):
    series, n, _ = _rec_num_cpu_sample(cfg)
    return [*series, (sel("node_load1", HOST), const(6, n))], n, [(HOST, 1.5)]


def _rec_net_err_sample(cfg: Config):
    d = {**HOST, "device": "eth0"}
    series = [
        (sel("node_network_receive_packets_total", d), ramp(0, 600, 10)),
        (sel("node_network_transmit_packets_total", d), ramp(0, 600, 10)),
        (sel("node_network_receive_errs_total", d), ramp(0, 3, 10)),
        (sel("node_network_transmit_errs_total", d), const(0, 10)),
        # an idle interface: no packets, no ratio (not 0/0 = NaN)
        (sel("node_network_receive_packets_total", {**d, "device": "eth1"}), const(0, 10)),
        (sel("node_network_transmit_packets_total", {**d, "device": "eth1"}), const(0, 10)),
        (sel("node_network_receive_errs_total", {**d, "device": "eth1"}), const(0, 10)),
        (sel("node_network_transmit_errs_total", {**d, "device": "eth1"}), const(0, 10)),
    ]
    return series, 10, [(d, 0.0025)]


def _rec_net_bytes_sample(direction: str):
    def sample(cfg: Config):
        series = [
            (sel(f"node_network_{direction}_bytes_total", {**HOST, "device": "eth0"}), ramp(0, 6000, 10)),
            (sel(f"node_network_{direction}_bytes_total", {**HOST, "device": "eth1"}), ramp(0, 3000, 10)),
            (sel(f"node_network_{direction}_bytes_total", {**HOST, "device": "lo"}), ramp(0, 60000, 10)),
        ]
        return series, 10, [(HOST, 150)]

    return sample


def _rec_probe_sample(cfg: Config):
    """Probes scraped every intervals.api (gaps between), one failure in every four scrapes."""
    labels = {**PROBES, "probe": "exchange-api", "type": "http"}
    every = max(1, round(cfg.intervals.api / 60))
    scrapes = 3 * 4
    values = []
    for i in range(scrapes * every + 1):
        if i % every:
            values.append("_")
        else:
            values.append("0" if (i // every) % 4 == 0 else "1")
    n = scrapes * every
    window = max(300.0, 3 * cfg.intervals.api) / 60
    seen = [float(v) for i, v in enumerate(values) if v != "_" and n - window <= i <= n]
    return [(sel(m.PROBE_SUCCESS, labels), " ".join(values))], n, [(labels, sum(seen) / len(seen))]


def _rec_api_p95_sample(cfg: Config):
    b = m.TRADING_EXCHANGE_DURATION + "_bucket"
    series = [
        (sel(b, {**BOT, "code": "200", "le": "0.5"}), ramp(0, 50, 10)),
        (sel(b, {**BOT, "code": "200", "le": "1"}), ramp(0, 90, 10)),
        (sel(b, {**BOT, "code": "200", "le": "+Inf"}), ramp(0, 100, 10)),
        (sel(b, {**BOT, "code": "500", "le": "0.5"}), const(0, 10)),
        (sel(b, {**BOT, "code": "500", "le": "1"}), const(0, 10)),
        (sel(b, {**BOT, "code": "500", "le": "+Inf"}), const(0, 10)),
    ]
    return series, 10, [(BOT, 1.0)]  # rank 95 of 100 is beyond the le=1 bucket (90): the +Inf bucket


def _rec_api_err_sample(cfg: Config):
    series = [
        (sel(m.TRADING_EXCHANGE_REQUESTS, {**BOT, "code": "200"}), ramp(0, 360, 10)),
        (sel(m.TRADING_EXCHANGE_REQUESTS, {**BOT, "code": "302"}), ramp(0, 60, 10)),
        (sel(m.TRADING_EXCHANGE_REQUESTS, {**BOT, "code": "429"}), ramp(0, 30, 10)),
        (sel(m.TRADING_EXCHANGE_REQUESTS, {**BOT, "code": "timeout"}), ramp(0, 30, 10)),
    ]
    return series, 10, [(BOT, 0.125)]  # 1 error/s of 8 requests/s


def _rec_reject_sample(cfg: Config):
    series = [
        (sel(m.TRADING_ORDERS, {**BOT, "status": "submitted"}), ramp(0, 480, 20)),
        (sel(m.TRADING_ORDERS, {**BOT, "status": "rejected"}), ramp(0, 60, 20)),
        (sel(m.TRADING_ORDERS, {**BOT, "status": "filled"}), ramp(0, 420, 20)),
    ]
    return series, 20, [(BOT, 0.125)]


def _rate(metric: str, matchers: str, window: str = "5m") -> str:
    selector = f"{metric}{{{matchers}}}" if matchers else metric
    return f"rate({selector}[{window}])"


def _host(q: Quantity, sample: Callable[[Config], tuple[list[tuple[str, str]], int, list]]) -> RecordSpec:
    """A host quantity's recording rule: its definition lives in tradewatch.quantities."""
    return RecordSpec(q.record, q.file, lambda c: q.expr, q.words, sample)


RECORDS: list[RecordSpec] = [
    _host(qt.NUM_CPU, _rec_num_cpu_sample),
    _host(qt.CPU, _rec_cpu_sample),
    _host(qt.MEMORY, _rec_mem_sample),
    _host(qt.FILESYSTEM, _rec_fs_sample),
    _host(qt.LOAD_PER_CORE, _rec_load_sample),
    _host(qt.NETWORK_ERRORS, _rec_net_err_sample),
    _host(qt.NETWORK_RECEIVE, _rec_net_bytes_sample("receive")),
    _host(qt.NETWORK_TRANSMIT, _rec_net_bytes_sample("transmit")),
    RecordSpec(
        m.REC_PROBE_SUCCESS_RATIO, "api",
        lambda c: f"avg_over_time({m.PROBE_SUCCESS}[{probe_window(c)}])",
        "share of successful probes over max(5m, 3 x intervals.api)", _rec_probe_sample,
    ),
    RecordSpec(
        m.REC_API_P95, "api", lambda c: tq.API_P95.expr, tq.API_P95.words, _rec_api_p95_sample,
    ),
    RecordSpec(
        m.REC_API_ERROR_RATIO, "api", lambda c: tq.API_ERROR_RATIO.expr, tq.API_ERROR_RATIO.words,
        _rec_api_err_sample,
    ),
    RecordSpec(
        m.REC_ORDER_REJECTION_RATIO, "trading", lambda c: tq.REJECTION_RATIO.expr, tq.REJECTION_RATIO.words,
        _rec_reject_sample,
    ),
]


# --------------------------------------------------------------------------- alerting rules

def _ratio(t: float | None) -> str:
    assert t is not None
    return num(t / 100)


# The host as people name it (the `nodename` that host alerts carry, from node_uname_info or a
# target label) with its address as detail; the address alone when the alert has no nodename.
HOST_TEXT = ("{{ with $labels.nodename }}{{ . }} ({{ $labels.instance }}){{ else }}{{ $labels.instance }}"
             "{{ end }}")
_ON_INSTANCE = "on " + HOST_TEXT
_FS = "{{ $labels.mountpoint }} ({{ $labels.device }}) " + _ON_INSTANCE


_ON_BOT = "on (job, instance, bot)"


def _drawdown_expr(c: Config, severity: str, t: float | None) -> str:
    """Equity's fall from its peak; for bots without equity, realized P&L's fall from its peak
    since the last restart: the subquery keeps only the samples taken under the current
    `trading_start_time_seconds` (`@ end()`), so a reset to 0 on restart is not a loss."""
    w, pnl, eq, start = drawdown_window(c), m.TRADING_REALIZED_PNL, m.TRADING_EQUITY, m.TRADING_START_TIME
    since_restart = f"({pnl} and {_ON_BOT} ({start} == {start} @ end()))"
    return (
        f"max_over_time({eq}[{w}]) - {eq} > {num(t or 0)}\n"
        "or\n"
        "(\n"
        f"  max_over_time({since_restart}[{w}:1m]) - {pnl} > {num(t or 0)}\n"
        f"  unless {_ON_BOT} {eq}\n"
        ")"
    )


_RATE_LIMITED_ERRORS = 'error=~"RateLimitExceeded|DDoSProtection"'
_RATE_LIMITED_CODES = 'code=~"429|418"'


def _rate_limit_expr(c: Config, severity: str, t: float | None) -> str:
    """ccxt's error classes where the bot has them, else the HTTP codes (not both: ccxt counts a 429
    as a request and as an error)."""
    by = "sum by (job, instance, bot, exchange)"
    return (
        f"(\n  {by} (increase({m.TRADING_EXCHANGE_ERRORS}{{{_RATE_LIMITED_ERRORS}}}[5m]))\nor\n"
        f"  {by} (increase({m.TRADING_EXCHANGE_REQUESTS}{{{_RATE_LIMITED_CODES}}}[5m]))\n) >= {num(t or 0)}"
    )


def _fill_expr(c: Config, severity: str, hours: float | None) -> str:
    assert hours is not None
    guard = getattr(c.thresholds.disk_fill_avail_percent, severity)
    avail, size = f"{qt.FS_AVAIL}{{{qt.FS_MATCHERS}}}", f"{qt.FS_SIZE}{{{qt.FS_MATCHERS}}}"
    return (
        f"(\n  {avail} / {size} < {_ratio(guard)}\nand\n"
        f"  predict_linear({avail}[6h], {num(hours * 3600)}) < 0\nand\n"
        f"  {qt.FS_READONLY}{{{qt.FS_MATCHERS}}} == 0\n)"
    )


ALERTS: list[AlertSpec] = [
    AlertSpec(
        "HostCpuHigh", "system", "system",
        lambda c, s, t: f"{m.REC_CPU_UTILISATION} > {_ratio(t)}",
        600,
        "CPU busy " + _ON_INSTANCE,
        "CPU utilisation " + _ON_INSTANCE + " is {{ $value | humanizePercentage }} "
        "(<severity> above <threshold>).",
        "CPU utilisation (all CPUs, 5m rate) above <threshold>",
        _named_host(_cpu), host_named=True, threshold_key="cpu_percent",
    ),
    AlertSpec(
        "HostMemoryHigh", "system", "system",
        lambda c, s, t: f"{m.REC_MEMORY_UTILISATION} > {_ratio(t)}",
        600,
        "Memory nearly exhausted " + _ON_INSTANCE,
        "Memory utilisation " + _ON_INSTANCE + " is {{ $value | humanizePercentage }} "
        "(<severity> above <threshold>).",
        "memory in use (1 - MemAvailable / MemTotal) above <threshold>",
        _named_host(_memory), host_named=True, threshold_key="memory_percent",
    ),
    AlertSpec(
        "HostFilesystemFull", "system", "system",
        lambda c, s, t: (f"{m.REC_FILESYSTEM_USAGE} > {_ratio(t)}\n"
                         "unless on (job, instance, device, mountpoint, fstype)\n"
                         "  node_filesystem_readonly == 1"),
        300,
        "Filesystem {{ $labels.mountpoint }} nearly full " + _ON_INSTANCE,
        "Filesystem " + _FS + " is {{ $value | humanizePercentage }} full (<severity> above <threshold>).",
        "a filesystem's used share (per mount point, read-only mounts excluded) above <threshold>",
        _named_host(_fs_full), host_named=True, threshold_key="disk_percent",
        quiet=(("a full read-only mount", _fs_readonly_full),),
    ),
    AlertSpec(
        "HostFilesystemFillingUp", "system", "system",
        _fill_expr,
        3600,
        "Filesystem {{ $labels.mountpoint }} " + _ON_INSTANCE + " will be full within <threshold>",
        "Filesystem " + _FS + " has {{ $value | humanizePercentage }} space left and, at the rate of the "
        "last 6h, will be full within <threshold>.",
        "at the last 6h's linear trend a filesystem will be full within <threshold>, while less than "
        "<guard> of it is available and it is writable (node-mixin guard against noise)",
        _named_host(_fs_filling), host_named=True, threshold_key="disk_fill_hours", unit="h", compare="<",
        quiet=(("a full but static disk", _fs_static_full),
               ("a filling read-only mount", _fs_readonly_filling)),
    ),
    AlertSpec(
        "HostLoadHigh", "system", "system",
        lambda c, s, t: f"{m.REC_LOAD_PER_CORE} > {num(t or 0)}",
        900,
        "System saturated " + _ON_INSTANCE,
        "The 1-minute load average " + _ON_INSTANCE + " is {{ $value | humanize }} per CPU core "
        "(<severity> above <threshold>).",
        "1-minute load average per CPU core above <threshold>",
        _named_host(_load), host_named=True, threshold_key="load_per_core", unit="per core",
    ),
    AlertSpec(
        "HostNetworkErrors", "network", "network",
        lambda c, s, t: f"{m.REC_NETWORK_ERROR_RATIO} > {_ratio(t)}",
        600,
        "Network errors on {{ $labels.device }} " + _ON_INSTANCE,
        "{{ $value | humanizePercentage }} of the packets on {{ $labels.device }} " + _ON_INSTANCE
        + " fail with receive or transmit errors (<severity> above <threshold>).",
        "receive + transmit errors per packet on a device (not lo), 5m rate, above <threshold>",
        _named_host(_net_errors), host_named=True, threshold_key="network_error_percent",
    ),
    AlertSpec(
        "TargetDown", "system", "system",
        lambda c, s, t: "up == 0",
        300,
        "{{ $labels.job }} target {{ $labels.instance }} is down",
        "Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}: the process or host is "
        "down or unreachable.",
        "Prometheus fails to scrape a target (`up == 0`)",
        _flag("up", HOST), severity="critical", unit="",
    ),
    AlertSpec(
        "CollectorFailing", "system", "system",
        lambda c, s, t: f"{m.COLLECTOR_SUCCESS} == 0",
        600,
        "Collector {{ $labels.collector }} failing " + _ON_INSTANCE,
        "The exporter's {{ $labels.collector }} collector " + _ON_INSTANCE + " fails or times out: its "
        "metrics are missing from the scrape.",
        "an exporter collector reports failure (`tradewatch_scrape_collector_success == 0`)",
        _flag(m.COLLECTOR_SUCCESS, {**HOST, "collector": "filesystem"}),
        severity="warning", unit="",
    ),
    AlertSpec(
        "ProbeFailing", "api", "api",
        lambda c, s, t: f'last_over_time({m.PROBE_SUCCESS}{{type=~"http|tcp"}}[{probe_window(c)}]) == 0',
        300,
        "{{ $labels.type }} probe {{ $labels.probe }} failing " + _ON_INSTANCE,
        "The {{ $labels.type }} probe {{ $labels.probe }} run by " + HOST_TEXT + " fails: the "
        "service it checks is down, slow beyond its timeout, or answering wrongly.",
        "the latest HTTP or TCP probe result is a failure",
        _probe("http"), severity="critical", unit="",
        quiet=(("no such source deployed", _not_deployed),),
    ),
    AlertSpec(
        "DatabaseProbeFailing", "api", "database",
        lambda c, s, t: f'last_over_time({m.PROBE_SUCCESS}{{type="sql"}}[{probe_window(c)}]) == 0',
        300,
        "SQL probe {{ $labels.probe }} failing " + _ON_INSTANCE,
        "The SQL probe {{ $labels.probe }} run by " + HOST_TEXT + " cannot connect or query the "
        "database.",
        "the latest SQL probe result is a failure",
        _probe("sql"), severity="critical", unit="",
        quiet=(("no such source deployed", _not_deployed),),
    ),
    AlertSpec(
        "SqlQueryFailing", "api", "database",
        lambda c, s, t: f"last_over_time({m.SQL_QUERY_SUCCESS}[{probe_window(c)}]) == 0",
        300,
        "SQL query {{ $labels.query }} of probe {{ $labels.probe }} failing " + _ON_INSTANCE,
        "The configured query {{ $labels.query }} of SQL probe {{ $labels.probe }} " + _ON_INSTANCE
        + " fails: its gauge is missing.",
        "a configured SQL probe query fails",
        _probe("sql", m.SQL_QUERY_SUCCESS, {"probe": "orders-db", "query": "open_orders"}),
        severity="warning", unit="",
    ),
    AlertSpec(
        "ApiLatencyHigh", "api", "api",
        lambda c, s, t: f"{m.REC_API_P95} > {num((t or 0) / 1000)}",
        300,
        "Exchange API slow for {{ $labels.instance }}",
        "The 95th percentile of exchange-API requests from {{ $labels.instance }} takes "
        "{{ $value | humanizeDuration }} (<severity> above <threshold>).",
        "95th percentile of exchange-API request duration (5m) above <threshold>",
        _api_latency, threshold_key="api_response_time_ms", unit="ms",
        quiet=(("no such source deployed", _not_deployed),),
    ),
    AlertSpec(
        "ApiErrorRateHigh", "api", "api",
        lambda c, s, t: f"{m.REC_API_ERROR_RATIO} > {_ratio(t)}",
        300,
        "Exchange API errors for {{ $labels.instance }}",
        "{{ $value | humanizePercentage }} of exchange-API requests from {{ $labels.instance }} fail "
        "(<severity> above <threshold>).",
        "share of exchange-API requests answered with a non-2xx/3xx code (5m) above <threshold>",
        _api_errors, threshold_key="error_rate_percent",
        quiet=(("no such source deployed", _not_deployed),),
    ),
    AlertSpec(
        "TradingBotDown", "trading", "trading",
        lambda c, s, t: f"{m.TRADING_BOT_UP} == 0",
        120,
        "Trading bot {{ $labels.bot }} not answering " + _ON_INSTANCE,
        "The exporter " + _ON_INSTANCE + " gets no answer from the API of the trading bot "
        "{{ $labels.bot }}: the bot is stopped, crashed or unreachable, or too slow for its timeout.",
        "an integrated bot's API (freqtrade) does not answer the exporter (`trading_bot_up == 0`)",
        _flag(m.TRADING_BOT_UP, FREQTRADE), severity="critical", unit="",
        quiet=(("no such source deployed", _not_deployed),),
    ),
    AlertSpec(
        "TradingHeartbeatStale", "trading", "trading",
        lambda c, s, t: (f"time() - max_over_time({m.TRADING_HEARTBEAT}[{heartbeat_window(c)}])"
                         f" > {num(t or 0)}\nunless on (job, instance, bot) {m.TRADING_BOT_UP} == 0"),
        60,
        "Trading bot {{ $labels.instance }} stopped beating",
        "The trading bot at {{ $labels.instance }} last reported a heartbeat {{ $value | humanizeDuration }} "
        "ago (<severity> above <threshold>).",
        "the bot's last heartbeat (freqtrade: its last process loop) is older than <threshold> (a bot that "
        "vanished keeps firing for the look-back of max(1h, 3 x the highest level); hosts without a bot "
        "never fire; a freqtrade bot whose API is down is TradingBotDown's)",
        _heartbeat, threshold_key="trading_heartbeat_stale_seconds", unit="s",
        quiet=(("no such source deployed", _not_deployed),
               ("a freqtrade bot whose API is down", _ft_down_heartbeat)),
        also_fires=(("a freqtrade bot answering while its process loop is stale", _ft_process_stale),),
    ),
    AlertSpec(
        "OrderRejectionHigh", "trading", "trading",
        lambda c, s, t: f"{m.REC_ORDER_REJECTION_RATIO} > {_ratio(t)}",
        600,
        "Orders rejected for {{ $labels.instance }}",
        "{{ $value | humanizePercentage }} of the orders the bot at {{ $labels.instance }} submitted in "
        "the last 15m were rejected (<severity> above <threshold>).",
        "rejected / submitted orders over 15m above <threshold>",
        _rejections, threshold_key="order_rejection_percent",
        quiet=(("no such source deployed", _not_deployed),),
    ),
    AlertSpec(
        "TradingDrawdown", "trading", "trading",
        _drawdown_expr,
        0,
        "Trading drawdown for {{ $labels.instance }}",
        'Equity (or, for a bot that exports none, realized P&L since its last restart) of the bot at '
        '{{ $labels.instance }} is {{ printf "%.2f" $value }} below its peak of the last <window> '
        "(<severity> above <threshold>).",
        "equity below its peak over alerting.trading_drawdown_window (<window>) by more than <threshold>; "
        "for a bot that exports no equity, realized P&L below its peak since the bot's last restart "
        "(`trading_start_time_seconds`), so a restart that resets realized P&L does not fire",
        _drawdown, threshold_key="drawdown", unit="money",
        quiet=(("no such source deployed", _not_deployed),
               ("a restart resetting realized P&L, no equity exported", _restart_realized_only),
               ("a restart resetting realized P&L while equity holds", _restart_with_equity)),
        also_fires=(("realized P&L falling without a restart, no equity exported", _drawdown_realized),),
    ),
    AlertSpec(
        "ExchangeRateLimited", "trading", "api",
        _rate_limit_expr,
        0,
        "Exchange {{ $labels.exchange }} rate-limiting the bot at {{ $labels.instance }}",
        "The exchange {{ $labels.exchange }} answered the bot at {{ $labels.instance }} with "
        "{{ $value | humanize }} rate-limit errors in the last 5m (<severity> at <threshold>): slow the bot "
        "down before the exchange bans its IP or key.",
        "at least <threshold> rate-limit answers in 5m per exchange (ccxt's RateLimitExceeded or "
        "DDoSProtection, else HTTP 429 or 418)",
        _rate_limits, threshold_key="rate_limit_errors", unit="count", compare=">=",
        quiet=(("no such source deployed", _not_deployed),),
        also_fires=(("a bot that records only HTTP codes", _rate_limits_by_code),),
    ),
    AlertSpec(
        "TradingBalanceLow", "trading", "trading",
        lambda c, s, t: f"{m.TRADING_EQUITY} < {num(t or 0)}",
        300,
        "Trading account below its floor " + _ON_INSTANCE,
        "Equity of the trading bot {{ $labels.bot }} " + _ON_INSTANCE + " is {{ $value | humanize }}, "
        "below the <severity> floor of <threshold>.",
        "equity (balance plus unrealized P&L, account currency) below <threshold>",
        _balance, threshold_key="balance_floor", unit="money", compare="<",
        quiet=(("no such source deployed", _not_deployed),),
    ),
    AlertSpec(
        "BridgeEmailsFailing", "bridge", "system",
        lambda c, s, t: f'increase({m.BRIDGE_EMAILS}{{result="failed"}}[15m]) >= {num(t or 0)}',
        0,
        "Email deliveries failing on bridge {{ $labels.instance }}",
        "The bridge at {{ $labels.instance }} gave up on {{ $value | humanize }} email deliveries in the "
        "last 15m (<severity> at <threshold>): check the SMTP settings and the outbox.",
        "at least <threshold> email deliveries marked failed in 15m",
        _email_failures, threshold_key="email_failure_count", unit="count", compare=">=",
        quiet=(("no such source deployed", _not_deployed),),
    ),
    AlertSpec(
        "BridgeOutboxBacklog", "bridge", "system",
        lambda c, s, t: (f"{m.BRIDGE_OUTBOX_DEPTH} > {num(t or 0)}\n"
                         f"and\n  delta({m.BRIDGE_OUTBOX_DEPTH}[15m]) >= 0"),
        900,
        "Email outbox backing up on bridge {{ $labels.instance }}",
        "{{ $value | humanize }} emails wait in the outbox of the bridge at {{ $labels.instance }} and the "
        "queue is not draining (<severity> above <threshold>).",
        "more than <threshold> emails waiting in the outbox and not fewer than 15m ago",
        _outbox, threshold_key="outbox_backlog", unit="count",
        quiet=(("a large backlog that is draining", _outbox_draining), ("no bridge", _not_deployed)),
    ),
    AlertSpec(
        WATCHDOG_ALERT, "watchdog", "system",
        lambda c, s, t: "vector(1)",
        0,
        "Alerting pipeline heartbeat",
        "This alert always fires. The bridge expects it every few minutes; when it stops arriving the "
        "pipeline (Prometheus, Alertmanager or the route to the bridge) is broken.",
        "always true: the dead-man's switch the bridge watches",
        _watchdog, severity="info", unit="",
    ),
]
