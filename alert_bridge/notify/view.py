"""Pure functions that turn a notification context into what the email templates show.

Everything a template needs is computed here (subject, severity word and colour, human times
and durations, vetted links), so the templates stay dumb and this logic unit-tests without
I/O. Anything that came from alert labels or annotations is treated as untrusted text.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from tradewatch import vocabulary
from tradewatch.duration import human_duration

# Colour is never the only signal: the word is always printed next to it.
SEVERITY_COLOURS = {
    "info": "#2563eb",
    "warning": "#b45309",
    "critical": "#b91c1c",
    "emergency": "#6b21a8",
    "resolved": "#15803d",
    "test": "#334155",
    "watchdog": "#b91c1c",
    "summary": "#334155",
}

SUBJECT_MAX = 160
HELD_SHOWN = 50  # a pause summary lists this many held alerts, then says how many more
_FIELD_MAX = 70
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Alertmanager's "no end time" value, and Go's zero time in general.
_ZERO_YEAR = 1


# --------------------------------------------------------------------------- small pieces

def clean_text(value: Any, limit: int | None = None) -> str:
    """One line of text: control characters (CR, LF, ...) become spaces; optional length cap."""
    text = " ".join(_CONTROL.sub(" ", "" if value is None else str(value)).split())
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)].rstrip() + "\u2026"
    return text


def safe_url(value: Any) -> str | None:
    """The URL if it is an absolute http(s) URL; None for javascript:, data:, relative, junk."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or _CONTROL.search(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time (Alertmanager's `Z` and nanoseconds included) as aware UTC, or None."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float):
        dt = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        # Go prints up to 9 fractional digits; Python takes at most 6.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    if dt.year <= _ZERO_YEAR:
        return None
    return dt


def format_time(dt: datetime | None) -> str:
    """`2026-11-25 01:58:30 UTC`, or an em dash when unknown."""
    if dt is None:
        return "\u2014"
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a dict, else {}: contexts are JSON from the database, trust no shape."""
    return value if isinstance(value, dict) else {}


def severity_of(alert: dict[str, Any], assumed: bool = False) -> tuple[str, bool]:
    """(severity, assumed) of a stored alert; `assumed` is what the bridge recorded at ingest."""
    alert = mapping(alert)
    label = clean_text(alert.get("severity") or mapping(alert.get("labels")).get("severity") or "")
    severity, unknown = vocabulary.effective_severity(label)
    return severity, assumed or unknown


# Labels that tell two alerts of one name on one host apart, in the order a subject names them.
DISTINGUISHING_LABELS = ("mountpoint", "device", "probe", "bot", "exchange", "interface", "query")


def host_of(alert: dict[str, Any]) -> str:
    """The host's name (`nodename` from node_uname_info, or a `host` label), else the address."""
    alert = mapping(alert)
    labels = mapping(alert.get("labels"))
    return clean_text(labels.get("nodename") or labels.get("host") or alert.get("instance")
                      or labels.get("instance") or "")


def _address_if_named(alert: dict[str, Any]) -> str:
    """The scrape address, shown beside the host's name when the two differ."""
    alert = mapping(alert)
    address = clean_text(alert.get("instance") or mapping(alert.get("labels")).get("instance") or "")
    return address if address and address != host_of(alert) else ""


def distinguishing_label(alert: dict[str, Any]) -> str:
    """The value that tells this alert from others of its name on its host (`/data`, a probe)."""
    labels = mapping(mapping(alert).get("labels"))
    for key in DISTINGUISHING_LABELS:
        value = clean_text(labels.get(key) or "")
        if value:
            return value
    return ""


def alertname_of(alert: dict[str, Any]) -> str:
    alert = mapping(alert)
    labels = mapping(alert.get("labels"))
    return clean_text(alert.get("alertname") or labels.get("alertname") or "") or "Unnamed alert"


def starts_epoch(alert: dict[str, Any]) -> int:
    dt = parse_time(mapping(alert).get("starts_at"))
    return int(dt.timestamp()) if dt else 0


