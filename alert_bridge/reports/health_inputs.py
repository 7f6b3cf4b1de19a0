"""Gather the health score's and the recommendations' inputs for a window (the I/O edge).

Prometheus is asked for the recording rules of `prometheus/rules/` first (names in
tradewatch.metric_names); when a rule returns nothing (a Prometheus without our rules, or a rule
younger than the window) the same quantity is computed from the raw node_* series. The alert
store gives the window's alerts and the outbox its email outcomes. Everything missing is
written down in `gaps` in plain words, and the score treats it as "no data".

Per-host figures come from range queries at `step` (window / 288, at least 1 s): the report's
averages, maxima and charts are read from the same points, so the numbers and the pictures agree.
"""

from __future__ import annotations

import logging
import math
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from alert_bridge.alerts import pause
from alert_bridge.alerts.board import SEVERITY_RANK, identity
from alert_bridge.notify.view import host_of
from alert_bridge.reports.health_score import AlertLoad, HealthInputs, HostInputs
from alert_bridge.reports.recommendations import (
    AlertFrequency,
    EmailStat,
    FilesystemForecast,
    FiringAlert,
    HeartbeatStat,
    MemoryStat,
    ProbeStat,
    RecommendationInputs,
    host_text,
)
from alert_bridge.sources import host_metrics
from alert_bridge.sources.prometheus import PrometheusAPI, PrometheusUnavailable
from alert_bridge.sources.trading import window_change
from alert_bridge.store import pauses
from tradewatch import metric_names as mn
from tradewatch import quantities as qt
from tradewatch.config import Config
from tradewatch.duration import format_duration, human_duration
from tradewatch.vocabulary import URGENT_SEVERITIES, WATCHDOG_ALERT

log = logging.getLogger("alert_bridge.reports.health_inputs")

Points = list[tuple[float, float]]
# Disk-fill forecasts, as the node-mixin's NodeFilesystemSpaceFillingUp (and our
# HostFilesystemFillingUp) make them: a linear trend over the last 6 h, believed only once the
# series has at least an hour of history (the mixin's `for: 1h`). A trend of a few minutes after
# a start is noise: one log write reads as "full in 1.7 days".
FORECAST_RANGE = 6 * 3600.0
FORECAST_MIN_HISTORY = 3600.0

# quantity -> (recording rule, its definition over raw series), both `by (instance)`;
# the definitions live in tradewatch.quantities (one meaning for rules, report and dashboard)
CPU = (f"max by (instance) ({qt.CPU.record})", f"max by (instance) ({qt.CPU.expr})")
MEMORY = (f"max by (instance) ({qt.MEMORY.record})", f"max by (instance) ({qt.MEMORY.expr})")
DISK = (f"max by (instance) ({qt.FILESYSTEM.record})", f"max by (instance) ({qt.FILESYSTEM.expr})")
NETWORK = (
    f"sum by (instance) ({qt.NETWORK_RECEIVE.record} + {qt.NETWORK_TRANSMIT.record})",
    f"sum by (instance) (({qt.NETWORK_RECEIVE.expr}) + ({qt.NETWORK_TRANSMIT.expr}))",
)
_FS_AVAIL = f"{qt.FS_AVAIL}{{{qt.FS_MATCHERS}}}"
RESOURCES = {"cpu": CPU, "memory": MEMORY, "disk": DISK, "network": NETWORK}


@dataclass
class HostSeries:
    """Per-host range data of the window, and its summaries."""

    instance: str
    series: dict[str, Points] = field(default_factory=dict)  # cpu|memory|disk|network -> points

    def summary(self, name: str) -> dict[str, float] | None:
        pts = self.series.get(name)
        if not pts:
            return None
        values = [v for _, v in pts]
        return {"avg": sum(values) / len(values), "max": max(values), "current": values[-1],
                "points": len(values)}


