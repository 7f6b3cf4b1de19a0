"""The 0-100 health score: pure, deterministic arithmetic over plain inputs.

The score answers "how healthy was this deployment over the report window?" in one number an
operator can track day to day. It is deliberately simple and fully documented (docs/report.md),
so a surprising number can be explained by reading the breakdown:

  performance /30   CPU headroom 15 + memory headroom 15
  alerts      /25   critical and warning alert load, weighted by severity and duration
  trading     /25   realized P&L trend 10 + order rejection ratio 8 + heartbeat freshness 7
  integrity   /20   scrape success 5 + collector success 5 + probe success 5 + data freshness 5

Every part with no data is left out and its component is rescaled over the parts that have
data; a component with no data at all is reported as "no data" and the score is rescaled over
the components that have data. No missing input ever earns points, and none silently counts
as zero.

An urgent alert still firing at the end of the window caps the result: an emergency at most
"Poor" (59.9), a critical at most "Fair" (74.9). The points above say how the window went; the
cap keeps "Good" off a deployment that is on fire right now (`Score.cap` says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

COMPONENT_MAX = {"performance": 30.0, "alerts": 25.0, "trading": 25.0, "integrity": 20.0}
COMPONENTS = tuple(COMPONENT_MAX)
GRADES = ((90.0, "Excellent"), (75.0, "Good"), (60.0, "Fair"))
NO_DATA = "no data"

# alert load: weight per severity (per hour firing), and a minimum per episode so that short
# flapping alerts still count
SEVERITY_WEIGHT = {"emergency": 4.0, "critical": 2.0, "warning": 0.5, "info": 0.0}
EPISODE_MIN_HOURS = 0.25
ALERT_LOAD_ZERO = 8.0  # weighted alert-hours at which the alerts component reaches 0
# severity still firing at the end of the window -> the highest score (and so grade) allowed
GRADE_CAPS = {"emergency": 59.9, "critical": 74.9}


@dataclass(frozen=True)
class ScoreParams:
    """Where each part earns full points and where it reaches zero (linear in between)."""

    cpu_full: float = 0.60  # utilisation ratio (0..1) at or below which headroom is full
    cpu_zero: float = 0.95  # at or above: no headroom left
    memory_full: float = 0.60
    memory_zero: float = 0.95
    drawdown_zero: float = 1000.0  # realized P&L loss over the window that scores 0
    rejection_full: float = 0.01
    rejection_zero: float = 0.25
    heartbeat_stale_seconds: float = 120.0
    success_full: float = 0.99  # scrape / collector / probe success ratio for full points
    success_zero: float = 0.80
    fresh_full_seconds: float = 180.0  # newest successful scrape at most this old: full points
    fresh_zero_seconds: float = 900.0

    @classmethod
    def from_config(cls, config: Any) -> ScoreParams:
        """Tie the zero points to the configured critical thresholds, so score and alerts agree."""
        th = config.thresholds
        scrape = float(config.intervals.system_metrics)

        def crit(levels: Any, default: float) -> float:
            value = levels.critical if levels.critical is not None else levels.emergency
            return float(value) if value is not None else default

        return cls(
            cpu_zero=crit(th.cpu_percent, 95) / 100,
            memory_zero=crit(th.memory_percent, 95) / 100,
            drawdown_zero=crit(th.drawdown, 1000),
            rejection_zero=crit(th.order_rejection_percent, 25) / 100,
            heartbeat_stale_seconds=crit(th.trading_heartbeat_stale_seconds, 120),
            fresh_full_seconds=max(3 * scrape, 30.0),
            fresh_zero_seconds=max(15 * scrape, 300.0),
        )


@dataclass(frozen=True)
class HostInputs:
    """Window figures of one scrape target (`instance`); None means "no data"."""

    instance: str
    cpu_avg: float | None = None  # utilisation ratios 0..1
    cpu_max: float | None = None
    memory_avg: float | None = None
    memory_max: float | None = None
    pnl_change: float | None = None  # realized P&L change over the window (account currency)
    order_rejection_ratio: float | None = None  # rejected / submitted, 0..1
    heartbeat_age_seconds: float | None = None  # age of the bot's heartbeat at report time
    heartbeat_fresh_ratio: float | None = None  # share of the window with a fresh heartbeat
    scrape_success_ratio: float | None = None  # avg of `up` over the window
    collector_success_ratio: float | None = None
    probe_success_ratio: float | None = None
    data_age_seconds: float | None = None  # age of the newest successful scrape


@dataclass(frozen=True)
class AlertLoad:
    """One alert episode of the window: how long it fired inside the window."""

    alertname: str
    severity: str
    firing_seconds: float
    instance: str | None = None
    ongoing: bool = False  # still firing at the end of the window
    held: bool = False  # firing but held inside Alertmanager by a pause's silence (never stored)


@dataclass(frozen=True)
class HealthInputs:
    window_seconds: float
    hosts: Sequence[HostInputs] = ()
    alerts: Sequence[AlertLoad] | None = None  # None: the alert store could not be read
    # Prometheus is configured but could not be queried: the pipeline is blind, which is an
    # integrity failure (0 points), not "no data" (that would rescale it away to a free 100).
    metrics_unreachable: str | None = None


@dataclass(frozen=True)
class Part:
    name: str
    points: float | None  # None: no data
    max: float
    value: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class Component:
    name: str
    points: float | None  # None: no data
    max: float
    parts: tuple[Part, ...] = ()

    @property
    def status(self) -> str:
        return NO_DATA if self.points is None else "ok"


@dataclass(frozen=True)
class Cap:
    """Why the score was lowered: the most urgent severity still firing, and its alerts."""

    severity: str
    limit: float
    uncapped: float  # the score the points gave
    alertnames: tuple[str, ...]
    held: tuple[str, ...] = ()  # those of alertnames a pause holds (firing, not notified)

    @property
    def reason(self) -> str:
        names = ", ".join(self.alertnames)
        held = f"; held by the pause: {', '.join(self.held)}" if self.held else ""
        return (f"{self.severity} alert(s) firing at the end of the window ({names}{held}): "
                f"score capped at {self.limit:g} ({grade(self.limit)}), {self.uncapped:g} without the cap")

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "limit": self.limit, "uncapped": self.uncapped,
                "alertnames": list(self.alertnames), "held": list(self.held), "reason": self.reason}


@dataclass(frozen=True)
class Score:
    score: float | None
    grade: str
    components: dict[str, Component]
    hosts: dict[str, Score] = field(default_factory=dict)
    cap: Cap | None = None

    @property
    def coverage(self) -> float:
        """How many of the 100 points had data to be scored (100: every component)."""
        return sum(c.max for c in self.components.values() if c.points is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "grade": self.grade,
            "coverage": self.coverage,
            "components": {
                name: {
                    "points": _r(c.points), "max": c.max, "status": c.status,
                    "parts": [
                        {"name": p.name, "points": _r(p.points), "max": p.max, "value": p.value,
                         "status": NO_DATA if p.points is None else "ok", "detail": p.detail}
                        for p in c.parts
                    ],
                }
                for name, c in self.components.items()
            },
            "hosts": {k: v.to_dict() for k, v in self.hosts.items()},
            "cap": None if self.cap is None else self.cap.to_dict(),
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def grade(score: float | None) -> str:
    if score is None:
        return "No data"
    for floor, name in GRADES:
        if score >= floor:
            return name
    return "Poor"


def linear(value: float, full: float, zero: float) -> float:
    """1.0 at `full`, 0.0 at `zero`, linear between, clamped (works in either direction)."""
    if full == zero:
        return 1.0 if value == full else 0.0
    frac = (zero - value) / (zero - full)
    return min(1.0, max(0.0, frac))


def _component(name: str, parts: Sequence[Part]) -> Component:
    present = [p for p in parts if p.points is not None]
    maximum = COMPONENT_MAX[name]
    if not present:
        return Component(name, None, maximum, tuple(parts))
    got = sum(p.points for p in present if p.points is not None)
    possible = sum(p.max for p in present)
    return Component(name, maximum * got / possible, maximum, tuple(parts))


def _part(name: str, maximum: float, value: float | None, frac: float | None, detail: str = "") -> Part:
    if value is None or frac is None:
        return Part(name, None, maximum, None, detail or NO_DATA)
    return Part(name, maximum * frac, maximum, value, detail)


def _effective(avg: float | None, peak: float | None) -> float | None:
    # Sustained load matters most, peaks a little: 70 % average + 30 % maximum.
    if avg is None and peak is None:
        return None
    if avg is None:
        return peak
    if peak is None:
        return avg
    return 0.7 * avg + 0.3 * peak


def performance(h: HostInputs, p: ScoreParams) -> Component:
    cpu = _effective(h.cpu_avg, h.cpu_max)
    mem = _effective(h.memory_avg, h.memory_max)
    return _component("performance", [
        _part("cpu_headroom", 15, cpu, None if cpu is None else linear(cpu, p.cpu_full, p.cpu_zero),
              "" if cpu is None else f"CPU {cpu:.1%} (0.7 avg + 0.3 max)"),
        _part("memory_headroom", 15, mem, None if mem is None else linear(mem, p.memory_full, p.memory_zero),
              "" if mem is None else f"memory {mem:.1%} (0.7 avg + 0.3 max)"),
    ])


def alert_load(alerts: Sequence[AlertLoad]) -> float:
    """Weighted alert-hours: sum of weight(severity) * (0.25 h + hours firing)."""
    total = 0.0
    for a in alerts:
        w = SEVERITY_WEIGHT.get(a.severity, SEVERITY_WEIGHT["critical"])
        total += w * (EPISODE_MIN_HOURS + max(0.0, a.firing_seconds) / 3600)
    return total


def alerts_component(alerts: Sequence[AlertLoad] | None) -> Component:
    if alerts is None:
        return _component("alerts", [_part("alert_load", 25, None, None, "alert store unavailable")])
    load = alert_load(alerts)
    counted = [a for a in alerts if SEVERITY_WEIGHT.get(a.severity, 2.0) > 0]
    detail = f"{len(counted)} warning-or-worse episode(s), weighted load {load:.2f} alert-hours"
    return _component("alerts", [_part("alert_load", 25, load, linear(load, 0.0, ALERT_LOAD_ZERO), detail)])


def trading(h: HostInputs, p: ScoreParams) -> Component:
    pnl = h.pnl_change
    pnl_frac = None if pnl is None else (1.0 if pnl >= 0 else linear(-pnl, 0.0, p.drawdown_zero))
    rej = h.order_rejection_ratio
    hb_frac: float | None = None
    hb_value: float | None = None
    if h.heartbeat_fresh_ratio is not None or h.heartbeat_age_seconds is not None:
        age = h.heartbeat_age_seconds
        stale_now = age is not None and age >= p.heartbeat_stale_seconds
        fresh = h.heartbeat_fresh_ratio
        if fresh is None:
            fresh = 0.0 if stale_now else 1.0
        hb_frac = 0.0 if stale_now else min(1.0, max(0.0, fresh))
        hb_value = fresh
    return _component("trading", [
        _part("pnl_trend", 10, pnl, pnl_frac, "" if pnl is None else f"realized P&L change {pnl:+.2f}"),
        _part("order_rejections", 8, rej,
              None if rej is None else linear(rej, p.rejection_full, p.rejection_zero),
              "" if rej is None else f"rejection ratio {rej:.1%}"),
        _part("heartbeat", 7, hb_value, hb_frac,
              "" if hb_value is None else
              f"fresh {hb_value:.0%} of the window"
              + ("" if h.heartbeat_age_seconds is None else f", age now {h.heartbeat_age_seconds:.0f}s")),
    ])


def integrity(h: HostInputs, p: ScoreParams) -> Component:
    def ratio(name: str, value: float | None, what: str) -> Part:
        return _part(name, 5, value, None if value is None else linear(value, p.success_full, p.success_zero),
                     "" if value is None else f"{what} {value:.1%}")

    age = h.data_age_seconds
    return _component("integrity", [
        ratio("scrape_success", h.scrape_success_ratio, "scrapes up"),
        ratio("collector_success", h.collector_success_ratio, "collectors succeeded"),
        ratio("probe_success", h.probe_success_ratio, "probes succeeded"),
        _part("data_freshness", 5, age,
              None if age is None else linear(age, p.fresh_full_seconds, p.fresh_zero_seconds),
              "" if age is None else f"newest scrape {age:.0f}s old"),
    ])


def combine(components: dict[str, Component]) -> tuple[float | None, str]:
    """100 * points / maximum over the components that have data; rounded to 0.1."""
    present = [c for c in components.values() if c.points is not None]
    if not present:
        return None, grade(None)
    got = sum(c.points for c in present if c.points is not None)
    possible = sum(c.max for c in present)
    score = round(100.0 * got / possible + 1e-9, 1)
    return score, grade(score)


def cap(score: float | None, alerts: Sequence[AlertLoad] | None) -> Cap | None:
    """The cap set by the most urgent severity still firing (held by a pause or not), when it
    lowers the score."""
    if score is None or not alerts:
        return None
    for severity, limit in GRADE_CAPS.items():  # most urgent first
        firing = [a for a in alerts if a.ongoing and a.severity == severity]
        names = sorted({a.alertname for a in firing})
        if names and score > limit:
            held = sorted({a.alertname for a in firing if a.held})
            return Cap(severity, limit, score, tuple(names), tuple(held))
        if names:
            return None  # already at or below the most urgent cap: a milder one cannot lower it
    return None


def capped_now(score: dict[str, Any], alerts: Sequence[AlertLoad]) -> dict[str, Any]:
    """A stored score (`Score.to_dict()`, refreshed every few minutes) with the cap of the alerts
    firing now, e.g. one a pause has just started to hold: the dashboard never shows "Excellent"
    while an emergency fires, whatever the age of the stored points."""
    current = score.get("score")
    if current is None:
        return score
    stored_cap = score.get("cap") or {}
    c = cap(float(stored_cap.get("uncapped", current)), alerts)
    if c is None or c.limit >= current:
        return score
    return {**score, "score": c.limit, "grade": grade(c.limit), "cap": c.to_dict()}


def _scored(comps: dict[str, Component], alerts: Sequence[AlertLoad] | None,
            hosts: dict[str, Score] | None = None) -> Score:
    s, g = combine(comps)
    c = cap(s, alerts)
    if c is not None:
        s, g = c.limit, grade(c.limit)
    return Score(s, g, comps, hosts or {}, c)


def host_score(h: HostInputs, alerts: Sequence[AlertLoad] | None, p: ScoreParams) -> Score:
    own = None if alerts is None else [a for a in alerts if a.instance == h.instance]
    comps = {
        "performance": performance(h, p),
        "alerts": alerts_component(own),
        "trading": trading(h, p),
        "integrity": integrity(h, p),
    }
    return _scored(comps, own)


def _weakest(name: str, hosts: Sequence[Score]) -> Component:
    with_data = [h.components[name] for h in hosts if h.components[name].points is not None]
    if not with_data:
        return Component(name, None, COMPONENT_MAX[name])
    return min(with_data, key=lambda c: c.points or 0.0)


def compute(inputs: HealthInputs, params: ScoreParams | None = None) -> Score:
    """Per-host scores and the overall score.

    Overall performance, trading and integrity are those of the weakest host that has data for
    them (a fleet is as healthy as its weakest member); overall alerts count every alert of the
    window, whichever host it names.
    """
    p = params or ScoreParams()
    ordered = sorted(inputs.hosts, key=lambda h: h.instance)
    hosts = {h.instance: host_score(h, inputs.alerts, p) for h in ordered}
    comps = {
        "performance": _weakest("performance", list(hosts.values())),
        "alerts": alerts_component(inputs.alerts),
        "trading": _weakest("trading", list(hosts.values())),
        "integrity": _weakest("integrity", list(hosts.values())),
    }
    if inputs.metrics_unreachable:
        comps["integrity"] = _component("integrity", [
            Part("metrics_source", 0.0, COMPONENT_MAX["integrity"], 0.0,
                 f"Prometheus could not be queried: {inputs.metrics_unreachable}"),
        ])
    return _scored(comps, inputs.alerts, hosts)
