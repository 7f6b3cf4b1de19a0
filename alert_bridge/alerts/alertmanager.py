"""Alertmanager's v2 API, for the silences behind a pause."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests


class AlertmanagerUnavailable(Exception):
    """Alertmanager could not be reached or refused the request; the message says which."""


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def pause_matchers(include_emergencies: bool) -> list[dict[str, Any]]:
    """What a pause silences: alerts that would email. Warnings and info still reach the bridge
    (they feed the daily report) and so does the Watchdog (severity info): a pause must not look
    like a broken pipeline."""
    value = "critical|emergency" if include_emergencies else "critical"
    return [{"name": "severity", "value": value, "isRegex": True, "isEqual": True}]


class AlertmanagerClient:
    def __init__(self, base_url: str, timeout: float = 5.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def _call(self, method: str, path: str, **kw: Any) -> requests.Response:
        try:
            resp = self.session.request(method, f"{self.base_url}/api/v2/{path}", timeout=self.timeout, **kw)
        except requests.RequestException as exc:
            raise AlertmanagerUnavailable(f"{self.base_url}: {exc.__class__.__name__}: {exc}") from exc
        if resp.status_code >= 300:
            raise AlertmanagerUnavailable(f"{self.base_url}: HTTP {resp.status_code}: {resp.text[:300]}")
        return resp

    def create_silence(
        self, matchers: list[dict[str, Any]], starts_at: float, ends_at: float, created_by: str, comment: str
    ) -> str:
        body = {
            "matchers": matchers,
            "startsAt": _iso(starts_at),
            "endsAt": _iso(ends_at),
            "createdBy": created_by,
            "comment": comment or "paused from TradeWatch",
        }
        data = self._call("POST", "silences", json=body).json()
        return str(data["silenceID"])

    def expire_silence(self, silence_id: str) -> None:
        self._call("DELETE", f"silence/{silence_id}")

    def silences(self) -> list[dict[str, Any]]:
        return self._call("GET", "silences").json()

    def silence(self, silence_id: str) -> dict[str, Any]:
        return self._call("GET", f"silence/{silence_id}").json()

    def silenced_alerts(self) -> list[dict[str, Any]]:
        """Alerts a silence holds back (and only those): Alertmanager sends none of them anywhere."""
        params = {"active": "false", "silenced": "true", "inhibited": "false", "unprocessed": "false"}
        return self._call("GET", "alerts", params=params).json()

    def ready(self) -> bool:
        try:
            return self.session.get(f"{self.base_url}/-/ready", timeout=self.timeout).status_code == 200
        except requests.RequestException:
            return False


def matcher_text(m: dict[str, Any]) -> str:
    """A silence matcher as Alertmanager writes it: severity=~"critical|emergency"."""
    equal = m.get("isEqual", True)
    op = ("=~" if equal else "!~") if m.get("isRegex") else ("=" if equal else "!=")
    return f'{m.get("name", "")}{op}"{m.get("value", "")}"'


def current_silences(silences: list[dict[str, Any]], pause_silence: str | None) -> list[dict[str, Any]]:
    """GET /api/v2/silences -> the active and pending ones for people (who, why, until when),
    soonest end first; `pause` marks the active pause's own silence."""
    out = []
    for s in silences:
        state = (s.get("status") or {}).get("state", "")
        if state not in ("active", "pending"):
            continue
        out.append({
            "id": str(s.get("id", "")),
            "state": state,
            "created_by": str(s.get("createdBy", "")),
            "comment": str(s.get("comment", "")),
            "starts_at": str(s.get("startsAt", "")),
            "ends_at": str(s.get("endsAt", "")),
            "matchers": [matcher_text(m) for m in s.get("matchers") or []],
            "pause": bool(pause_silence) and str(s.get("id")) == pause_silence,
        })
    return sorted(out, key=lambda s: s["ends_at"])
