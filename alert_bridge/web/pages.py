"""The headers of every server-rendered page (the dashboard, the acknowledge page, /help/score),
and rendering for the pages besides the dashboard: the dashboard's templates and stylesheet,
under its Content-Security-Policy (no inline script or style)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, render_template

from tradewatch.duration import human_duration

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def secure_page(resp: Response) -> Response:
    """The headers every page carries: the CSP, no sniffing, no referrer, no framing, no caching."""
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def html_page(template: str, status: int = 200, **context: Any) -> Response:
    """`template` (under the dashboard's templates) as a page with the dashboard's headers."""
    return secure_page(Response(render_template(template, **context), status=status, mimetype="text/html"))


def human_time(ts: float | None, now: float) -> str:
    """`2026-12-05 06:24 UTC, 12 min ago` for people; an em dash when unknown."""
    if ts is None:
        return "\u2014"
    stamp = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
    age = now - ts
    if age < -60:
        return f"{stamp}, in {human_duration(-age)}"
    if age < 60:
        return f"{stamp}, just now"
    if age < 3600:
        return f"{stamp}, {round(age / 60)} min ago"
    return f"{stamp}, {human_duration(age)} ago"
