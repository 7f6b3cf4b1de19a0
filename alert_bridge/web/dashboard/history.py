"""The alert history: every stored alert, searchable by name, host, severity and time range,
as a server-rendered page (`GET /history`, same CSP as the dashboard, no script) and as JSON
(`GET /api/monitoring/history`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, render_template, request

from alert_bridge.alerts.payload import parse_time
from alert_bridge.notify.context import iso_time
from alert_bridge.notify.view import host_of
from alert_bridge.store import alerts
from alert_bridge.web import models as m
from alert_bridge.web.contract import HTML, Auth, contract
from alert_bridge.web.pages import secure_page
from alert_bridge.web.runtime import bridge
from tradewatch.duration import human_duration
from tradewatch.vocabulary import SEVERITY_ORDER

bp = Blueprint("history", __name__)


def _epoch(t: datetime | None) -> float | None:
    return None if t is None else t.timestamp()


def _ended(d: dict[str, Any]) -> float | None:
    """When a resolved alert ended: Alertmanager's endsAt, else when the bridge heard of it."""
    try:
        return parse_time(d["ends_at"]).timestamp() if d["ends_at"] else d["resolved_at"]
    except ValueError:
        return d["resolved_at"]


def entry(row: Any) -> dict[str, Any]:
    """A stored alert as a history row (host named as in emails: nodename, else the address)."""
    d = alerts.row_to_dict(row)
    resolved = _ended(d) if d["status"] == "resolved" else None
    return {
        "id": d["id"],
        "alertname": d["alertname"],
        "severity": d["severity"],
        "status": d["status"],
        "host": host_of({"labels": d["labels"], "instance": d["instance"]}),
        "instance": d["instance"],
        "labels": d["labels"],
        "summary": d["annotations"].get("summary"),
        "starts_at": d["starts_at"],
        "resolved_at": iso_time(resolved),
        "duration_seconds": None if resolved is None else max(0.0, resolved - d["starts_at_epoch"]),
        "acked_at": iso_time(d["acked_at"]),
    }


def _entries(query: m.HistoryQuery) -> list[dict[str, Any]]:
    rows = alerts.search(bridge().db.connection(), name=query.name, host=query.host, severity=query.severity,
                         since=_epoch(query.since), until=_epoch(query.until), limit=query.limit)
    return [entry(r) for r in rows]


@bp.after_request
def _headers(resp: Response) -> Response:
    return secure_page(resp) if request.endpoint == "history.page" else resp


@bp.get("/api/monitoring/history")
@contract(summary="Alert history: search by name, host, severity and time range", auth=Auth.READ,
          query=m.HistoryQuery, replies={200: m.HistoryList}, errors=(503,))
def history_json(query: m.HistoryQuery) -> Any:
    out = m.HistoryList(alerts=_entries(query), generated_at=iso_time(bridge().clock()))
    return out.model_dump(mode="json")


def when(iso: str | None) -> str:
    """'2026-12-05 06:24 UTC' for people (the ISO time stays in the <time> element)."""
    if not iso:
        return "—"
    try:
        return parse_time(iso).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def _field(t: datetime | None) -> str:
    """A bound as the page's date field shows it (a time given in the URL keeps its day)."""
    return t.strftime("%Y-%m-%d") if t else ""


@bp.get("/history")
@contract(summary="The alert history page (server-rendered search form and results)", auth=Auth.READ,
          query=m.HistoryQuery, replies={200: HTML}, errors=(503,))
def page(query: m.HistoryQuery) -> Any:
    return render_template(
        "dashboard/history.html",
        rows=_entries(query),
        query=query,
        since=_field(query.since),
        until=_field(query.until),
        severities=SEVERITY_ORDER,
        human_duration=human_duration,
        when=when,
        generated_at=iso_time(bridge().clock()),
    )
