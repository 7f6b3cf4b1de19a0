"""Alertmanager's silences, on the bridge: Debian's Alertmanager has no web UI, so the
dashboard lists the active and pending silences (who, why, until when) and expires them
through the bridge (alerts.alertmanager's client), and nobody needs Alertmanager's UI."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from alert_bridge.alerts.alertmanager import AlertmanagerClient, AlertmanagerUnavailable, current_silences
from alert_bridge.store import pauses
from alert_bridge.web import models as m
from alert_bridge.web.contract import Auth, contract
from alert_bridge.web.errors import ApiError
from alert_bridge.web.runtime import bridge

bp = Blueprint("silences", __name__)


def _client() -> AlertmanagerClient:
    url = bridge().config.bridge.alertmanager_url
    if not url:  # a setting, not an outage: nothing to expire until it is set
        raise ApiError(409, "Alertmanager is not configured", "set bridge.alertmanager_url")
    return AlertmanagerClient(url, timeout=3.0)


def _pause_silence() -> str | None:
    b = bridge()
    p = pauses.to_dict(pauses.active(b.db.connection(), b.clock()))
    return str(p["silence_id"]) if p and p.get("silence_id") else None


def listing() -> list[dict[str, Any]]:
    """The silences for the page and the API; raises ApiError 503 when Alertmanager cannot say."""
    client = _client()
    try:
        return current_silences(client.silences(), _pause_silence())
    except AlertmanagerUnavailable as exc:
        raise ApiError(503, "Alertmanager did not answer", str(exc)) from None


@bp.get("/api/monitoring/silences")
@contract(summary="Active and pending Alertmanager silences: who, why, until when", auth=Auth.READ,
          replies={200: m.SilenceList}, errors=(503,), description="503: Alertmanager did not answer.")
def list_silences() -> Any:
    if not bridge().config.bridge.alertmanager_url:
        return m.SilenceList(silences=[], configured=False).model_dump(mode="json")
    return m.SilenceList(silences=listing(), configured=True).model_dump(mode="json")


@bp.post("/api/monitoring/silences/<silence_id>/expire")
@contract(summary="Expire an Alertmanager silence now", auth=Auth.WRITE, path=m.SilencePath,
          replies={200: m.SilenceExpired}, errors=(404, 409, 503),
          description="409: the active pause's own silence (POST /api/monitoring/start resumes and "
          "expires it, with the summary of what it held), a silence already expired, or no "
          "bridge.alertmanager_url. 503: Alertmanager did not answer.")
def expire(silence_id: str) -> Any:
    client = _client()
    if silence_id == _pause_silence():
        raise ApiError(409, "this silence is the pause's", "resume notifications to end it (POST "
                       "/api/monitoring/start): the alerts it held go out in one summary")
    try:
        found = [s for s in client.silences() if str(s.get("id")) == silence_id]
        if not found:
            raise ApiError(404, "no such silence", {"id": silence_id})
        if (found[0].get("status") or {}).get("state") == "expired":
            raise ApiError(409, "the silence has already expired", {"id": silence_id})
        client.expire_silence(silence_id)
    except AlertmanagerUnavailable as exc:
        raise ApiError(503, "Alertmanager did not answer", str(exc)) from None
    return m.SilenceExpired(expired=True, id=silence_id).model_dump(mode="json")
