"""HTTP endpoints of the report and the health score (the gauge is in alert_bridge.web.metrics).

GET  /api/monitoring/reports/daily   preview (HTML, charts as data: URIs; ?date=YYYY-MM-DD,
                                     ?format=text for the plain-text part)
POST /api/monitoring/reports/daily   send now (manual: never uses up the day's scheduled report)
GET  /api/monitoring/health-score    score, grade, breakdown, per-host scores and the inputs used
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from alert_bridge.reports import data as report_data
from alert_bridge.reports import health_inputs, render, send
from alert_bridge.reports import health_score as hs
from alert_bridge.reports.schedule import date_problem, local_date
from alert_bridge.sources.prometheus import PrometheusAPI
from alert_bridge.store import jobs as jobs_sql
from alert_bridge.web.auth import actor, require_read, require_write
from alert_bridge.web.errors import ApiError
from alert_bridge.web.runtime import bridge

bp = Blueprint("reports", __name__)


def _date_arg(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ApiError(400, "date must be a string YYYY-MM-DD", {"field": "date"})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "date must be YYYY-MM-DD", {"field": "date", "value": value[:40]}) from None


def _api() -> PrometheusAPI | None:
    url = bridge().config.bridge.prometheus_url
    return PrometheusAPI(url, timeout=10.0) if url else None


def _not_future(day: date | None, now: datetime) -> date | None:
    """A report date must be today or within `retention.metrics_days` before it."""
    config = bridge().config
    problem = date_problem(day, local_date(now, config.report.timezone), config.retention.metrics_days)
    if problem:
        raise ApiError(400, problem, {"date": day.isoformat() if day else None})
    return day


@bp.get("/api/monitoring/reports/daily")
@require_read
def preview() -> Response:
    b = bridge()
    now = datetime.fromtimestamp(b.clock(), UTC)
    day = _not_future(_date_arg(request.args.get("date")), now)
    d = report_data.build(b.config, conn=b.db.connection(), now=now, report_date=day, api=_api())
    if request.args.get("format") == "text":
        return Response(render.render_text(d), mimetype="text/plain")
    html = render.render_html(d, inline_images=True)
    resp = Response(html, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/api/monitoring/reports/daily")
@require_write
def send_now() -> Response:
    b = bridge()
    body: dict[str, Any] = {}
    raw = request.get_data(cache=True)
    if raw.strip():
        parsed = request.get_json(silent=True, force=True)
        if not isinstance(parsed, dict):
            raise ApiError(400, "body must be a JSON object", None)
        body = parsed
    day = _not_future(_date_arg(body.get("date") or request.args.get("date")),
                      datetime.fromtimestamp(b.clock(), UTC))
    result = send.send_report(b.config, b.db, kind="manual", now=b.clock(), report_date=day, api=_api(),
                              holder=actor(), sender=b.sender)
    if result.status == "failed":
        raise ApiError(500, "the report could not be built", result.detail)
    code = 202 if result.status == "queued" else 200
    return jsonify(result.to_dict()), code


@bp.get("/api/monitoring/health-score")
@require_read
def health_score() -> Response:
    b = bridge()
    window = b.config.report.window
    if request.args.get("window"):
        from tradewatch.duration import parse_duration

        try:
            window = parse_duration(request.args["window"])
        except ValueError as exc:
            raise ApiError(400, "window must be a duration such as 24h or 30m", str(exc)) from None
        if not 60 <= window <= 90 * 86400:
            raise ApiError(400, "window must be between 1m and 90d", {"window": window})
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
    return jsonify(out)
