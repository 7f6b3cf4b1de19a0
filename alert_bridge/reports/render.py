"""Render a ReportData to HTML (CSS inlined) and text, and build the multipart email.

The email is multipart/alternative: text/plain first, then multipart/related holding the HTML
and each chart as an image/png part whose Content-ID the HTML references as `cid:`. The browser
preview embeds the same PNGs as data: URIs instead.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import jinja2

from alert_bridge.notify.compose import DEFAULT_FROM, inline_css, sender_address
from alert_bridge.reports.data import ReportData
from tradewatch.config import Config


@functools.cache
def template_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("alert_bridge.reports", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def score_text(score: float | None) -> str:
    if score is None:
        return "n/a"
    return f"{score:.0f}" if float(score).is_integer() else f"{score:.1f}"


def grade_class(grade: str) -> str:
    return "g-" + grade.lower().replace(" ", "")


def _globals(d: ReportData, img: Callable[[str], str]) -> dict[str, Any]:
    pnl_cid = next((cid for cid in d.charts if cid.startswith("pnl.")), "")
    return {"d": d, "img": img, "score_text": score_text, "grade_class": grade_class, "pnl_cid": pnl_cid}


def render_html(d: ReportData, *, inline_images: bool = False) -> str:
    """HTML with CSS inlined; images as cid: references (email) or data: URIs (preview)."""
    def img(cid: str) -> str:
        if inline_images:
            return "data:image/png;base64," + base64.b64encode(d.charts[cid].png).decode("ascii")
        return f"cid:{cid}"

    html = template_env().get_template("report.html").render(_globals(d, img))
    return inline_css(html)


def render_text(d: ReportData) -> str:
    text = template_env().get_template("report.txt").render(_globals(d, lambda cid: ""))
    lines: list[str] = []
    for line in (x.rstrip() for x in text.splitlines()):
        if line == "" and lines and lines[-1] == "":
            continue
        lines.append(line)
    return "\n".join(lines).strip() + "\n"


def subject(d: ReportData) -> str:
    return f"[TradeWatch] Daily report {d.report_date}: {score_text(d.score.score)}/100 ({d.score.grade})"


def build_message(d: ReportData, config: Config, *, kind: str, now: datetime | None = None,
                  run_id: int | None = None) -> EmailMessage:
    """The complete RFC 5322 report email, ready for the outbox's `raw` column."""
    now = now or datetime.now(UTC)
    msg = EmailMessage()
    msg["Subject"] = subject(d) + (" (sent manually)" if kind == "manual" else "")
    try:
        msg["From"] = Address("TradeWatch", addr_spec=sender_address(config))
    except (ValueError, IndexError, TypeError):
        msg["From"] = Address("TradeWatch", addr_spec=DEFAULT_FROM)
    to = list(config.email.to)
    msg["To"] = ", ".join(to) if to else "undisclosed-recipients:;"
    msg["Date"] = format_datetime(now.astimezone(UTC))
    suffix = f".{run_id}" if run_id is not None else f".{int(now.timestamp())}"
    msg["Message-ID"] = f"<report.{d.report_date}.{kind}{suffix}@tradewatch>"
    msg["X-TradeWatch-Kind"] = "report"
    msg["X-TradeWatch-Report"] = kind
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render_text(d), cte="quoted-printable")
    msg.add_alternative(render_html(d), subtype="html", cte="quoted-printable")
    html_part = msg.get_payload()[1]  # type: ignore[index]
    for chart in d.charts.values():
        html_part.add_related(chart.png, "image", "png", cid=f"<{chart.cid}>",
                              filename=chart.cid.split("@")[0] + ".png", disposition="inline")
    return msg
