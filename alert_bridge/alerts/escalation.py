"""Escalation policy: what to do with an alert, decided from plain values (no I/O, no clock).

| severity            | firing                         | resolved          | paused                      |
|---------------------|--------------------------------|-------------------|-----------------------------|
| info                | store and log                  | store             | same                        |
| warning             | store, into the daily report   | store             | same                        |
| critical / unknown  | email `to` now                 | email `to` now    | held, summarised at the end |
| emergency           | email `to` + `escalation_to`,  | email both        | still sent, unless the pause|
|                     | repeated until acked/resolved  |                   | includes emergencies (held) |

A missing or unknown severity is treated as critical and flagged (`severity_assumed`), so a
typo in a rule can never silence an alert. A resolved alert is only emailed when the operator
was told it fired (an email, or the pause summary): an alert Alertmanager inhibited, or one that
arrived already resolved, ends quietly in the store instead of a RESOLVED email out of nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Action(StrEnum):
    STORE = "store"  # stored and logged only
    REPORT = "report"  # stored; delivered by the daily report
    EMAIL = "email"  # enqueue an email now
    HOLD = "hold"  # paused: keep for the pause summary
    NONE = "none"  # nothing to do (repeat not due, acked, resolved)


@dataclass(frozen=True)
class Pause:
    include_emergencies: bool = False


@dataclass(frozen=True)
class Decision:
    action: Action
    kind: str | None = None  # firing | resolved | emergency_repeat, when action is EMAIL
    escalate: bool = False  # also email escalation_to
    reason: str = ""


def decide(
    severity: str,
    status: Literal["firing", "resolved"] | str,
    *,
    trigger: Literal["webhook", "tick"],
    pause: Pause | None = None,
    acked: bool = False,
    last_notified_at: float | None = None,
    now: float = 0.0,
    repeat_seconds: float = 900.0,
    told_firing: bool = True,
) -> Decision:
    """Decide for one alert. `trigger` is "webhook" when a new status just arrived, "tick" for
    the periodic emergency-repeat check. `severity` is the effective one
    (see tradewatch.vocabulary.effective_severity).
    `told_firing`: the operator was notified of this episode's firing (email or pause summary).
    """
    if trigger == "tick":
        return _tick(severity, status, pause, acked, last_notified_at, now, repeat_seconds)
    if status == "resolved" and not told_firing and severity in ("critical", "emergency"):
        return Decision(Action.STORE, reason="resolved, but its firing was never notified: no email")
    if severity == "info":
        return Decision(Action.STORE, reason="info: stored and logged only")
    if severity == "warning":
        return Decision(Action.REPORT, reason="warning: delivered by the daily report")
    if severity == "emergency":
        if pause is not None and pause.include_emergencies:
            return Decision(Action.HOLD, reason="paused, including emergencies")
        return Decision(
            Action.EMAIL, kind=status, escalate=True, reason="emergency: email to and escalation_to"
        )
    # critical, or an assumed critical
    if pause is not None:
        return Decision(Action.HOLD, reason="paused: held for the summary")
    return Decision(Action.EMAIL, kind=status, reason="critical: email now")


def _tick(
    severity: str,
    status: str,
    pause: Pause | None,
    acked: bool,
    last_notified_at: float | None,
    now: float,
    repeat_seconds: float,
) -> Decision:
    if severity != "emergency" or status != "firing":
        return Decision(Action.NONE, reason="only firing emergencies repeat")
    if acked:
        return Decision(Action.NONE, reason="acknowledged")
    if pause is not None and pause.include_emergencies:
        return Decision(Action.HOLD, reason="paused, including emergencies")
    if last_notified_at is not None and now - last_notified_at < repeat_seconds:
        return Decision(Action.NONE, reason="repeat not due")
    return Decision(Action.EMAIL, kind="emergency_repeat", escalate=True, reason="repeat due")


def recipients(to: list[str], escalation_to: list[str], escalate: bool) -> list[str]:
    """`to`, plus `escalation_to` for emergencies, without duplicates, order kept."""
    out: list[str] = []
    for addr in [*to, *(escalation_to if escalate else [])]:
        if addr not in out:
            out.append(addr)
    return out
