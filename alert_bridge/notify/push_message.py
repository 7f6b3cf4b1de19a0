"""The message a push channel shows (Telegram, Discord, ntfy, ...): written for a phone's screen.

Pure: the same kind, context and limits give the same message. The title carries the severity
word with an emoji (the colour where a service has one comes from `notify_type`, which Apprise
turns into Discord's or Slack's colour bar), the alert's name, what distinguishes it (mountpoint,
probe, bot...) and the host; the body the summary's value, how long, and the acknowledge and
dashboard links. Bodies are plain text, Markdown or HTML, whichever the service takes, and every
value that came from a label or annotation is escaped for that format. Lines are dropped, least
useful first, until the message fits the service's limits.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alert_bridge.notify import view as v

FORMATS = ("text", "markdown", "html")
EMOJI = {
    "info": "\u2139\ufe0f",  # information
    "warning": "\U0001f7e0",  # orange circle
    "critical": "\U0001f534",  # red circle
    "emergency": "\U0001f6a8",  # rotating light
    "resolved": "\u2705",  # check mark
    "test": "\U0001f9ea",  # test tube
    "watchdog": "\U0001f6a8",
    "summary": "\U0001f4cb",  # clipboard
    "report": "\U0001f4ca",  # bar chart
}
# Apprise's notify types: services with a colour (Discord, Slack, Teams...) colour by it.
NOTIFY_TYPES = {"info": "info", "warning": "warning", "critical": "failure", "emergency": "failure"}
HELD_LINES = 20
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
_FIELD_MAX = 70
_SHORTEST = 24  # a text is not shortened below this many characters


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    notify_type: str  # info | success | warning | failure (Apprise's NotifyType values)
    body_format: str  # text | markdown | html


@dataclass(frozen=True)
class _Line:
    """One body line: plain `text` (escaped on output) or a link; `keep` lines are dropped last."""

    text: str = ""
    label: str = ""
    url: str | None = None
    drop_order: int = 0  # higher drops first; 0 never drops (but its text may be shortened)


def escape(text: str, fmt: str) -> str:
    """`text` safe to put in a `fmt` body: no markup, no links, no HTML from a label value."""
    if fmt == "html":
        return html.escape(text, quote=True)
    if fmt == "markdown":
        return _MD_SPECIAL.sub(r"\\\1", text)
    return text


def _render_line(line: _Line, fmt: str) -> str:
    label = escape(line.label, fmt)
    text = escape(line.text, fmt)
    if fmt == "html":
        head = f"<b>{label}</b> " if label else ""
        if line.url:
            return f'{head}<a href="{html.escape(line.url, quote=True)}">{text or html.escape(line.url)}</a>'
        return head + text
    if fmt == "markdown":
        head = f"**{label}** " if label else ""
        if line.url:
            # a URL in Markdown's link target: only parentheses and spaces could end it
            target = line.url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
            return f"{head}[{text or escape(line.url, fmt)}]({target})"
        return head + text
    head = f"{line.label} " if line.label else ""
    if line.url:
        return f"{head}{line.text}: {line.url}" if line.text else head + line.url
    return head + line.text


def _join(lines: list[_Line], fmt: str) -> str:
    sep = "<br/>\n" if fmt == "html" else "\n"
    return sep.join(_render_line(line, fmt) for line in lines)


def _fit_text(text: str, limit: int) -> str:
    if limit <= 0:
        return ""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "\u2026"


def fit_body(lines: list[_Line], fmt: str, limit: int) -> str:
    """The body within `limit` characters (0: no limit): drop lines in `drop_order` (highest
    first), then shorten the longest text, then, for a tiny limit, cut the plain text."""
    lines = list(lines)
    body = _join(lines, fmt)
    if limit <= 0 or len(body) <= limit:
        return body
    for order in sorted({ln.drop_order for ln in lines if ln.drop_order}, reverse=True):
        lines = [ln for ln in lines if ln.drop_order != order]
        body = _join(lines, fmt)
        if len(body) <= limit:
            return body
    while lines and len(body) > limit:
        i = max(range(len(lines)), key=lambda k: len(lines[k].text))
        longest = lines[i]
        if len(longest.text) <= _SHORTEST:
            break
        over = len(body) - limit
        # escaping can lengthen text: shorten by at least the excess, then check again
        lines[i] = _Line(_fit_text(longest.text, max(_SHORTEST, len(longest.text) - over - 1)), longest.label,
                         longest.url, longest.drop_order)
        body = _join(lines, fmt)
    if len(body) > limit:
        body = _fit_text(_join(lines, "text"), limit)  # markup would be cut in half: plain text
    return body


def choose_format(formats: tuple[str, ...] | list[str] | str) -> str:
    """The body format for a service: the first it declares (Apprise's `notify_format`, a tuple
    in Apprise 2, one value before), which is the one the service renders best."""
    declared = [formats] if isinstance(formats, str) else list(formats)
    for fmt in declared:
        value = str(getattr(fmt, "value", fmt)).lower()
        if value in FORMATS:
            return value
    return "text"


def render(
    kind: str,
    context: dict[str, Any],
    *,
    fmt: str = "text",
    body_max: int = 0,
    title_max: int = 250,
    now: datetime,
    external_url: str = "",
    channel: str = "",
) -> PushMessage:
    """The title and body of one notification for one channel.

    `title_max` 0 means the service has no title (Mattermost, Telegram): the title becomes the
    body's first line. `body_max` 0 means no limit.
    """
    context = context if isinstance(context, dict) else {}
    fmt = fmt if fmt in FORMATS else "text"
    title, lines, notify_type = _content(kind, context, now=now, external_url=external_url, channel=channel)
    if title_max <= 0:
        lines = [_Line(title), *lines]
        title = ""
    else:
        title = fit_title(title, fmt, title_max)
    return PushMessage(title, fit_body(lines, fmt, body_max), notify_type, fmt)


def fit_title(title: str, fmt: str, limit: int) -> str:
    """The title escaped like the body (services such as Telegram put it into the same markup),
    within `limit` characters once escaped."""
    cut = limit
    out = escape(_fit_text(title, cut), fmt)
    while len(out) > limit and cut > 1:
        cut -= max(1, len(out) - limit)
        out = escape(_fit_text(title, cut), fmt)
    return out


def _content(kind: str, context: dict[str, Any], *, now: datetime, external_url: str,
             channel: str) -> tuple[str, list[_Line], str]:
    ev = v.email_view(kind, context, external_url=external_url, now=now)
    dashboard = ev.get("dashboard_url")
    if kind in ("firing", "resolved", "emergency_repeat") and ev.get("alert"):
        return _alert_content(kind, ev, dashboard)
    if kind == "watchdog":
        lines = [_Line("Alerts may not be reaching you: Alertmanager's Watchdog heartbeat stopped.")]
        if ev.get("last_seen"):
            lines.append(_Line(f"{ev['last_seen']} ({ev['silent_for']} ago)", "Last heartbeat:"))
        lines += _links(None, dashboard)
        return f"{EMOJI['watchdog']} PIPELINE BROKEN: no Watchdog heartbeat", lines, "failure"
    if kind == "pause_summary":
        total = ev["held_total"]
        lines = [_Line(f"{ev['paused_at']} to {ev['resumed_at']} ({ev['paused_for']})", "Paused:")]
        if ev.get("comment"):
            lines.append(_Line(v.clean_text(ev["comment"], 200), "Comment:", drop_order=3))
        for i, a in enumerate(ev["held"][:HELD_LINES]):
            on = f"on {a['host']}" if a["host"] else ""
            what = " ".join(x for x in (a["alertname"], a["what"], on) if x)
            lines.append(_Line(f"[{a['severity_word']}] {v.clean_text(what, 120)} since {a['starts_at']}",
                               drop_order=2 if i else 0))
        more = total - min(total, HELD_LINES)
        if more:
            lines.append(_Line(f"... and {more} more on the dashboard", drop_order=2))
        lines += _links(None, dashboard)
        title = f"{EMOJI['summary']} SUMMARY: {total} alert{'s' if total != 1 else ''} held while paused"
        return title, lines, "warning"
    if kind == "test":
        note = str(context.get("note") or "").strip()
        named = f" ({channel})" if channel else ""
        lines = [_Line(f"Notifications from TradeWatch reach this channel{named}."),
                 _Line(ev["requested_at"], "Requested:")]
        if note:
            lines.append(_Line(v.clean_text(note, 300), "Note:", drop_order=2))
        lines += _links(None, dashboard)
        return f"{EMOJI['test']} TEST: TradeWatch channel test", lines, "info"
    if kind == "report":
        score, grade = context.get("score"), v.clean_text(context.get("grade") or "")
        lines = []
        if isinstance(score, int | float):
            lines.append(_Line(f"{score:.0f}/100{f' ({grade})' if grade else ''}", "Health score:"))
        lines.append(_Line("The full report went out by email.", drop_order=2))
        lines += _links(None, dashboard)
        day = v.clean_text(context.get("report_date") or "")
        return f"{EMOJI['report']} TradeWatch daily report {day}".rstrip(), lines, "info"
    return f"TradeWatch: {v.clean_text(kind)}", _links(None, dashboard), "info"


def _alert_content(kind: str, ev: dict[str, Any], dashboard: str | None) -> tuple[str, list[_Line], str]:
    a = ev["alert"]
    name = v.clean_text(a["alertname"], _FIELD_MAX)
    what = v.clean_text(a["what"], _FIELD_MAX)
    host = v.clean_text(a["host"], _FIELD_MAX)
    subject = name + (f" {what}" if what else "") + (f" on {host}" if host else "")
    if kind == "resolved":
        title = f"{EMOJI['resolved']} RESOLVED: {subject}"
        notify_type = "success"
    else:
        title = f"{EMOJI[a['severity']]} {a['severity_word']}: {subject}"
        if kind == "emergency_repeat":
            title += f" (reminder {ev.get('repeat', 0)}, not acknowledged)"
        notify_type = NOTIFY_TYPES.get(a["severity"], "failure")
    lines = []
    summary = v.clean_text(a["summary"] or a["description"], 400)
    if summary:
        lines.append(_Line(summary))
    if a["value"] and a["value"] not in summary:
        lines.append(_Line(a["value"], "Value:"))
    if a["severity_assumed"]:
        lines.append(_Line("severity label missing or unknown: treated as CRITICAL", drop_order=1))
    where = host + (f" ({a['address']})" if a["address"] else "")
    if where:
        lines.append(_Line(v.clean_text(where, 120), "Host:"))
    if kind == "resolved":
        lines.append(_Line(f"resolved after {a['duration']} (at {a['ends_at'] or '?'})", "Lasted:"))
    else:
        lines.append(_Line(f"{a['duration']} (since {a['starts_at']})", "Firing for:"))
    if a["description"] and a["summary"]:
        lines.append(_Line(v.clean_text(a["description"], 600), drop_order=4))
    lines += _links(ev.get("ack_url"), dashboard)
    return title, lines, notify_type


def _links(ack_url: str | None, dashboard: str | None) -> list[_Line]:
    out = []
    if ack_url:
        out.append(_Line("Acknowledge", url=ack_url))
    if dashboard:
        out.append(_Line("Dashboard", url=dashboard, drop_order=1))
    return out


def held_filters(context: dict[str, Any]) -> list[tuple[str, str]]:
    """(severity, category) of each alert a pause summary context lists (for routing)."""
    held = context.get("held") if isinstance(context.get("held"), list) else []
    return [(v.severity_of(a)[0], v.clean_text(v.mapping(a).get("category") or "")) for a in held
            if isinstance(a, dict)]

