"""Build the email for one notification: multipart/alternative, CSS inlined, threaded.

`compose` is pure apart from reading the packaged templates: the same kind, context and
config give the same message (Message-IDs are derived from the context, so a retried send
carries the same ID). A template that fails to render must never cost the operator the
alert, so the fallback is a plain-text email built with no templates at all.
"""

from __future__ import annotations

import email.policy
import functools
import logging
from datetime import UTC, datetime
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import css_inline
import jinja2

from alert_bridge.notify import view as v
from tradewatch.config import Config

log = logging.getLogger(__name__)

ALERT_KINDS = ("firing", "resolved", "emergency_repeat")
TEMPLATE_KINDS = (*ALERT_KINDS, "test", "watchdog", "pause_summary")
DEFAULT_FROM = "tradewatch@localhost"


@functools.cache
def template_env() -> jinja2.Environment:
    """The packaged templates, compiled once per process (jinja2 caches them in the environment;
    auto_reload off: packaged files do not change under a running bridge, so no stat per email).
    Autoescape on for .html, StrictUndefined to catch typos."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("alert_bridge.notify", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, minus its per-header cost: `HeaderRegistry[name]` builds
    a new class with type() on every header set or read (about a fifth of composing an email).
    The classes hold no state, so one per header name is kept and reused."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls


# email.policy.default (what EmailMessage uses), with the cached header classes
POLICY = email.policy.default.clone(header_factory=_HeaderClasses())


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    # keep_at_rules keeps the small phone-width @media block in a <style>; everything else
    # becomes style="" attributes, which is what Gmail and Outlook honour.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    """HTML with its CSS moved into style attributes (every email we send: alerts and reports)."""
    return _inliner().inline(html)


def compose(
    kind: str,
    context: dict[str, Any],
    config: Config,
    *,
    now: datetime | None = None,
    env: jinja2.Environment | None = None,
    notification_id: int | None = None,
) -> EmailMessage:
    """The complete message for a notification row (recipients from the config).

    `notification_id` (the outbox row) makes Message-IDs of non-alert emails unique per row.
    """
    now = now or datetime.now(UTC)
    context = context if isinstance(context, dict) else {}
    try:
        view = v.email_view(kind, context, external_url=config.bridge.link_url, now=now)
    except Exception:  # a context the view code did not foresee: still send something
        log.exception("building the email view for %r failed; sending the plain-text fallback", kind)
        view = {"subject": v.clean_text(f"[TRADEWATCH] {kind} notification", v.SUBJECT_MAX),
                "alert": None, "broken_context": v.clean_text(context, 2000)}
    msg = EmailMessage(policy=POLICY)
    _headers(msg, kind, context, config, view, now, notification_id)
    try:
        if "broken_context" in view:
            raise ValueError("unusable notification context")
        if kind not in TEMPLATE_KINDS:
            raise LookupError(f"no template for notification kind {kind!r}")
        text, html = render(kind, view, env or template_env())
    except Exception:
        log.exception("email template for %r failed to render; sending the plain-text fallback", kind)
        msg.set_content(fallback_text(kind, view), cte="quoted-printable")
        msg["X-TradeWatch-Fallback"] = "template-error"
        return msg
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg


def render(kind: str, view: dict[str, Any], env: jinja2.Environment) -> tuple[str, str]:
    """(plain text, HTML with CSS inlined) for `kind`."""
    text = env.get_template(f"{kind}.txt").render(view)
    html = env.get_template(f"{kind}.html").render(view)
    return _tidy_text(text), inline_css(html)


def recipients_for(kind: str, context: dict[str, Any], config: Config) -> list[str]:
    """`email.to`, plus `email.escalation_to` for emergencies (first email, reminders, all clear)."""
    to = list(config.email.to)
    if kind in ALERT_KINDS:
        severity, _ = v.severity_of(context.get("alert"), bool(context.get("severity_assumed")))
        if severity == "emergency":
            to += [a for a in config.email.escalation_to if a not in to]
    return to


def sender_address(config: Config) -> str:
    return config.email.from_email or (config.email.username if "@" in config.email.username else "") \
        or DEFAULT_FROM


def _headers(msg: EmailMessage, kind: str, context: dict[str, Any], config: Config,
             view: dict[str, Any], now: datetime, notification_id: int | None) -> None:
    msg["Subject"] = view["subject"]
    try:
        msg["From"] = Address("TradeWatch", addr_spec=sender_address(config))
    except (ValueError, IndexError, TypeError):
        log.error("email.from_email %r is not a valid address; using %s", config.email.from_email,
                  DEFAULT_FROM)
        msg["From"] = Address("TradeWatch", addr_spec=DEFAULT_FROM)
    to = recipients_for(kind, context, config)
    msg["To"] = ", ".join(to) if to else "undisclosed-recipients:;"
    msg["Date"] = format_datetime(now.astimezone(UTC))
    alert = v.mapping(context.get("alert"))
    if kind in ALERT_KINDS and view.get("alert"):
        root = v.firing_message_id(alert)
        if kind == "firing":
            msg["Message-ID"] = root
        else:
            suffix = "resolved" if kind == "resolved" else f"repeat{v.as_int(context.get('repeat'))}"
            msg["Message-ID"] = root.replace("@tradewatch>", f".{suffix}@tradewatch>")
            if context.get("thread_root_sent", True):  # never reply to a Message-ID never sent
                msg["In-Reply-To"] = root
                msg["References"] = root
        msg["X-TradeWatch-Severity"] = view["alert"]["severity"]
        if view["alert"]["severity"] == "emergency" and kind != "resolved":
            msg["Importance"] = "high"
            msg["X-Priority"] = "1"
    else:
        msg["Message-ID"] = v.context_message_id(kind, context, notification_id)
    msg["X-TradeWatch-Kind"] = kind
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to alerts


def _tidy_text(text: str) -> str:
    # Templates leave the odd run of blank lines where optional rows were skipped.
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return "\n".join(out).strip() + "\n"


def fallback_text(kind: str, view: dict[str, Any]) -> str:
    """A template-free body: enough to act on even when the templates are broken."""
    lines = [view.get("subject", f"TradeWatch {kind}"), ""]
    alert = view.get("alert")
    if alert:
        if alert.get("severity_assumed"):
            lines.append("Severity unknown: treated as CRITICAL.")
        for label, key in (("Summary", "summary"), ("Description", "description"), ("Value", "value"),
                           ("Host", "host"), ("Severity", "severity_word"), ("Status", "status"),
                           ("Started", "starts_at"), ("Resolved", "ends_at"), ("Duration", "duration")):
            if alert.get(key):
                lines.append(f"{label}: {alert[key]}")
        if alert.get("labels"):
            lines.append("Labels: " + ", ".join(f"{k}={val}" for k, val in alert["labels"]))
        if alert.get("source_url"):
            lines.append(f"Source: {alert['source_url']}")
    if view.get("broken_context"):
        lines.append(f"Context: {view['broken_context']}")
    for label, key in (("Note", "note"), ("Last heartbeat", "last_seen"), ("Comment", "comment")):
        if view.get(key):
            lines.append(f"{label}: {view[key]}")
    for held in view.get("held") or []:
        lines.append(f"- [{held['severity_word']}] {held['alertname']} {held['host']} {held['starts_at']}")
    if view.get("ack_url"):
        lines.append(f"Acknowledge: {view['ack_url']}")
    if view.get("dashboard_url"):
        lines.append(f"Dashboard: {view['dashboard_url']}")
    lines += ["", "(The formatted version of this email could not be rendered; the bridge log has why.)"]
    return "\n".join(lines) + "\n"