@dataclass
class Collected:
    start: float
    end: float
    step: float
    prometheus_url: str
    prometheus_ok: bool
    prometheus_error: str | None
    hosts: dict[str, HostSeries]
    health: HealthInputs
    recommendations: RecommendationInputs
    alerts: list[dict[str, Any]] | None  # the window's alert episodes (store rows + firing_seconds)
    pnl: float | None
    pnl_series: dict[str, Points]
    gaps: list[str]
    notes: list[str]  # informational: fallbacks used
    host_names: dict[str, str] = field(default_factory=dict)  # instance -> node_uname_info nodename

    @property
    def window(self) -> float:
        return self.end - self.start


class _Prom:
    """Queries with rule -> raw fallback; the first connection failure stops further queries."""

    def __init__(self, api: PrometheusAPI | None, start: float, end: float, step: float):
        self.api, self.start, self.end, self.step = api, start, end, step
        self.error: str | None = None if api is not None else "no Prometheus URL configured"
        self.fallbacks: list[str] = []
        self.failed: list[str] = []  # queries Prometheus refused (reported, not fatal)

    @property
    def ok(self) -> bool:
        return self.error is None

    def _call(self, fn: Callable[[], Any]) -> Any:
        if self.error is not None:
            return None
        try:
            return fn()
        except PrometheusUnavailable as exc:
            # a query error (bad expression on an older Prometheus) is not "unreachable"
            text = str(exc)
            if "bad_data" in text or "execution" in text:
                log.warning("query failed: %s", text)
                self.failed.append(text.split(": ", 1)[-1][:200])
                return None
            self.error = _short_error(text)
            log.warning("Prometheus unavailable: %s", self.error)
            return None

    def call(self, fn: Callable[[PrometheusAPI], Any]) -> Any:
        """fn(api) with this wrapper's error handling (None after a failure)."""
        return self._call(lambda: fn(self.api))  # type: ignore[arg-type]

    def instant(self, expr: str) -> dict[str, float]:
        result = self._call(lambda: self.api.query(expr, self.end)) or []  # type: ignore[union-attr]
        out: dict[str, float] = {}
        for sample in result:
            v = float(sample["value"][1])
            if math.isfinite(v):
                out[_key(sample["metric"])] = v
        return out

    def instant_labels(self, expr: str) -> list[tuple[dict[str, str], float]]:
        result = self._call(lambda: self.api.query(expr, self.end)) or []  # type: ignore[union-attr]
        out = []
        for sample in result:
            v = float(sample["value"][1])
            if math.isfinite(v):
                out.append((sample["metric"], v))
        return out

    def series(self, expr: str) -> dict[str, Points]:
        result = self._call(
            lambda: self.api.query_range(expr, self.start, self.end, self.step)  # type: ignore[union-attr]
        ) or []
        out: dict[str, Points] = {}
        for s in result:
            pts = [(float(t), float(v)) for t, v in s["values"] if math.isfinite(float(v))]
            if pts:
                out[_key(s["metric"])] = pts
        return out

    def series_with_fallback(self, name: str, pair: tuple[str, str]) -> dict[str, Points]:
        primary, fallback = pair
        got = self.series(primary)
        if got or not self.ok:
            return got
        got = self.series(fallback)
        if got:
            self.fallbacks.append(name)
        return got

    def instant_with_fallback(self, name: str, primary: str, fallback: str) -> dict[str, float]:
        got = self.instant(primary)
        if got or not self.ok:
            return got
        got = self.instant(fallback)
        if got:
            self.fallbacks.append(name)
        return got


def _short_error(text: str) -> str:
    """requests' connection errors are long; keep the reason an operator can act on."""
    m = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if m:
        return m.group(1).strip()
    for word in ("ReadTimeout", "ConnectTimeout", "Timeout"):
        if word in text:
            return "timed out"
    return text if len(text) <= 200 else text[:200] + "..."


def _key(metric: dict[str, str]) -> str:
    return metric.get("instance", "")


def step_for(window: float) -> float:
    return max(1.0, round(window / 288))


def _dur(seconds: float) -> str:
    return format_duration(max(1.0, round(seconds)))


