"""Everything one daily report shows, gathered and formatted for the templates.

`build` asks Prometheus and the bridge's store (through health_inputs.collect), computes the
score and the recommendations, draws the charts and reads the 7- and 30-day trends from the
report history. With Prometheus unreachable it still returns a complete report whose "data
gaps" section says what is missing.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alert_bridge.reports import bots as bot_rows
from alert_bridge.reports import charts
from alert_bridge.reports import health_score as hs
from alert_bridge.reports.health_inputs import Collected, collect
from alert_bridge.reports.recommendations import Recommendation, RecommendationRules, recommend
from alert_bridge.reports.schedule import local_date, send_time
from alert_bridge.sources.prometheus import PrometheusAPI, PrometheusUnavailable
from tradewatch.config import Config
from tradewatch.duration import format_duration, human_duration
from tradewatch.vocabulary import SEVERITY_ORDER

log = logging.getLogger("alert_bridge.reports.data")

RESOURCE_LABELS = {"cpu": "CPU", "memory": "Memory", "disk": "Disk (fullest)", "network": "Network"}


@dataclass
class Chart:
    cid: str  # Content-ID without angle brackets
    png: bytes
    alt: str


@dataclass
class ReportData:
    report_date: str
    timezone: str
    generated_at: str
    window_start: str
    window_end: str
    window_hours: float
    window_text: str
    score: hs.Score
    hosts: list[dict[str, Any]]
    alerts: dict[str, list[dict[str, Any]]]  # severity -> episodes, most severe first
    alert_counts: dict[str, int]
    alerts_available: bool
    recommendations: list[Recommendation]
    trends: dict[str, dict[str, Any]]
    pnl: float | None
    gaps: list[str]
    notes: list[str]
    charts: dict[str, Chart] = field(default_factory=dict)
    dashboard_url: str = ""
    collected: Collected | None = None
    bots: list[dict[str, Any]] = field(default_factory=list)  # per-bot rows (reports.bots), formatted

    @property
    def help_url(self) -> str:
        """The bridge's page explaining the score and the recommendations (works offline)."""
        return self.dashboard_url + "help/score"

    def summary_for_history(self) -> dict[str, Any]:
        """The per-host figures kept in report_history."""
        return {h["instance"]: {"score": h["score"], **{r["key"]: r["raw"] for r in h["rows"]}}
                for h in self.hosts}


def report_window_end(config: Config, report_date: date | None, now: datetime) -> tuple[date, datetime]:
    """A past date's report (`--date`) covers the window ending at that day's send time; the
    report of today (preview, manual or scheduled send) covers the window ending now."""
    tz = config.report.timezone
    today = local_date(now, tz)
    day = report_date or today
    due = send_time(day, config.intervals.daily_report, tz)
    end = due if day < today and due <= now else now
    return day, end


def build(
    config: Config,
    *,
    conn: sqlite3.Connection | None,
    now: datetime | None = None,
    report_date: date | None = None,
    api: PrometheusAPI | None = None,
    with_charts: bool = True,
) -> ReportData:
    now = now or datetime.now(UTC)
    day, end_dt = report_window_end(config, report_date, now)
    if api is None and config.bridge.prometheus_url:
        api = PrometheusAPI(config.bridge.prometheus_url, timeout=10.0)
    c = collect(config, end=end_dt.timestamp(), api=api, conn=conn)
    score = hs.compute(c.health, hs.ScoreParams.from_config(config))
    recs = recommend(c.recommendations, RecommendationRules.from_config(config))
    tz = ZoneInfo(config.report.timezone)

    data = ReportData(
        report_date=day.isoformat(),
        timezone=config.report.timezone,
        generated_at=_local(now.timestamp(), tz),
        window_start=_local(c.start, tz),
        window_end=_local(c.end, tz),
        window_hours=c.window / 3600,
        window_text=format_duration(round(c.window)),
        score=score,
        hosts=[],
        alerts={},
        alert_counts={},
        alerts_available=c.alerts is not None,
        recommendations=recs,
        trends={},
        pnl=c.pnl,
        gaps=list(c.gaps),
        notes=list(c.notes),
        dashboard_url=config.bridge.link_url + "/",
        collected=c,
    )
    _hosts(data, c, config, with_charts)
    _alerts(data, c, tz)
    if api is not None and c.prometheus_ok:
        stale = float(config.thresholds.trading_heartbeat_stale_seconds.items()[-1][1])
        try:
            data.bots = [_bot_row(b) for b in bot_rows.collect(api, c.start, c.end, stale)]
        except PrometheusUnavailable as exc:
            data.gaps.append(f"The per-bot trading figures could not be read ({exc}).")
    if with_charts and c.pnl_series:
        total = _sum_series(list(c.pnl_series.values()))
        if len(total) >= 1:
            _add_chart(data, "pnl", total, "Realized P&L over the window", ymin=None)
    if conn is not None:
        try:
            _trends(data, conn, day, with_charts)
        except sqlite3.Error as exc:
            data.gaps.append(f"The report history could not be read ({exc}): no trends.")
    return data