def firing_message_id(alert: dict[str, Any]) -> str:
    """`<alert.{fingerprint}.{starts_at_epoch}@tradewatch>`: the thread root of one alert.

    A fingerprint that is already a short dot-atom (Alertmanager's are 16 hex digits) is used as
    it is; any other is hashed whole under a different prefix, so `ab-cd`, `ab_cd` and `abcd`, or
    two long fingerprints sharing a prefix, never share a Message-ID (RFC 5322 `id-left`).
    """
    alert = mapping(alert)
    raw = str(alert.get("fingerprint") or "")
    if not raw:
        raw = json.dumps(mapping(alert.get("labels")), sort_keys=True, default=str)
    if re.fullmatch(r"[A-Za-z0-9]{1,64}", raw):
        return f"<alert.{raw}.{starts_epoch(alert)}@tradewatch>"
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"<alert-h.{digest}.{starts_epoch(alert)}@tradewatch>"


def context_message_id(kind: str, context: dict[str, Any], notification_id: int | None = None) -> str:
    """A Message-ID that stays the same on every retry of the same notification.

    The outbox row id keeps two notifications with identical contexts (two test emails in
    one second) apart; the digest keeps ids from different databases apart.
    """
    digest = hashlib.sha256(json.dumps(context, sort_keys=True, default=str).encode()).hexdigest()
    row = f"{int(notification_id)}." if notification_id is not None else ""
    return f"<{re.sub(r'[^a-z_]', '', kind)}.{row}{digest[:20]}@tradewatch>"


# --------------------------------------------------------------------------- alert view

_SHOWN_ANNOTATIONS = ("summary", "description", "value", "runbook_url", "dashboard", "dashboard_url")


def alert_view(alert: dict[str, Any], now: datetime, *, assumed: bool = False) -> dict[str, Any]:
    """What an email shows about one alert (all strings are plain; templates escape them)."""
    alert = mapping(alert)
    labels = {clean_text(k): clean_text(v) for k, v in mapping(alert.get("labels")).items()}
    annotations = mapping(alert.get("annotations"))
    severity, severity_assumed = severity_of(alert, assumed)
    starts = parse_time(alert.get("starts_at"))
    ends = parse_time(alert.get("ends_at"))
    status = clean_text(alert.get("status") or "firing").lower()
    if status == "resolved" and starts and ends:
        duration = (ends - starts).total_seconds()
    elif starts:
        duration = (now - starts).total_seconds()
    else:
        duration = None
    first = ("alertname", "instance", "severity", "category")
    ordered = [k for k in first if k in labels] + sorted(k for k in labels if k not in first)
    extra = {
        clean_text(k): str(v)
        for k, v in sorted(annotations.items())
        if k not in _SHOWN_ANNOTATIONS and v not in (None, "")
    }
    return {
        "id": alert.get("id"),
        "alertname": alertname_of(alert),
        "what": distinguishing_label(alert),
        "host": host_of(alert),
        "address": _address_if_named(alert),
        "status": status,
        "severity": severity,
        "severity_word": severity.upper(),
        "severity_assumed": severity_assumed,
        "severity_label": clean_text(labels.get("severity", "")),
        "colour": SEVERITY_COLOURS[severity],
        "category": clean_text(alert.get("category") or labels.get("category") or ""),
        "summary": str(annotations.get("summary") or "").strip(),
        "description": str(annotations.get("description") or "").strip(),
        "value": clean_text(annotations.get("value") or alert.get("value") or "", 200),
        "starts_at": format_time(starts),
        "ends_at": format_time(ends) if status == "resolved" else None,
        "duration": human_duration(duration),
        "labels": [(k, labels[k]) for k in ordered],
        "annotations": list(extra.items()),
        "source_url": safe_url(alert.get("generator_url")),
        "runbook_url": safe_url(annotations.get("runbook_url")),
    }


# --------------------------------------------------------------------------- subjects