def collect(
    config: Config,
    *,
    end: float,
    api: PrometheusAPI | None,
    conn: sqlite3.Connection | None,
    window: float | None = None,
) -> Collected:
    """Everything the score, the recommendations and the report need for [end - window, end]."""
    window = float(window or config.report.window)
    start = end - window
    step = step_for(window)
    prom = _Prom(api, start, end, step)
    W = _dur(window)
    S = _dur(step)
    gaps: list[str] = []

    hosts: dict[str, HostSeries] = {}
    for name, pair in RESOURCES.items():
        for inst, pts in prom.series_with_fallback(name, pair).items():
            hosts.setdefault(inst, HostSeries(inst)).series[name] = pts

    # trading: the change counts from the window's start, or from a bot's first sample when it
    # started inside the window (issue 14.6: not from the first step of a coarse range query)
    pnl_changes: dict[str, dict[str, Any]] = prom.call(lambda api: window_change(
        api, mn.TRADING_REALIZED_PNL, "instance", _key, start, end, step)) or {}
    pnl_series = {inst: [(t, v) for t, v in c["points"]] for inst, c in pnl_changes.items()}
    rejection = prom.instant_with_fallback(
        "order rejection ratio",
        f"avg by (instance) (avg_over_time({mn.REC_ORDER_REJECTION_RATIO}[{W}]))",
        f'sum by (instance) (increase({mn.TRADING_ORDERS}{{status="rejected"}}[{W}]))'
        f' / sum by (instance) (increase({mn.TRADING_ORDERS}{{status="submitted"}}[{W}]))',
    )
    stale = float(config.thresholds.trading_heartbeat_stale_seconds.critical or 120)
    hb_age_now = prom.instant(f"time() - max by (instance) ({mn.TRADING_HEARTBEAT})")
    hb_series = prom.series(
        f"time() - max by (instance) (max_over_time({mn.TRADING_HEARTBEAT}[1h]))"
    )

    # integrity
    up_series = prom.series("max by (instance) (up)")
    up_ts = prom.instant("max by (instance) (timestamp(up))")
    collector = prom.instant(
        f"avg by (instance) (avg_over_time({mn.COLLECTOR_SUCCESS}[{W}]))"
        f" or avg by (instance) (avg_over_time(node_scrape_collector_success[{W}]))"
    )
    probe_by_instance = prom.instant(f"avg by (instance) (avg_over_time({mn.PROBE_SUCCESS}[{W}]))")
    probes = prom.instant_labels(f"avg by (probe, type) (avg_over_time({mn.PROBE_SUCCESS}[{W}]))")

    # filesystems: usage now and days until full from the trend (see FORECAST_MIN_HISTORY)
    fs_now = prom.instant_labels(qt.FILESYSTEM.expr)
    fs_days: list[tuple[dict[str, str], float]] = []
    young: list[tuple[dict[str, str], float]] = []
    if window >= FORECAST_MIN_HISTORY:  # a shorter report window cannot hold that history
        fs_days = prom.instant_labels(fill_forecast_expr(min(window, FORECAST_RANGE)))
        young = prom.instant_labels(f"{_FS_AVAIL} unless ({_FS_AVAIL} offset {_dur(FORECAST_MIN_HISTORY)})")
    mem_warn = (config.thresholds.memory_percent.warning or 85) / 100
    mem_above = prom.instant(
        f"avg_over_time((({MEMORY[1]}) > bool {mem_warn})[{W}:{S}])"
    )

    # ---- assemble per-host inputs
    # hosts: targets with host metrics or trading metrics (not every `up`, e.g. Prometheus itself)
    instances = set(hosts) | set(pnl_series) | set(rejection) | set(hb_age_now) | set(hb_series)
    host_inputs: list[HostInputs] = []
    heartbeats: list[HeartbeatStat] = []
    for inst in sorted(instances):
        hs = hosts.get(inst, HostSeries(inst))
        cpu, mem = hs.summary("cpu"), hs.summary("memory")
        pnl = pnl_changes[inst]["change"] if inst in pnl_changes else None
        fresh_ratio, max_age = _heartbeat(hb_series.get(inst), stale, start, end, step)
        if fresh_ratio is not None:
            heartbeats.append(HeartbeatStat(inst, 1.0 - fresh_ratio, max_age or 0.0))
        up = up_series.get(inst)
        host_inputs.append(HostInputs(
            instance=inst,
            cpu_avg=cpu and cpu["avg"], cpu_max=cpu and cpu["max"],
            memory_avg=mem and mem["avg"], memory_max=mem and mem["max"],
            pnl_change=pnl,
            order_rejection_ratio=rejection.get(inst),
            heartbeat_age_seconds=hb_age_now.get(inst),
            heartbeat_fresh_ratio=fresh_ratio,
            scrape_success_ratio=(sum(v for _, v in up) / len(up)) if up else None,
            collector_success_ratio=collector.get(inst),
            probe_success_ratio=probe_by_instance.get(inst),
            data_age_seconds=_data_age(up, up_ts.get(inst), end),
        ))

    # ---- alert store and outbox
    alert_rows: list[dict[str, Any]] | None = None
    email: EmailStat | None = None
    if conn is not None:
        try:
            alert_rows = _alerts(conn, start, end)
            email = _email(conn, start, end)
        except sqlite3.Error as exc:
            gaps.append(f"The alert store could not be read ({exc}): alerts are not scored or listed.")
    else:
        gaps.append("No alert store was given: alerts are not scored or listed.")
    loads = None if alert_rows is None else [
        AlertLoad(a["alertname"], a["severity"], a["firing_seconds"], a["instance"] or None,
                  ongoing=a["active_at_end"])
        for a in alert_rows
    ]
    held_rows: list[dict[str, Any]] = []
    if loads is not None and conn is not None:
        held, held_error = _held(config, conn, end)
        if held_error:
            gaps.append(f"The alerts the pause holds could not be read ({held_error}): they are not scored.")
        stored = {a["fingerprint"] for a in alert_rows or () if a["active_at_end"]}
        loads += held_loads(held, stored, start, end)
        held_rows = held_as_rows(held, stored, end)

    # ---- gaps, in plain words
    if not prom.ok:
        gaps.insert(0, f"Prometheus ({config.bridge.prometheus_url}) could not be queried: {prom.error}. "
                       "Host metrics, charts, trading figures and data integrity are missing from this "
                       "report; the score counts the integrity component as 0 (monitoring cannot see) and "
                       "covers the alert store for the rest.")
    else:
        for name in RESOURCES:
            if not any(name in h.series for h in hosts.values()):
                gaps.append(f"No {name} data for any host in the window (neither the recording rule nor "
                            "the raw node_* series returned anything).")
        if not pnl_series and not rejection and not hb_age_now:
            gaps.append("No trading bot metrics (trading_*) in the window: the trading component is "
                        "not scored.")
        if not up_series:
            gaps.append("No `up` series: scrape success and data freshness are unknown.")
    host_names = (prom.call(host_metrics.host_names) if prom.ok else None) or {}
    notes = [f"{n}: recording rule had no data; computed from raw series" for n in prom.fallbacks]
    notes += [f"a query failed: {f}" for f in prom.failed]
    history = human_duration(FORECAST_MIN_HISTORY)
    if window < FORECAST_MIN_HISTORY:
        notes.append(f"disk-fill forecasts skipped: the window is shorter than {history}")
    by_host: dict[str, set[str]] = {}
    for lbl, _ in young:
        by_host.setdefault(lbl.get("instance", "?"), set()).add(lbl.get("mountpoint", "?"))
    for inst, mounts in sorted(by_host.items()):
        where = host_text(inst, host_names)
        notes.append(f"no disk-fill forecast for {', '.join(sorted(mounts))} on {where}: less than {history} "
                     f"of history (a forecast needs {history}, as the node-mixin's)")

    unreachable = prom.error if (prom.api is not None and not prom.ok) else None
    health = HealthInputs(window_seconds=window, hosts=host_inputs, alerts=loads,
                          metrics_unreachable=unreachable)
    recs = RecommendationInputs(
        window_seconds=window,
        filesystems=_filesystems(fs_now, fs_days),
        memory=[
            MemoryStat(inst, s["avg"], s["max"], mem_above.get(inst))
            for inst, hs in sorted(hosts.items()) if (s := hs.summary("memory"))
        ],
        alerts=_frequencies(alert_rows or []),
        probes=[ProbeStat(lbl.get("probe", "?"), v, lbl.get("type", "")) for lbl, v in
                sorted(probes, key=lambda x: x[0].get("probe", ""))],
        email=email,
        heartbeats=heartbeats,
        firing=_firing((alert_rows or []) + held_rows, end, ZoneInfo(config.report.timezone)),
        for_durations=dict(config.alerting.for_durations),
        host_names=host_names,
    )
    total_pnl = sum(c["change"] for c in pnl_changes.values()) if pnl_changes else None
    return Collected(
        start=start, end=end, step=step, prometheus_url=config.bridge.prometheus_url,
        prometheus_ok=prom.ok, prometheus_error=prom.error, hosts=hosts, health=health,
        recommendations=recs, alerts=alert_rows, pnl=total_pnl, pnl_series=pnl_series,
        gaps=gaps, notes=notes,
        host_names=host_names,
    )


