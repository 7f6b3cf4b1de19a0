"""HTTP endpoints of the report and the health score (the gauge is in alert_bridge.web.metrics).

GET  /api/monitoring/reports/daily   preview (HTML, charts as data: URIs; ?date=YYYY-MM-DD,
                                     ?format=text for the plain-text part)
POST /api/monitoring/reports/daily   send now (manual: never uses up the day's scheduled report)
GET  /api/monitoring/health-score    score, grade, breakdown, per-host scores and the inputs used
GET  /help/score                     the page the report links: formula, grades, recommendation rules
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response

from alert_bridge.reports import data as report_data
from alert_bridge.reports import explain, health_inputs, render, send
from alert_bridge.reports import health_score as hs
from alert_bridge.reports.schedule import date_problem, local_date
from alert_bridge.sources.prometheus import PrometheusAPI
from alert_bridge.store import jobs as jobs_sql
from alert_bridge.web import models as m
from alert_bridge.web.auth import actor
from alert_bridge.web.contract import HTML, TEXT, Auth, contract
from alert_bridge.web.errors import ApiError
from alert_bridge.web.pages import html_page
from alert_bridge.web.runtime import bridge
from tradewatch.duration import parse_duration

bp = Blueprint("reports", __name__)


def _api() -> PrometheusAPI | None:
    url = bridge().config.bridge.prometheus_url
    return PrometheusAPI(url, timeout=10.0) if url else None


def _reportable(text: str | None, now: datetime) -> date | None:
    """A report date must be today or within `retention.metrics_days` before it: any other day
    has no report (404), as a well-formed date, not a malformed request."""
    if text is None:
        return None
    day = date.fromisoformat(text)
    config = bridge().config
    problem = date_problem(day, local_date(now, config.report.timezone), config.retention.metrics_days)
    if problem:
        raise ApiError(404, f"no report for that date: {problem}", {"date": text})
    return day


_NO_DATE = "404: no report for the date (in the future, or older than retention.metrics_days)."


@bp.get("/api/monitoring/reports/daily")
@contract(summary="Preview the daily report (HTML with charts inline; format=text for the plain-text part)",
          auth=Auth.READ, query=m.ReportQuery, replies={200: (HTML, TEXT)}, errors=(404, 503),
          description=_NO_DATE)
def preview(query: m.ReportQuery) -> Response:
    b = bridge()
    now = datetime.fromtimestamp(b.clock(), UTC)
    day = _reportable(query.date, now)
    d = report_data.build(b.config, conn=b.db.connection(), now=now, report_date=day, api=_api())
    if query.format == "text":
        return Response(render.render_text(d), mimetype="text/plain")
    html = render.render_html(d, inline_images=True)
    resp = Response(html, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/api/monitoring/reports/daily")
@contract(summary="Send the daily report now (recorded as manual: the scheduled one still goes out)",
          auth=Auth.WRITE, body=m.ReportRequest, replies={200: m.ReportResult, 202: m.ReportResult},
          errors=(404, 503), description="202: queued in the outbox; 200: not queued (the status says why). "
          + _NO_DATE)
def send_now(body: m.ReportRequest) -> Any:
    b = bridge()
    day = _reportable(body.date, datetime.fromtimestamp(b.clock(), UTC))
    result = send.send_report(b.config, b.db, kind="manual", now=b.clock(), report_date=day, api=_api(),
                              holder=actor(), sender=b.sender)
    if result.status == "failed":
        raise ApiError(500, "the report could not be built", result.detail)
    code = 202 if result.status == "queued" else 200
    return m.ReportResult.model_validate(result.to_dict()).model_dump(), code


@bp.get("/api/monitoring/health-score")
@contract(summary="Health score 0-100 with its breakdown and the inputs used", auth=Auth.READ,
          query=m.ScoreQuery, replies={200: m.HealthScore}, errors=(503,))
def health_score(query: m.ScoreQuery) -> Any:
    b = bridge()
    window = b.config.report.window if query.window is None else parse_duration(query.window)
    now = b.clock()
    c = health_inputs.collect(b.config, end=now, api=_api(), conn=b.db.connection(), window=window)
    score = hs.compute(c.health, hs.ScoreParams.from_config(b.config))
    out = score.to_dict()
    if window == b.config.report.window:
        with b.db.transaction() as conn:
            jobs_sql.set_state(conn, send.HEALTH_STATE_KEY, json.dumps({"at": now, "score": out}))
    out.update({
        "computed_at": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
        "window_seconds": window,
        "inputs": {
            "hosts": [asdict(h) for h in c.health.hosts],
            "alerts": None if c.health.alerts is None else [asdict(a) for a in c.health.alerts],
            "params": asdict(hs.ScoreParams.from_config(b.config)),
            "prometheus_url": c.prometheus_url,
            "prometheus_ok": c.prometheus_ok,
        },
        "gaps": c.gaps,
        "notes": c.notes,
    })
    return m.HealthScore.model_validate(out).model_dump(mode="json")


@bp.get("/help/score")
@contract(summary="How the health score and the report's recommendations work (the page the report links)",
          auth=Auth.OPEN, replies={200: HTML},
          description="Open like /api/docs: the formula and this deployment's thresholds, no alert data.")
def score_help() -> Response:
    return html_page("dashboard/score_help.html", **explain.page(bridge().config))
