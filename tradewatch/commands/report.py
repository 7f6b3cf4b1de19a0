"""`tradewatch report`: render the daily report now (to a file or the terminal) or send it.

Rendering reads Prometheus and the bridge's database named in the config (read-only use of the
alert store; the history table is only written by a send). `--send` queues a manual report in
the bridge's outbox and delivers it at once when the SMTP settings allow; a manual send never
uses up the day's scheduled report.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

HELP = "render the daily report (HTML to a file, or text) or send it now"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--send", action="store_true",
                        help="send the report now to email.to (recorded as a manual send)")
    parser.add_argument("--date", metavar="YYYY-MM-DD",
                        help="report of this local date (the 24 h before its send time); default: now")
    parser.add_argument("--out", metavar="FILE.html",
                        help="write the HTML (charts embedded as data: URIs) to FILE; default: print "
                             "the plain-text version")


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        print(f"tradewatch report: --date: expected YYYY-MM-DD, got {text!r}", file=sys.stderr)
        raise SystemExit(2) from None


def run(args: argparse.Namespace) -> int:
    from tradewatch.cli import load_or_exit

    cfg = load_or_exit(args.config)
    day = _date(args.date)
    from alert_bridge.reports.schedule import date_problem, local_date

    today = local_date(datetime.now(UTC), cfg.report.timezone)
    problem = date_problem(day, today, cfg.retention.metrics_days)
    if problem:
        print(f"tradewatch report: --date: {problem}", file=sys.stderr)
        return 2
    from alert_bridge.reports import data as report_data
    from alert_bridge.reports import render, send
    from alert_bridge.store.database import Database

    db = Database(cfg.bridge.database, busy_timeout_ms=10000)
    try:
        db.migrate()
        if args.send:
            return _send(cfg, db, day, send)
        d = report_data.build(cfg, conn=db.connection(), now=datetime.now(UTC), report_date=day)
        if args.out:
            out = Path(args.out)
            try:
                out.write_text(render.render_html(d, inline_images=True), encoding="utf-8")
            except OSError as exc:
                print(f"tradewatch report: cannot write {out}: {exc.strerror}", file=sys.stderr)
                return 1
            print(out.resolve())
        else:
            sys.stdout.write(render.render_text(d))
        return 0
    finally:
        db.close()


def _send(cfg, db, day, send) -> int:  # type: ignore[no-untyped-def]
    result = send.send_report(cfg, db, kind="manual", report_date=day, holder="cli")
    if result.status == "failed":
        print(f"tradewatch report: the report could not be built: {result.detail}", file=sys.stderr)
        return 1
    if result.notification_id is None:
        print(f"report {result.report_date}: score {result.score} ({result.grade}); "
              f"not emailed: {result.detail}")
        return 1
    try:
        from alert_bridge.notify.sender import OutboxSender
    except ImportError:
        print(f"report {result.report_date} queued as notification {result.notification_id}; "
              "the bridge's sender will deliver it")
        return 0
    outcome = OutboxSender(cfg, db).deliver_now(result.notification_id)
    status = getattr(outcome, "status", "unknown")
    print(f"report {result.report_date}: score {result.score} ({result.grade}), "
          f"notification {result.notification_id}: {status}"
          + (f" ({outcome.error})" if getattr(outcome, "error", None) else ""))
    return 0 if status == "sent" else 1
