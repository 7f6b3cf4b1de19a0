"""Sending the daily report: the scheduled send (one per local day), manual sends, the job.

The scheduled report is claimed first (store/reports.claim_scheduled: a UNIQUE row per local
date), rendered outside any transaction (Prometheus queries take seconds), then queued in the
outbox with its complete MIME message in `raw` and the dedup key `report:scheduled:<date>` -
a second guard, so even a claim taken over from a crashed worker cannot queue the day twice.
A manual send (API or CLI) always sends, is recorded as `manual` and leaves the day's slot alone.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alert_bridge.notify import fanout
from alert_bridge.notify.context import dashboard_url
from alert_bridge.reports import data as report_data
from alert_bridge.reports.render import build_message
from alert_bridge.reports.schedule import decide, local_date
from alert_bridge.sources.prometheus import PrometheusAPI
from alert_bridge.store import jobs as jobs_sql
from alert_bridge.store import outbox
from alert_bridge.store import reports as store
from alert_bridge.store.database import Database
from tradewatch.config import Config

log = logging.getLogger("alert_bridge.reports.send")

PROCESS_STARTED = time.time()
HEALTH_STATE_KEY = "health_score"
HEALTH_REFRESH_SECONDS = 300.0


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class SendResult:
    status: str  # queued | skipped | failed | not_emailed
    kind: str
    report_date: str
    detail: str = ""
    run_id: int | None = None
    notification_id: int | None = None
    score: float | None = None
    grade: str | None = None
    recipients: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def send_report(
    config: Config,
    db: Database,
    *,
    kind: str,
    now: float | None = None,
    report_date: date | None = None,
    api: PrometheusAPI | None = None,
    holder: str | None = None,
    sender: Any = None,
) -> SendResult:
    """Claim (scheduled/catch-up) or record (manual), build, queue. Never raises for a render fault."""
    now = time.time() if now is None else now
    now_dt = datetime.fromtimestamp(now, UTC)
    day = report_date or local_date(now_dt, config.report.timezone)
    holder = holder or holder_name()
    with db.transaction() as conn:
        if kind == "manual":
            run_id: int | None = store.record_manual(conn, day.isoformat(), now=now, holder=holder)
        else:
            run_id = store.claim_scheduled(conn, day.isoformat(), now=now, holder=holder, kind=kind)
    if run_id is None:
        return SendResult("skipped", kind, day.isoformat(), "today's scheduled report was already sent")

    try:
        # a manual send without --date covers the window ending now; otherwise the day's send time
        target = report_date if kind == "manual" else day
        d = report_data.build(config, conn=db.connection(), now=now_dt, report_date=target, api=api)
        msg = build_message(d, config, kind=kind, now=now_dt, run_id=run_id)
        raw = msg.as_bytes()
    except Exception as exc:
        log.exception("daily report %s (%s) could not be built", day, kind)
        with db.transaction() as conn:
            store.mark_failed(conn, run_id, now=time.time(), error=f"{exc.__class__.__name__}: {exc}")
        return SendResult("failed", kind, day.isoformat(), f"{exc.__class__.__name__}: {exc}", run_id)

    recipients = list(config.email.to)
    components = {n: c.points for n, c in d.score.components.items()}
    notification_id = None
    dedup = f"report:scheduled:{day.isoformat()}" if kind != "manual" else f"report:manual:{run_id}"
    with db.transaction() as conn:
        if recipients:
            notification_id = outbox.enqueue(
                conn, "report", recipients,
                {"report_date": day.isoformat(), "kind": kind, "score": d.score.score,
                 "grade": d.score.grade, "subject": str(msg["Subject"])},
                dedup_key=dedup, raw=raw, now=now,
            )
        channel_context = {"report_date": day.isoformat(), "kind": kind, "score": d.score.score,
                           "grade": d.score.grade, "subject": str(msg["Subject"]),
                           "dashboard_url": dashboard_url(config)}
        channel_ids = fanout.enqueue_channels(
            conn, config, "report", channel_context, now=now,
            dedup_key=dedup)
        detail = "" if recipients else "email.to is empty: the report was not emailed"
        store.mark_enqueued(conn, run_id, now=now, notification_id=notification_id, detail=detail)
        store.save_history(
            conn, report_date=day.isoformat(), run_id=run_id, kind=kind, now=now,
            window_start=d.collected.start if d.collected else now,
            window_end=d.collected.end if d.collected else now,
            score=d.score.score, grade=d.score.grade, components=components,
            hosts=d.summary_for_history(), alert_counts=d.alert_counts, pnl=d.pnl,
        )
        cutoff = day - timedelta(days=config.retention.trading_days)
        store.prune_history(conn, cutoff.isoformat())
        _save_health_state(conn, d.score.to_dict(), now)
    if sender is not None and (notification_id is not None or channel_ids):
        sender.wake()
    status = "queued" if notification_id is not None else ("not_emailed" if not recipients else "skipped")
    detail = detail or f"{len(d.charts)} chart(s), {len(raw)} bytes"
    return SendResult(status, kind, day.isoformat(), detail, run_id, notification_id, d.score.score,
                      d.score.grade, recipients)


def scheduled_tick(
    config: Config, db: Database, *, now: float, started_at: float = PROCESS_STARTED,
    sender: Any = None, api: PrometheusAPI | None = None,
) -> SendResult | None:
    """Called every minute by the leader's workers: send today's report when due."""
    now_dt = datetime.fromtimestamp(now, UTC)
    day = local_date(now_dt, config.report.timezone)
    conn = db.connection()
    created = store.db_created_at(conn)
    done = store.scheduled_sent(conn, day.isoformat()) or store.failures(conn, day.isoformat()) >= 3
    decision = decide(
        now_dt, config.intervals.daily_report, config.report.timezone,
        already_sent=done,
        db_created_at=None if created is None else datetime.fromtimestamp(created, UTC),
        started_at=datetime.fromtimestamp(started_at, UTC),
    )
    if not decision.send:
        return None
    log.info("daily report %s: %s", decision.day, decision.reason)
    return send_report(config, db, kind="catch_up" if decision.catch_up else "scheduled", now=now,
                       report_date=decision.day, api=api, sender=sender)


def scheduler_job(ctx: Any) -> int:
    """The workers' `daily_report` job (alert_bridge.jobs.schedule): 1 when a report was queued."""
    result = scheduled_tick(ctx.config, ctx.db, now=ctx.now, sender=ctx.sender)
    refresh_health_state(ctx.config, ctx.db, now=ctx.now)
    return 1 if result is not None and result.status == "queued" else 0


# ---------------------------------------------------------------- health score state (for /metrics)

def _save_health_state(conn: Any, score: dict[str, Any], now: float) -> None:
    jobs_sql.set_state(conn, HEALTH_STATE_KEY, json.dumps({"at": now, "score": score}))


def refresh_health_state(config: Config, db: Database, *, now: float,
                         force: bool = False) -> dict[str, Any] | None:
    """Recompute the score every few minutes so `tradewatch_health_score` stays current."""
    state = load_health_state(db)
    if not force and state is not None and now - float(state.get("at", 0)) < HEALTH_REFRESH_SECONDS:
        return state
    from alert_bridge.reports import health_inputs
    from alert_bridge.reports import health_score as hs

    api = PrometheusAPI(config.bridge.prometheus_url, timeout=5.0) if config.bridge.prometheus_url else None
    c = health_inputs.collect(config, end=now, api=api, conn=db.connection())
    score = hs.compute(c.health, hs.ScoreParams.from_config(config)).to_dict()
    with db.transaction() as conn:
        _save_health_state(conn, score, now)
    return {"at": now, "score": score}


def load_health_state(db: Database) -> dict[str, Any] | None:
    text = jobs_sql.get_state(db.connection(), HEALTH_STATE_KEY)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
