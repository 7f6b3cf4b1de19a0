"""Alertmanager webhook (version 4) payload validation.

Strict where a wrong value would corrupt the store (types, times, version), lenient where
Alertmanager may grow: unknown top-level and per-alert fields (truncatedAlerts, groupKey, ...)
are accepted and ignored. Errors name the field path (`alerts[2].startsAt`) so whoever wires a
sender can fix it from the 400 response alone.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, field_validator

_SURROGATE = re.compile("[\ud800-\udfff]")

# Alertmanager writes this for "no end time" on firing alerts.
_ZERO_YEAR = 1970


class PayloadError(ValueError):
    """A malformed webhook body; `problems` lists {"field", "problem"} entries."""

    def __init__(self, message: str, problems: list[dict[str, str]]):
        super().__init__(message)
        self.problems = problems


def parse_time(value: str) -> datetime:
    """RFC 3339 (Alertmanager sends nanoseconds; Python keeps microseconds) -> aware UTC.

    RFC 3339 allows a lowercase `t` and `z`; a time whose UTC instant falls outside years
    1-9999 (9999-12-31T23:59:59-01:00) is refused as out of range instead of overflowing.
    """
    dt = datetime.fromisoformat(value.upper())
    if dt.tzinfo is None:
        raise ValueError("time must carry a zone offset (RFC 3339, e.g. 2024-05-01T12:00:00Z)")
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time in UTC is outside the years 1 to 9999") from None


def iso(dt: datetime) -> str:
    """Canonical UTC form used as the idempotency key's startsAt (same instant, same text)."""
    return dt.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# what _alertname checks, said in the JSON Schema of `labels` (the OpenAPI document shows it)
_NAMED: dict[str, Any] = {
    "required": ["alertname"], "properties": {"alertname": {"type": "string", "minLength": 1}}
}


class WebhookAlert(_Model):
    status: Literal["firing", "resolved"]
    labels: dict[StrictStr, StrictStr] = Field(json_schema_extra=_NAMED)
    annotations: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: StrictStr = ""
    fingerprint: StrictStr = Field(min_length=1, max_length=200)

    @field_validator("startsAt", "endsAt", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("must be an RFC 3339 time string")
        try:
            return parse_time(value)
        except ValueError as exc:
            raise ValueError(f"not an RFC 3339 time: {value!r} ({exc})") from None

    @field_validator("labels")
    @classmethod
    def _alertname(cls, value: dict[str, str]) -> dict[str, str]:
        if not value.get("alertname"):
            raise ValueError("labels must include a non-empty alertname")
        return value

    @property
    def ends(self) -> datetime | None:
        if self.endsAt is None or self.endsAt.year < _ZERO_YEAR:
            return None
        return self.endsAt


class WebhookPayload(_Model):
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: StrictStr
    groupLabels: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    commonLabels: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    commonAnnotations: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    externalURL: StrictStr = ""
    groupKey: StrictStr = ""
    truncatedAlerts: StrictInt = Field(0, ge=0)
    alerts: list[WebhookAlert]


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(body)"


def problems(exc: ValidationError) -> list[dict[str, str]]:
    """Each validation error as {"field": "alerts[2].startsAt", "problem": ...} (web.contract too)."""
    out = []
    for err in exc.errors(include_url=False):
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "missing":
            msg = "required field is missing"
        out.append({"field": _path(err["loc"]), "problem": msg})
    return out


def lone_surrogate_path(data: Any) -> str | None:
    """Where a decoded JSON value holds a lone UTF-16 surrogate (`"\\ud800"`), or None.

    JSON's \\u escapes can spell one, Python keeps it, and it cannot be stored or sent as UTF-8,
    so it is refused at the door. Iterative: the body may be nested as deep as the decoder allows.
    """
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return path or "(body)"
        elif isinstance(node, dict):
            for key, value in node.items():
                if _SURROGATE.search(key):
                    return f"{path}.(key)" if path else "(key)"
                stack.append((f"{path}.{key}" if path else key, value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", value) for i, value in enumerate(node))
    return None


def decode_json(body: bytes) -> Any:
    """`json.loads` whose every failure is a PayloadError: bad UTF-8 or syntax, nesting too deep
    for the decoder (RecursionError), integers past Python's digit limit, lone surrogates."""
    try:
        data = json.loads(body)
    except RecursionError:
        problem = "JSON nesting exceeds the decoder's limit"
        raise PayloadError("body is nested too deeply", [{"field": "(body)", "problem": problem}]) from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, and the int digit limit
        raise PayloadError("body is not valid JSON", [{"field": "(body)", "problem": str(exc)}]) from None
    # a lone surrogate can only come from a \\uD8xx-\\uDFxx escape: skip the walk without one
    where = lone_surrogate_path(data) if b"\\ud" in body.lower() else None
    if where is not None:
        problem = "contains a lone UTF-16 surrogate (not valid Unicode)"
        raise PayloadError(f"{where}: {problem}", [{"field": where, "problem": problem}])
    return data


def parse_webhook(body: bytes) -> WebhookPayload:
    """Decode and validate a webhook body or raise PayloadError naming every problem."""
    data = decode_json(body)
    if not isinstance(data, dict):
        raise PayloadError(
            "body must be a JSON object", [{"field": "(body)", "problem": "expected an object"}]
        )
    try:
        return WebhookPayload.model_validate(data)
    except ValidationError as exc:
        found = problems(exc)
        first = found[0]
        raise PayloadError(f"{first['field']}: {first['problem']}", found) from None
