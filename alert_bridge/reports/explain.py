"""What the bridge's /help/score page says: the score formula, the grade rules and the
recommendation rules, built from the same constants and configured thresholds the code uses.

The report email links this page instead of a repository path: it is served by the bridge the
operator already reaches, works without internet access, and cannot drift from the code (the
numbers come from health_score, recommendations and health_inputs, with this deployment's config).
docs/report.md has the same rules with worked examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alert_bridge.reports import health_score as hs
from alert_bridge.reports.health_inputs import FORECAST_MIN_HISTORY, FORECAST_RANGE
from alert_bridge.reports.recommendations import RecommendationRules
from tradewatch.duration import human_duration


@dataclass(frozen=True)
class Row:
    """One line of a table on the page."""

    name: str
    points: str
    input: str
    full: str
    zero: str


def _pct(ratio: float) -> str:
    return f"{ratio * 100:g} %"


def score_rows(p: hs.ScoreParams) -> list[Row]:
    """The parts of each component with their full and zero points (linear in between)."""
    sev = ", ".join(f"{s} {w:g}" for s, w in hs.SEVERITY_WEIGHT.items())
    return [
        Row("Performance: CPU headroom", "15", "u = 0.7 x average + 0.3 x maximum CPU utilisation",
            f"u <= {_pct(p.cpu_full)}", f"u >= {_pct(p.cpu_zero)}"),
        Row("Performance: memory headroom", "15", "the same for memory utilisation",
            f"u <= {_pct(p.memory_full)}", f"u >= {_pct(p.memory_zero)}"),
        Row("Alerts: alert load", "25",
            f"sum over the window's alerts of weight x ({hs.EPISODE_MIN_HOURS:g} h + hours firing); "
            f"weights: {sev}", "no alerts", f">= {hs.ALERT_LOAD_ZERO:g} weighted alert-hours"),
        Row("Trading: P&L trend", "10", "realized P&L change over the window", "no loss",
            f"loss >= {p.drawdown_zero:g}"),
        Row("Trading: order rejections", "8", "rejected / submitted orders",
            f"<= {_pct(p.rejection_full)}", f">= {_pct(p.rejection_zero)}"),
        Row("Trading: heartbeat", "7",
            f"share of the window with a heartbeat younger than {p.heartbeat_stale_seconds:g} s "
            "(0 if stale now)", "100 %", "0 %"),
        Row("Integrity: scrapes, collectors, probes", "5 each", "share that succeeded",
            f">= {_pct(p.success_full)}", f"<= {_pct(p.success_zero)}"),
        Row("Integrity: data freshness", "5", "age of the newest successful scrape",
            f"<= {p.fresh_full_seconds:g} s", f">= {p.fresh_zero_seconds:g} s"),
    ]


def grade_rows() -> list[tuple[str, str]]:
    floors = [f">= {floor:g}" for floor, _ in hs.GRADES]
    return [(name, f) for (_, name), f in zip(hs.GRADES, floors, strict=True)] + [
        ("Poor", f"< {hs.GRADES[-1][0]:g}")]


def cap_rows() -> list[tuple[str, str]]:
    return [(severity, f"at most {limit:g} ({hs.grade(limit)})") for severity, limit in hs.GRADE_CAPS.items()]


def recommendation_rows(r: RecommendationRules) -> list[tuple[str, str]]:
    """(kind, when it fires) for every rule of recommendations.recommend, in its order."""
    history, trend = human_duration(FORECAST_MIN_HISTORY), human_duration(FORECAST_RANGE)
    return [
        ("firing_alert", "a critical or emergency alert is firing at the end of the window: one per alert, "
                         "with what to do, how long it has fired and its own figures"),
        ("disk_fill", f"a filesystem's free space, at its linear trend over the last {trend}, reaches 0 "
                      f"within {r.fill_within_days:g} days; only for filesystems with at least {history} "
                      "of history (the node-mixin's rule), never from a few minutes of data"),
        ("memory_pressure", f"memory used on average >= {_pct(r.memory_pressure_avg)}, or above it for "
                            f">= {_pct(r.memory_pressure_share)} of the window"),
        ("flapping", f"an alert fired more than {r.flapping_episodes} times in the window"),
        ("probe_intermittent", f"a probe succeeded between {_pct(r.probe_intermittent_low)} and "
                               f"{_pct(r.probe_intermittent_high)} of the window"),
        ("probe_down", "a probe never succeeded in the window"),
        ("email_failing", "an email of the window failed or needed a retry"),
        ("heartbeat_gaps", f"the trading bot's heartbeat was older than {r.heartbeat_stale_seconds:g} s "
                           "at any time in the window"),
    ]


def page(config: Any) -> dict[str, Any]:
    """Everything the page shows, for this deployment's configuration."""
    return {
        "rows": score_rows(hs.ScoreParams.from_config(config)),
        "grades": grade_rows(),
        "caps": cap_rows(),
        "recommendations": recommendation_rows(RecommendationRules.from_config(config)),
        "window": human_duration(float(config.report.window)),
    }