def held_loads(held: Sequence[dict[str, Any]], stored: set[str], start: float,
               end: float) -> list[AlertLoad]:
    """The alerts a pause's silence holds inside Alertmanager (pause.held_view's dicts), as alert
    load still firing at the end: they never reached the store, yet the condition is as real as
    an active alert's (issue 14.7). Those already stored as firing (`stored` fingerprints: fired
    before the pause) are counted once, from the store."""
    out = []
    for a in held:
        if a.get("fingerprint") in stored:
            continue
        began = _epoch(a.get("starts_at")) or end
        out.append(AlertLoad(a["alertname"], a["severity"], max(0.0, end - max(began, start)),
                             a.get("instance") or None, ongoing=True, held=True))
    return out


def held_as_rows(held: Sequence[dict[str, Any]], stored: set[str], end: float) -> list[dict[str, Any]]:
    """The held alerts as alert-store rows firing at the end, so each urgent one gets its
    recommendation like an active one (issue 14.19); those already stored are there once."""
    return [{**a, "active_at_end": True, "starts_at_epoch": _epoch(a.get("starts_at")) or end, "held": True}
            for a in held if a.get("fingerprint") not in stored]


def _held(config: Config, conn: sqlite3.Connection, now: float) -> tuple[list[dict[str, Any]], str | None]:
    """What the active pause's silence holds now, read from Alertmanager (none without a pause)."""
    return pause.held_view(config, pauses.to_dict(pauses.active(conn, now)))


