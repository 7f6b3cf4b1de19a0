"""Every background job of a deployment and how often it runs, built from the config in one place.

`build_jobs(config)` is the whole list: the app (when it runs its workers inline) and the worker
process both pass it to `Workers`, so nothing registers jobs by side effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alert_bridge.alerts import emergency_repeat, watchdog
from alert_bridge.alerts import pause as pause_mod
from alert_bridge.jobs import retention
from alert_bridge.jobs.context import JobContext
from alert_bridge.reports import send as report_send
from alert_bridge.store.database import MIN_FREE_BYTES
from tradewatch.config import Config


@dataclass(frozen=True)
class Job:
    name: str
    interval: float  # seconds between runs
    run: Callable[[JobContext], Any]
    record: bool = False  # write every run to job_runs (otherwise only failures and work done)


def _expire_pauses(ctx: JobContext) -> int:
    result = pause_mod.finish(ctx.config, ctx.db, now=ctx.now, expired_only=True)
    return 1 if result.notification_id else 0


def _checkpoint(ctx: JobContext) -> int:
    """PASSIVE normally; TRUNCATE when the disk is nearly full, to give the WAL's space back."""
    free = ctx.db.free_bytes()
    if free is not None and free < MIN_FREE_BYTES:
        ctx.db.checkpoint_truncate()
    else:
        ctx.db.checkpoint()
    return 0


def build_jobs(config: Config) -> list[Job]:
    """The leader's periodic jobs, in the order they run on each tick."""
    repeat = config.escalation.emergency_repeat_minutes * 60
    return [
        Job("emergency_repeat", min(30.0, max(0.5, repeat / 4)), emergency_repeat.run),
        Job("watchdog", min(30.0, max(0.5, config.bridge.watchdog_timeout / 10)), watchdog.run),
        Job("pause_expiry", 1.0, _expire_pauses),
        Job("retention", 3600.0, retention.run, record=True),
        Job("wal_checkpoint", 2.0, _checkpoint),
        # sends the scheduled daily report when due and refreshes the stored health score
        Job("daily_report", 60.0, report_send.scheduler_job),
    ]