def subject_for(kind: str, context: dict[str, Any]) -> str:
    """`[CRITICAL] HighCpuUsage on web-1:9184`; never contains CR/LF; capped in length."""
    if kind in ("firing", "resolved", "emergency_repeat"):
        alert = mapping(context.get("alert"))
        severity, _ = severity_of(alert, bool(context.get("severity_assumed")))
        name = clean_text(alertname_of(alert), _FIELD_MAX)
        what = clean_text(distinguishing_label(alert), _FIELD_MAX)
        host = clean_text(host_of(alert), _FIELD_MAX)
        tag = "RESOLVED" if kind == "resolved" else severity.upper()
        text = f"[{tag}] {name}" + (f" {what}" if what else "") + (f" on {host}" if host else "")
        if kind == "emergency_repeat":
            text += f" (reminder {as_int(context.get('repeat'))}, not acknowledged)"
    elif kind == "test":
        text = "[TEST] TradeWatch test email"
    elif kind == "watchdog":
        seconds = _float(context.get("timeout_seconds"))
        text = "[PIPELINE BROKEN] No Watchdog heartbeat from Alertmanager"
        if seconds is not None and math.isfinite(seconds):
            text += f" for over {human_duration(seconds)}"
    elif kind == "report":  # the report's own subject (reports/render.subject), kept in its row
        text = clean_text(context.get("subject") or "") or (
            f"[TradeWatch] Daily report {clean_text(context.get('report_date') or '')}")
    elif kind == "pause_summary":
        held = context.get("held")
        n = len(held) if isinstance(held, list) else 0
        text = f"[SUMMARY] {n} alert{'s' if n != 1 else ''} held while notifications were paused"
    else:
        text = f"[TRADEWATCH] {clean_text(kind)}"
    return clean_text(text, SUBJECT_MAX)


def as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- whole email

def email_view(kind: str, context: dict[str, Any], *, external_url: str, now: datetime) -> dict[str, Any]:
    """Everything the templates of `kind` render from: plain data, safe links, no I/O."""
    context = context if isinstance(context, dict) else {}
    view: dict[str, Any] = {
        "kind": kind,
        "subject": subject_for(kind, context),
        "generated_at": format_time(now),
        "home_url": safe_url(external_url),
        "dashboard_url": safe_url(context.get("dashboard_url")) or safe_url(external_url),
        "ack_url": None,
        "alert": None,
    }
    if kind in ("firing", "resolved", "emergency_repeat"):
        alert = alert_view(mapping(context.get("alert")), now,
                           assumed=bool(context.get("severity_assumed")))
        if kind == "resolved":
            alert["status"] = "resolved"
        view["alert"] = alert
        view["repeat"] = as_int(context.get("repeat"))
        if kind == "resolved":
            view["colour"], view["band"] = SEVERITY_COLOURS["resolved"], "RESOLVED"
        else:
            view["colour"], view["band"] = alert["colour"], alert["severity_word"]
            if alert["severity"] in vocabulary.URGENT_SEVERITIES:
                view["ack_url"] = safe_url(context.get("ack_url"))
        if alert["status"] == "resolved":
            cleared = f"Resolved at {alert['ends_at']}, after lasting {alert['duration']}."
            view["preheader"] = clean_text(cleared, 140)
        else:
            view["preheader"] = clean_text(alert["summary"] or alert["description"], 140)
    elif kind == "test":
        view.update(
            colour=SEVERITY_COLOURS["test"], band="TEST",
            requested_at=format_time(parse_time(context.get("requested_at")) or now),
            note=str(context.get("note") or "").strip(),
            preheader="Email delivery from TradeWatch works.",
        )
    elif kind == "watchdog":
        last = parse_time(context.get("last_seen"))
        view.update(
            colour=SEVERITY_COLOURS["watchdog"], band="PIPELINE BROKEN",
            last_seen=format_time(last) if last else None,
            silent_for=human_duration((now - last).total_seconds()) if last else None,
            timeout=human_duration(_float(context.get("timeout_seconds"))),
            preheader="Alerts may not be reaching you: the Watchdog heartbeat stopped.",
        )
    elif kind == "pause_summary":
        held_raw = context.get("held") if isinstance(context.get("held"), list) else []
        all_held = [a for a in held_raw if isinstance(a, dict)]
        held = [alert_view(a, now) for a in all_held[:HELD_SHOWN]]
        paused = parse_time(context.get("paused_at"))
        resumed = parse_time(context.get("resumed_at"))
        view.update(
            colour=SEVERITY_COLOURS["summary"], band="PAUSE SUMMARY",
            paused_at=format_time(paused), resumed_at=format_time(resumed),
            paused_for=human_duration((resumed - paused).total_seconds()) if paused and resumed else None,
            comment=str(context.get("comment") or "").strip(),
            held=held,
            held_total=len(all_held),
            held_more=max(0, len(all_held) - len(held)),
            preheader=f"{len(all_held)} alert(s) were held during the pause.",
        )
    else:
        view.update(colour=SEVERITY_COLOURS["summary"], band=clean_text(kind).upper(), preheader="")
    return view