def fill_forecast_expr(trend_seconds: float) -> str:
    """Days until each filling filesystem is full at its linear trend over `trend_seconds`, only
    for series that already existed FORECAST_MIN_HISTORY ago (`offset`: a sample then)."""
    return (f"({_FS_AVAIL} / -(deriv({_FS_AVAIL}[{_dur(trend_seconds)}]) < 0) / 86400)"
            f" and ({_FS_AVAIL} offset {_dur(FORECAST_MIN_HISTORY)})")


def _heartbeat(points: Points | None, stale: float, start: float, end: float,
               step: float) -> tuple[float | None, float | None]:
    """(share of the window's steps with a fresh heartbeat since the bot first appeared, worst age)."""
    if not points:
        return None, None
    first = points[0][0]
    expected = max(1, round((end - first) / step) + 1)
    fresh = sum(1 for _, age in points if age < stale)
    worst = max(age for _, age in points)
    missing = max(0, expected - len(points))
    if missing:  # steps where even the last hour had no heartbeat: at least an hour old
        worst = max(worst, 3600.0)
    return min(1.0, fresh / expected), worst


def _data_age(up: Points | None, last_ts: float | None, end: float) -> float | None:
    if not up:
        return None
    if up[-1][1] >= 1 and last_ts is not None:
        return max(0.0, end - last_ts)
    good = [t for t, v in up if v >= 1]
    if not good:
        return end - up[0][0]
    return max(0.0, end - good[-1])