def _local(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %Z")


_SLUG = re.compile(r"[^A-Za-z0-9]+")


def _cid(name: str, day: str) -> str:
    return f"{_SLUG.sub('-', name).strip('-').lower()}.{day}@tradewatch"


def _add_chart(data: ReportData, name: str, points: list[tuple[float, float]], alt: str,
               **kw: Any) -> str | None:
    try:
        png = charts.sparkline(points, **kw)
    except Exception as exc:  # a chart is decoration: never lose the report for it
        log.warning("chart %s failed: %s", name, exc)
        return None
    cid = _cid(name, data.report_date)
    data.charts[cid] = Chart(cid, png, alt)
    return cid


def _fmt(key: str, v: float | None) -> str:
    if v is None:
        return "n/a"
    if key == "network":
        return _bytes_rate(v)
    return f"{v * 100:.1f}%"


def _bytes_rate(v: float) -> str:
    for unit in ("B/s", "kB/s", "MB/s", "GB/s"):
        if abs(v) < 1000 or unit == "GB/s":
            return f"{v:.0f} {unit}" if unit == "B/s" else f"{v:.1f} {unit}"
        v /= 1000
    return f"{v:.1f} GB/s"


def _hosts(data: ReportData, c: Collected, config: Config, with_charts: bool) -> None:
    th = config.thresholds
    thresholds = {
        "cpu": (th.cpu_percent.warning or th.cpu_percent.critical),
        "memory": (th.memory_percent.warning or th.memory_percent.critical),
        "disk": (th.disk_percent.warning or th.disk_percent.critical),
    }
    disk_warn = (th.disk_percent.warning or th.disk_percent.critical or 100) / 100
    for inst in sorted(set(c.hosts) | set(data.score.hosts)):
        series = c.hosts.get(inst)
        mounts = sorted((f for f in c.recommendations.filesystems if f.instance == inst),
                        key=lambda f: (-f.usage_ratio, f.mountpoint))
        rows = []
        for key, label in RESOURCE_LABELS.items():
            if key == "disk" and mounts:
                label = f"Disk (fullest: {mounts[0].mountpoint})"
            s = series.summary(key) if series else None
            cid = None
            if with_charts and series and series.series.get(key):
                limit = thresholds.get(key)
                cid = _add_chart(
                    data, f"{inst}-{key}", series.series[key], f"{label} on {inst}",
                    ymin=0.0, ymax=1.0 if key != "network" else None,
                    threshold=None if limit is None else limit / 100,
                )
            rows.append({
                "key": key, "label": label,
                "avg": _fmt(key, s and s["avg"]), "max": _fmt(key, s and s["max"]),
                "current": _fmt(key, s and s["current"]),
                "raw": None if s is None else {k: round(s[k], 6) for k in ("avg", "max", "current")},
                "cid": cid,
            })
        host_score = data.score.hosts.get(inst)
        note = "" if series is not None else "No host metrics from this target (a bot or service only)."
        details = []
        full = [f"{f.mountpoint} {f.usage_ratio:.1%}" for f in mounts if f.usage_ratio >= disk_warn]
        if full:
            details.append({"name": "Filesystems", "text": f"{', '.join(full)} used "
                                                           f"(warning at {disk_warn:.0%})"})
        if host_score is not None:
            for name in ("trading", "integrity"):
                comp = host_score.components[name]
                parts = [p.detail for p in comp.parts if p.points is not None and p.detail]
                if parts:
                    details.append({"name": name.capitalize(), "text": "; ".join(parts)})
        data.hosts.append({
            "instance": inst,
            "score": host_score.score if host_score else None,
            "grade": host_score.grade if host_score else "No data",
            "rows": rows,
            "has_metrics": series is not None,
            "note": note,
            "details": details,
        })


def _signed(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.2f}"


def _count(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.0f}"


def _bot_row(b: bot_rows.BotDay) -> dict[str, Any]:
    """A bot's figures as the templates show them ("n/a" where the source has none)."""
    ratio = b.rejection_ratio
    gaps = "n/a"
    if b.heartbeat_gaps is not None:
        gaps = "none" if not b.heartbeat_gaps else (
            f"{b.heartbeat_gaps} (longest {human_duration(b.longest_gap_seconds or 0)})")
    return {
        "name": b.name, "instance": b.instance,
        "labelled": bool(b.key[2]),  # named by its `bot` label: the host is worth a mention
        "pnl_day": _signed(b.pnl_day), "pnl_week": _signed(b.pnl_week),
        "pnl_day_raw": b.pnl_day,
        "trades": _count(b.trades),
        "win_rate": "n/a" if b.win_rate is None else f"{b.win_rate * 100:.0f}% of {b.closed_trades:.0f}",
        "rejections": _count(b.rejected) + ("" if ratio is None else f" ({ratio * 100:.1f}%)"),
        "api_errors": _count(b.api_errors) + (f" of {b.api_requests:.0f}" if b.api_requests else ""),
        "rate_limited": _count(b.rate_limited),
        "heartbeat_gaps": gaps,
    }


def _alerts(data: ReportData, c: Collected, tz: ZoneInfo) -> None:
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    groups: dict[str, list[dict[str, Any]]] = {}
    for a in c.alerts or []:
        sev = a["severity"] if a["severity"] in counts else "critical"
        counts[sev] += 1
        ann = a.get("annotations") or {}
        groups.setdefault(sev, []).append({
            "alertname": a["alertname"],
            "instance": a.get("instance") or "",
            "summary": ann.get("summary") or ann.get("description") or "",
            "started": _local(float(a["starts_at_epoch"]), tz),
            "ongoing": a["ongoing"],
            "duration": human_duration(a["total_seconds"]),
            "in_window": human_duration(a["firing_seconds"]),
            "acked": a.get("acked_at") is not None,
        })
    for items in groups.values():
        items.sort(key=lambda x: (not x["ongoing"], x["started"]))
    data.alerts = {s: groups[s] for s in SEVERITY_ORDER if s in groups}
    data.alert_counts = counts


def _sum_series(all_series: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    acc: dict[float, float] = {}
    for pts in all_series:
        for t, v in pts:
            acc[t] = acc.get(t, 0.0) + v
    return sorted(acc.items())


def _trends(data: ReportData, conn: sqlite3.Connection, day: date, with_charts: bool) -> None:
    from alert_bridge.store import reports as store

    for days in (7, 30):
        since = (day - timedelta(days=days - 1)).isoformat()
        points = store.trend(conn, since, (day - timedelta(days=1)).isoformat())
        # today's figures join the trend (they are stored when the report is sent)
        points.append({"report_date": data.report_date, "score": data.score.score, "pnl": data.pnl})
        scores = [p["score"] for p in points if p["score"] is not None]
        pnls = [p["pnl"] for p in points if p["pnl"] is not None]
        entry: dict[str, Any] = {
            "days": days,
            "reports": len(points),
            "score_avg": round(sum(scores) / len(scores), 1) if scores else None,
            "score_min": min(scores) if scores else None,
            "score_max": max(scores) if scores else None,
            "score_change": round(scores[-1] - scores[0], 1) if len(scores) >= 2 else None,
            "pnl_total": round(sum(pnls), 2) if pnls else None,
            "pnl_days": len(pnls),
            "score_cid": None,
            "pnl_cid": None,
        }
        if with_charts and len(scores) >= 2:
            pts = [(float(i), float(s)) for i, s in enumerate(scores)]
            entry["score_cid"] = _add_chart(data, f"trend-score-{days}d", pts,
                                            f"Health score, last {days} days", ymin=0.0, ymax=100.0)
        if with_charts and len(pnls) >= 2:
            cumulative, total = [], 0.0
            for i, p in enumerate(pnls):
                total += p
                cumulative.append((float(i), total))
            entry["pnl_cid"] = _add_chart(data, f"trend-pnl-{days}d", cumulative,
                                          f"Cumulative realized P&L, last {days} days", ymin=None)
        data.trends[f"{days}d"] = entry
