"""Rule-based recommendations for the daily report: pure, each one an action with its evidence.

Every recommendation names what to do, the numbers that triggered it and, where a setting is
the fix, the config key to change. No rule fires without data: an input that is None or empty
produces nothing (the report's "data gaps" section says what was missing instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from alert_bridge.notify.view import DISTINGUISHING_LABELS
from tradewatch.vocabulary import URGENT_SEVERITIES

# alertname fragment (lower case) -> the thresholds.* key that decides when it fires
_THRESHOLD_KEYS = (
    ("diskwillfill", "disk_fill_hours"),
    ("fillingup", "disk_fill_hours"),
    ("diskfill", "disk_fill_hours"),
    ("cpu", "cpu_percent"),
    ("memory", "memory_percent"),
    ("disk", "disk_percent"),
    ("filesystem", "disk_percent"),
    ("load", "load_per_core"),
    ("network", "network_error_percent"),
    ("latency", "api_response_time_ms"),
    ("responsetime", "api_response_time_ms"),
    ("slow", "api_response_time_ms"),
    ("errorrate", "error_rate_percent"),
    ("apierror", "error_rate_percent"),
    ("heartbeat", "trading_heartbeat_stale_seconds"),
    ("rejection", "order_rejection_percent"),
    ("rejected", "order_rejection_percent"),
    ("drawdown", "drawdown"),
    ("email", "email_failure_count"),
    ("outbox", "outbox_backlog"),
)


def threshold_key(alertname: str, severity: str) -> str | None:
    """The config key of the threshold behind an alert, by name, e.g. thresholds.cpu_percent.warning."""
    low = alertname.lower()
    for fragment, key in _THRESHOLD_KEYS:
        if fragment in low:
            return f"thresholds.{key}.{severity}"
    return None


# alertname fragment (lower case) -> what to do about it while it fires; {where} names the alert's
# subject (mount point, probe, ...) and host. The first match wins; the last entry is the default.
_FIRING_ACTIONS = (
    ("fillingup", "Find what keeps writing to {where} and stop or move it before the filesystem is full."),
    ("filesystem", "Free space on {where} now (delete or move data, rotate logs) or grow the filesystem: "
                   "writes fail when it is full."),
    ("heartbeat", "Check the trading bot on {where}: it sends no heartbeat (stopped, hung or crashed); "
                  "restart it if it does not recover."),
    ("botdown", "Check {where}: the trading bot does not answer (stopped, crashed or its API is down); "
                "restart it if it does not recover."),
    ("targetdown", "Bring {where} back: Prometheus cannot scrape it (process stopped, port closed or host "
                   "down)."),
    ("ratelimit", "Slow the bot's requests to {where} (polling interval, order bursts): the exchange is "
                  "rate-limiting it."),
    ("balance", "Top up or check the trading account {where}: its balance is below the configured floor."),
    ("latency", "Check the exchange API {where}: its responses are slow."),
    ("errorrate", "Check the exchange API {where}: too many calls fail."),
    ("probe", "Check what {where} probes: it keeps failing."),
    ("drawdown", "Review the trading bot on {where}: its realized losses passed the drawdown threshold."),
    ("rejection", "Check why orders are rejected on {where} (balance, limits, exchange errors)."),
    ("email", "Check the SMTP settings (`{setup}`): the bridge cannot deliver email."),
    ("", "Deal with {alertname} on {where}."),
)


@dataclass(frozen=True)
class FiringAlert:
    """A critical or emergency alert still firing at the end of the window (one per identity)."""

    alertname: str
    severity: str
    instance: str  # the host's name (node_uname_info's nodename) or its address
    labels: dict[str, str]
    text: str  # the alert's own description (or summary): its figures and threshold
    firing_seconds: float  # since it started
    started: str  # when, for people
    acked: bool = False
    held: bool = False  # held by the pause's silence: firing, but nobody was notified

    @property
    def where(self) -> str:
        """`/data on web1:9100`, `probe exchange-api on ...`, or the host alone."""
        key = next((k for k in DISTINGUISHING_LABELS if self.labels.get(k)), None)
        host = self.instance or "its host"
        if key is None:
            return host
        name = self.labels[key] if key == "mountpoint" else f"{key} {self.labels[key]}"
        return f"{name} on {host}"


@dataclass(frozen=True)
class FilesystemForecast:
    instance: str
    mountpoint: str
    usage_ratio: float  # now, 0..1
    days_to_full: float | None  # None: not filling (or not enough history)


@dataclass(frozen=True)
class MemoryStat:
    instance: str
    avg: float  # utilisation ratio over the window
    max: float
    above_warning_ratio: float | None = None  # share of the window above the warning level


@dataclass(frozen=True)
class AlertFrequency:
    alertname: str
    severity: str
    episodes: int  # separate firing episodes in the window
    instance: str | None = None
    total_firing_seconds: float = 0.0


@dataclass(frozen=True)
class ProbeStat:
    probe: str
    success_ratio: float  # over the window
    type: str = ""


@dataclass(frozen=True)
class EmailStat:
    sent: int
    failed: int
    retried: int  # deliveries that needed more than one attempt
    last_error: str | None = None


@dataclass(frozen=True)
class HeartbeatStat:
    instance: str
    stale_ratio: float  # share of the window with a stale heartbeat
    max_age_seconds: float  # worst heartbeat age seen in the window


@dataclass(frozen=True)
class RecommendationInputs:
    window_seconds: float = 86400.0
    filesystems: Sequence[FilesystemForecast] = ()
    memory: Sequence[MemoryStat] = ()
    alerts: Sequence[AlertFrequency] = ()
    probes: Sequence[ProbeStat] = ()
    email: EmailStat | None = None
    heartbeats: Sequence[HeartbeatStat] = ()
    firing: Sequence[FiringAlert] = ()
    for_durations: dict[str, float] = field(default_factory=dict)  # alerting.for_durations
    host_names: dict[str, str] = field(default_factory=dict)  # instance -> node_uname_info nodename

    def host(self, instance: str) -> str:
        """A host as people name it, with its address as detail: `web1 (10.0.0.5:9100)`."""
        return host_text(instance, self.host_names)


def host_text(instance: str, names: dict[str, str]) -> str:
    """`name (address)` when the address has a nodename, else the address alone."""
    name = names.get(instance)
    return f"{name} ({instance})" if name and name != instance else instance


@dataclass(frozen=True)
class RecommendationRules:
    fill_within_days: float = 7.0
    memory_pressure_avg: float = 0.85  # memory.percent warning / 100
    memory_pressure_share: float = 0.25  # or above warning for a quarter of the window
    flapping_episodes: int = 3  # "fired more than K times"
    probe_intermittent_low: float = 0.0  # strictly above: not simply down
    probe_intermittent_high: float = 0.99  # strictly below: failing now and then
    heartbeat_stale_seconds: float = 120.0
    setup_command: str = "tradewatch setup"  # as the operator can paste it (tradewatch.operator_command)

    @classmethod
    def from_config(cls, config: Any) -> RecommendationRules:
        from tradewatch.operator_command import tradewatch_command

        th = config.thresholds
        warn = th.memory_percent.warning if th.memory_percent.warning is not None else 85
        stale = th.trading_heartbeat_stale_seconds.critical or 120
        return cls(memory_pressure_avg=float(warn) / 100, heartbeat_stale_seconds=float(stale),
                   setup_command=tradewatch_command("setup"))


@dataclass(frozen=True)
class Recommendation:
    kind: str
    priority: str  # high | medium | low
    action: str  # what to do, imperative
    evidence: str  # the numbers that triggered it
    subject: str = ""  # host, mount point, alert or probe concerned
    config_key: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "priority": self.priority, "action": self.action,
            "evidence": self.evidence, "subject": self.subject, "config_key": self.config_key,
            "figures": self.figures,
        }


_ORDER = {"high": 0, "medium": 1, "low": 2}


def firing_action(alert: FiringAlert, setup_command: str = "tradewatch setup") -> str:
    low = alert.alertname.lower()
    template = next(t for fragment, t in _FIRING_ACTIONS if fragment in low)
    return template.format(where=alert.where, alertname=alert.alertname, setup=setup_command)


def _firing(alert: FiringAlert, r: RecommendationRules) -> Recommendation:
    acked = ("; acknowledged, still firing" if alert.acked else "") + (
        "; held by the pause, nobody was notified" if alert.held else "")
    text = f": {alert.text}" if alert.text else ""
    return Recommendation(
        "firing_alert", "high", firing_action(alert, r.setup_command),
        f"{alert.severity} alert {alert.alertname} firing for {_hours(alert.firing_seconds)} "
        f"(since {alert.started}){acked}{text}",
        subject=alert.where, config_key=threshold_key(alert.alertname, alert.severity),
        figures={"alertname": alert.alertname, "severity": alert.severity,
                 "firing_seconds": alert.firing_seconds, "labels": dict(alert.labels)},
    )


def _hours(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def recommend(data: RecommendationInputs, rules: RecommendationRules | None = None) -> list[Recommendation]:
    """All recommendations the data supports, most urgent first (stable order)."""
    r = rules or RecommendationRules()
    # every urgent condition still firing comes first: emergencies, then criticals
    urgent = sorted(data.firing, key=lambda a: (a.severity != "emergency", -a.firing_seconds))
    out: list[Recommendation] = [_firing(a, r) for a in urgent]

    for fs in data.filesystems:
        if fs.days_to_full is not None and fs.days_to_full <= r.fill_within_days:
            out.append(Recommendation(
                "disk_fill", "high" if fs.days_to_full <= 1 else "medium",
                f"Free space on, or grow, the filesystem {fs.mountpoint} of {data.host(fs.instance)}: at the "
                f"current rate it is full in {fs.days_to_full:.1f} days.",
                f"{fs.usage_ratio:.0%} used now; linear trend reaches 100 % in {fs.days_to_full:.1f} days "
                f"(rule: within {r.fill_within_days:g} days).",
                subject=f"{data.host(fs.instance)} {fs.mountpoint}",
                figures={"usage_ratio": fs.usage_ratio, "days_to_full": fs.days_to_full},
            ))

    for m in data.memory:
        share = m.above_warning_ratio
        if m.avg >= r.memory_pressure_avg or (share is not None and share >= r.memory_pressure_share):
            share_text = ""
            if share is not None:
                share_text = f", above {r.memory_pressure_avg:.0%} for {share:.0%} of the window"
            out.append(Recommendation(
                "memory_pressure", "medium",
                f"Reduce memory use or add memory on {data.host(m.instance)}: it ran under sustained memory "
                "pressure.",
                f"memory used {m.avg:.0%} on average, {m.max:.0%} at peak{share_text} "
                f"(rule: average >= {r.memory_pressure_avg:.0%} "
                f"or >= {r.memory_pressure_share:.0%} of the window).",
                subject=data.host(m.instance), config_key="thresholds.memory_percent.warning",
                figures={"avg": m.avg, "max": m.max, "above_warning_ratio": share},
            ))

    for a in data.alerts:
        if a.episodes > r.flapping_episodes:
            for_key = f"alerting.for_durations.{a.alertname}"
            current = data.for_durations.get(a.alertname)
            current_text = f" (now {current:g}s)" if current is not None else ""
            th_key = threshold_key(a.alertname, a.severity)
            fix = f"set a longer `{for_key}`{current_text}"
            if th_key:
                fix += f" or raise `{th_key}`"
            where = f" on {data.host(a.instance)}" if a.instance else ""
            out.append(Recommendation(
                "flapping", "medium" if a.severity in URGENT_SEVERITIES else "low",
                f"{a.alertname}{where} is flapping: {fix}, or fix the cause.",
                f"fired {a.episodes} times in {_hours(data.window_seconds)} "
                f"(rule: more than {r.flapping_episodes}), {_hours(a.total_firing_seconds)} firing in total.",
                subject=a.alertname, config_key=th_key or for_key,
                figures={"episodes": a.episodes, "firing_seconds": a.total_firing_seconds,
                         "severity": a.severity},
            ))

    for p in data.probes:
        if r.probe_intermittent_low < p.success_ratio < r.probe_intermittent_high:
            out.append(Recommendation(
                "probe_intermittent", "medium",
                f"Investigate probe {p.probe}: its target fails intermittently (check its timeout in "
                f"`probes` and the target's stability).",
                f"succeeded {p.success_ratio:.1%} of the window "
                f"(rule: between {r.probe_intermittent_low:.0%} and {r.probe_intermittent_high:.0%}).",
                subject=p.probe, figures={"success_ratio": p.success_ratio},
            ))
        elif p.success_ratio <= r.probe_intermittent_low:
            out.append(Recommendation(
                "probe_down", "high",
                f"Fix or remove probe {p.probe}: it failed for the whole window.",
                f"succeeded {p.success_ratio:.1%} of the window.",
                subject=p.probe, figures={"success_ratio": p.success_ratio},
            ))

    e = data.email
    if e is not None and (e.failed > 0 or e.retried > 0):
        err = f"; last error: {e.last_error}" if e.last_error else ""
        out.append(Recommendation(
            "email_failing", "high" if e.failed else "medium",
            "Check the SMTP settings (`email.smtp_server`, `email.security`, credentials) with "
            f"`{r.setup_command}` or POST /api/monitoring/send-test-email: email deliveries are failing.",
            f"{e.failed} failed and {e.retried} retried deliveries, {e.sent} sent in the window{err}.",
            subject="email", config_key="email.smtp_server",
            figures={"sent": e.sent, "failed": e.failed, "retried": e.retried},
        ))

    for hb in data.heartbeats:
        if hb.stale_ratio > 0 or hb.max_age_seconds >= r.heartbeat_stale_seconds:
            out.append(Recommendation(
                "heartbeat_gaps", "high",
                f"Check the trading bot on {data.host(hb.instance)}: its heartbeat had gaps (crashes, hangs "
                "or a blocked event loop).",
                f"heartbeat stale for {hb.stale_ratio:.1%} of the window, "
                f"longest gap {hb.max_age_seconds:.0f}s "
                f"(rule: any gap >= {r.heartbeat_stale_seconds:g}s, "
                f"`thresholds.trading_heartbeat_stale_seconds.critical`).",
                subject=data.host(hb.instance),
                config_key="thresholds.trading_heartbeat_stale_seconds.critical",
                figures={"stale_ratio": hb.stale_ratio, "max_age_seconds": hb.max_age_seconds},
            ))

    return sorted(out, key=lambda x: _ORDER[x.priority])