def _filesystems(now: list[tuple[dict[str, str], float]],
                 days: list[tuple[dict[str, str], float]]) -> list[FilesystemForecast]:
    by_key = {(lbl.get("instance", ""), lbl.get("mountpoint", "")): v for lbl, v in days}
    out = []
    for lbl, usage in sorted(now, key=lambda x: (x[0].get("instance", ""), x[0].get("mountpoint", ""))):
        key = (lbl.get("instance", ""), lbl.get("mountpoint", ""))
        out.append(FilesystemForecast(key[0], key[1], usage, by_key.get(key)))
    return out


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if dt.year < 1971:  # Alertmanager's zero time for "no end"
        return None
    return dt.timestamp()


def _alerts(conn: sqlite3.Connection, start: float, end: float) -> list[dict[str, Any]]:
    from alert_bridge.store import alerts as store_alerts

    rows = store_alerts.in_window(conn, start, end)
    out = []
    for a in rows:
        if a["alertname"] == WATCHDOG_ALERT:  # the pipeline's heartbeat, always firing: not an incident
            continue
        began = float(a["starts_at_epoch"])
        stop = None
        if a["status"] == "resolved":
            stop = _epoch(a.get("ends_at")) or a.get("resolved_at")
        a = dict(a)
        a["active_at_end"] = stop is None or float(stop) >= end
        stop = end if stop is None else min(float(stop), end)
        a["firing_seconds"] = max(0.0, stop - max(began, start))
        a["ongoing"] = a["status"] == "firing"
        a["total_seconds"] = max(0.0, (end if a["ongoing"] else stop) - began)
        out.append(a)
    return out


_DASHBOARD_LINK = re.compile(r"\s*Dashboard: \S+\s*$")


def _firing(rows: list[dict[str, Any]], end: float, tz: ZoneInfo) -> list[FiringAlert]:
    """Critical and emergency alerts firing at the end of the window, one per identity at its
    highest severity (the critical that Alertmanager inhibits under an emergency is not repeated)."""
    best: dict[Any, dict[str, Any]] = {}
    for a in rows:
        if not a["active_at_end"] or a["severity"] not in URGENT_SEVERITIES:
            continue
        key = identity(a)
        kept = best.get(key)
        if kept is None or SEVERITY_RANK.get(a["severity"], 2) > SEVERITY_RANK.get(kept["severity"], 2):
            best[key] = a
    out = []
    for a in best.values():
        ann = a.get("annotations") or {}
        text = _DASHBOARD_LINK.sub("", str(ann.get("description") or ann.get("summary") or ""))
        began = float(a["starts_at_epoch"])
        out.append(FiringAlert(
            a["alertname"], a["severity"], host_of(a),
            {str(k): str(v) for k, v in (a.get("labels") or {}).items()}, text,
            max(0.0, end - began), datetime.fromtimestamp(began, tz).strftime("%Y-%m-%d %H:%M %Z"),
            acked=a.get("acked_at") is not None, held=bool(a.get("held")),
        ))
    return sorted(out, key=lambda f: (f.instance, f.alertname, f.where))


def _frequencies(rows: list[dict[str, Any]]) -> list[AlertFrequency]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for a in rows:
        groups.setdefault((a["alertname"], a["severity"], a["instance"] or ""), []).append(a)
    return [
        AlertFrequency(name, sev, len(items), inst or None, sum(i["firing_seconds"] for i in items))
        for (name, sev, inst), items in sorted(groups.items())
    ]


def _email(conn: sqlite3.Connection, start: float, end: float) -> EmailStat | None:
    from alert_bridge.store import reports as store_reports

    return store_reports.email_window_stats(conn, start, end)
