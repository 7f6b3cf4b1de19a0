"""What the dashboard shows of the firing alerts: pure, from plain alert dicts.

- One row per alert identity (alertname + labels other than severity) at its highest active
  severity: a filesystem at 98 % fires the critical and the emergency rule, Alertmanager inhibits
  the critical, and the operator sees one emergency row.
- The Watchdog is never an alert row (it always fires by design): the pipeline heartbeat is one
  status, healthy while it was seen within `bridge.watchdog_timeout` (counted from the bridge's
  start when the last one came before it).
- Counts say what they count: per severity, of the rows shown; the banner names each severity's
  number and how many are not acknowledged, and how many the pause holds.
- While paused, alerts Alertmanager's silence holds (they never reach the bridge: `held_by` set,
  from alerts.pause.held_view) are rows too, listed apart (`held`): firing is firing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tradewatch.duration import human_duration
from tradewatch.vocabulary import SEVERITIES, SEVERITY_ORDER, URGENT_SEVERITIES, WATCHDOG_ALERT

SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # higher is more urgent
URGENT = tuple(s for s in SEVERITY_ORDER if s in URGENT_SEVERITIES)  # most urgent first


def identity(alert: dict[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    labels = alert.get("labels") or {}
    rest = tuple(sorted((str(k), str(v)) for k, v in labels.items() if k not in ("severity", "alertname")))
    return str(alert.get("alertname") or labels.get("alertname") or ""), rest


@dataclass
class Board:
    alerts: list[dict[str, Any]] = field(default_factory=list)  # one per identity, worst first
    held: list[dict[str, Any]] = field(default_factory=list)  # rows only Alertmanager's silence knows
    counts: dict[str, int] = field(default_factory=dict)  # per severity, of `alerts`
    banner: str | None = None  # None: nothing critical or emergency firing
    unacknowledged: int = 0  # critical and emergency rows not acknowledged


def board(firing: list[dict[str, Any]]) -> Board:
    """`firing`: alert dicts (alert_dict + acked_at) with status firing, in any order."""
    best: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
    for a in firing:
        if a.get("status") != "firing" or a.get("alertname") == WATCHDOG_ALERT:
            continue
        key = identity(a)
        kept = best.get(key)
        if kept is None or SEVERITY_RANK.get(a["severity"], 2) > SEVERITY_RANK.get(kept["severity"], 2):
            best[key] = a
    def order(a: dict[str, Any]) -> tuple[int, str]:
        return -SEVERITY_RANK.get(a["severity"], 2), str(a.get("starts_at"))

    rows = sorted(best.values(), key=order)
    counts = {s: 0 for s in SEVERITY_ORDER}
    for a in rows:
        counts[a["severity"]] = counts.get(a["severity"], 0) + 1
    urgent = [a for a in rows if a["severity"] in URGENT]
    unacked = [a for a in urgent if not a.get("acked_at")]
    held = sum(1 for a in urgent if a.get("held"))
    banner = banner_text(counts, len(unacked), held) if urgent else None
    stored = [a for a in rows if not a.get("held_by")]
    return Board(alerts=stored, held=[a for a in rows if a.get("held_by")], counts=counts, banner=banner,
                 unacknowledged=len(unacked))


def banner_text(counts: dict[str, int], unacknowledged: int, held: int = 0) -> str:
    """'1 emergency and 3 critical alerts firing, 3 not acknowledged; 2 held by the pause'."""
    text = _firing_text(counts, unacknowledged)
    return text + (f"; {held} held by the pause" if held else "")


def _firing_text(counts: dict[str, int], unacknowledged: int) -> str:
    parts = [f"{counts[s]} {s}" for s in URGENT if counts.get(s)]
    total = sum(counts.get(s, 0) for s in URGENT)
    text = " and ".join(parts) + (" alert" if total == 1 else " alerts") + " firing"
    if unacknowledged == 0:
        return text + ", all acknowledged"
    if unacknowledged == total:
        return text + (", not acknowledged" if total == 1 else ", none acknowledged")
    return text + f", {unacknowledged} not acknowledged"


@dataclass(frozen=True)
class Heartbeat:
    """The pipeline's dead-man's switch as one status (never an acknowledgeable alert)."""

    last_seen: float | None
    healthy: bool
    detail: str


def heartbeat(last_seen: float | None, now: float, timeout: float, started: float | None = None) -> Heartbeat:
    """`started`: when this bridge started. Its own downtime is no silence of the pipeline: for
    `timeout` after a start the last heartbeat may be older (the whole stack was stopped), while
    Prometheus and Alertmanager come up and the Watchdog arrives again."""
    if last_seen is None:
        return Heartbeat(None, False, "no Watchdog heartbeat received yet from Alertmanager")
    age = max(0.0, now - last_seen)
    if age <= timeout:
        return Heartbeat(last_seen, True, f"last heartbeat {human_duration(age)} ago")
    if started is not None and last_seen < started and now - started <= timeout:
        since = human_duration(max(0.0, now - started))
        return Heartbeat(last_seen, True, f"waiting for the first heartbeat since the bridge started {since} "
                                          f"ago (the last one came {human_duration(age)} ago, before it)")
    silent = human_duration(age)
    return Heartbeat(last_seen, False, f"no heartbeat for {silent}: alerts may not be reaching you")
