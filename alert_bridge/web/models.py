"""Request and response bodies of the bridge's HTTP API, as pydantic models.

These models are the contract: `web.contract` validates requests with them and `web.openapi`
describes the API from them, so the document and the server cannot disagree. Request models
are strict (a JSON `"yes"` is not a boolean) and refuse unknown fields, so a typo such as
`include_emergency` is a 400 instead of a silently ignored option. The webhook's payload model
lives with the webhook (`alerts.payload`), which is lenient by design.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)

from tradewatch.duration import duration_pattern, format_duration
from tradewatch.vocabulary import SEVERITIES

MAX_COMMENT = 1000
MAX_PAUSE_SECONDS = 30 * 86400
DAY = 86400
SQLITE_MAX_INT = 2**63 - 1


def _duration(min_seconds: int, max_seconds: int, example: str) -> Any:
    """A bounded duration such as `2h`: the pattern is the whole rule (document = validation)."""
    allowed = (f"a whole number of s, m, h or d from {format_duration(min_seconds)} "
               f"to {format_duration(max_seconds)}")

    def readable(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise ValueError(f"must be a duration such as {example}: {allowed}") from None

    return Annotated[
        str,
        StringConstraints(pattern=duration_pattern(min_seconds, max_seconds)),
        WrapValidator(readable),
        Field(description=f"Duration: {allowed}", examples=[example]),
    ]


def _real_date(value: str) -> str:
    date.fromisoformat(value)  # the pattern admits 2024-02-30; the calendar does not
    return value


DateText = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"),
    AfterValidator(_real_date),
    Field(json_schema_extra={"format": "date"}, examples=["2026-11-24"]),
]
PauseDuration = _duration(1, MAX_PAUSE_SECONDS, "2h")
ScoreWindow = _duration(60, 90 * DAY, "24h")
DashboardWindow = _duration(60, DAY, "1h")
Severity = Literal[SEVERITIES]  # type: ignore[valid-type]
Comment = Annotated[str, Field(max_length=MAX_COMMENT)]


class Request(BaseModel):
    """A JSON request body: strict types, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Query(BaseModel):
    """Query parameters: values arrive as text (`limit=5`); unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Reply(BaseModel):
    """A JSON response body."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- errors


class Error(Reply):
    """Every 4xx and 5xx answer. Invalid requests carry `{"message", "problems": [{"field", "problem"}]}`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "error": "invalid request body: duration",
        "detail": {"message": "duration: must be a duration such as 2h: ...",
                   "problems": [{"field": "duration", "problem": "must be a duration such as 2h: ..."}]},
    }]})
    error: str
    detail: Any = None


# --------------------------------------------------------------------------- alerts and pauses


class AlertsQuery(Query):
    severity: Severity | None = None
    status: Literal["firing", "resolved"] | None = None
    hours: float = Field(24.0, gt=0, le=24 * 365, description="How far back resolved alerts are listed")
    limit: int = Field(200, ge=1, le=1000)


class Alert(Reply):
    id: int
    fingerprint: str
    alertname: str
    status: Literal["firing", "resolved"]
    severity: str
    severity_assumed: bool
    category: str | None
    instance: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    ends_at: str | None
    generator_url: str | None
    first_seen: str | None
    last_seen: str | None
    resolved_at: str | None
    acked_at: str | None
    last_notified_at: str | None
    notify_count: int
    held: bool


class Pause(Reply):
    id: int
    started_at: str | None
    until: str | None
    comment: str
    include_emergencies: bool
    silence_id: str | None
    silence_error: str | None


class HeldAlert(Reply):
    """A firing alert the pause's Alertmanager silence holds: it never reached the bridge."""

    fingerprint: str
    alertname: str
    status: Literal["firing"]
    severity: str
    category: str | None
    instance: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    held_by: Literal["alertmanager"]


class Heartbeat(Reply):
    last_seen: str | None = Field(description="When the Watchdog last arrived (null: never)")
    healthy: bool = Field(description="Seen within bridge.watchdog_timeout (or, within that time after the "
                                      "bridge started, seen before it: its own downtime is no outage)")
    detail: str


class AlertList(Reply):
    alerts: list[Alert] = Field(description="Firing alerts and those seen in the last `hours`, newest first")
    active: list[Alert] = Field(description="What the dashboard shows: one firing alert per identity "
                                "(alertname + labels but severity) at its highest severity, no Watchdog")
    counts: dict[str, int] = Field(description="Rows of `active` by severity")
    banner: str | None = Field(description="e.g. '1 emergency and 3 critical alerts firing, 3 not "
                               "acknowledged'; null when nothing critical or emergency fires")
    unacknowledged: int = Field(ge=0, description="Critical and emergency rows of `active` not acknowledged")
    paused: Pause | None
    held: list[HeldAlert] = Field(description="While paused: firing alerts the pause's Alertmanager silence "
                                  "holds (read from Alertmanager), one per identity; counted in `counts`")
    held_error: str | None = Field(description="Why `held` could not be read from Alertmanager, if so")
    watchdog_last_seen: str | None
    heartbeat: Heartbeat
    generated_at: str


class AlertPath(BaseModel):
    alert_id: int = Field(ge=0, le=SQLITE_MAX_INT)


class LinkPath(BaseModel):
    token: str = Field(description="From the email's acknowledge link")


class AckRequest(Request):
    comment: Comment = ""


class AckResult(Reply):
    acknowledged: bool
    alert: Alert


class StopRequest(Request):
    duration: PauseDuration = "1h"
    comment: Comment = ""
    include_emergencies: bool = Field(False, description="Hold emergency alerts too")


class StopResult(Reply):
    paused: Pause


class StartResult(Reply):
    resumed: bool
    held_alerts: int
    summary_notification: int | None
    silence_errors: list[str]


class TestEmailRequest(Request):
    note: Comment = "Test email from TradeWatch"


class TestEmailResult(Reply):
    id: int
    status: str
    error: str | None
    message_id: str | None
    recipients: list[str]


class HostMetrics(Reply):
    source: Literal["prometheus", "exporter"]
    hosts: dict[str, dict[str, Any]] = Field(description="Current values per instance")
    errors: dict[str, str] = Field(description="Sources that did not answer, and why")


class WebhookResult(Reply):
    status: Literal["accepted"]
    alerts: int = Field(description="Alerts in the payload")
    new: int = Field(description="Alerts not seen before")
    duplicates: int = Field(description="Alerts already stored (Alertmanager repeats)")
    notifications: list[int] = Field(description="Outbox rows queued for them")


# --------------------------------------------------------------------------- dashboard reads


class WindowQuery(Query):
    window: DashboardWindow | None = Field(None, description="Default 1h")


class Sparklines(Reply):
    source: Literal["prometheus", "exporter"]
    window_seconds: float
    step_seconds: float
    generated_at: str | None
    hosts: dict[str, dict[str, Any]] = Field(description="Per instance: series of [time, value] points")
    errors: dict[str, str]


Level = Literal["ok", "info", "warning", "critical", "emergency"] | None


class Graded(Reply):
    value: float | None
    level: Level = Field(description="The most severe configured threshold the value is above; ok: none")


class Age(Reply):
    timestamp: float | None = Field(description="Unix time the bot reported")
    age_seconds: float | None = Field(description="generated_at minus timestamp")
    level: Level


class SeriesNow(Reply):
    current: float | None
    points: list[list[float]] = Field(description="[unix time, value] pairs; one point from /metrics")


class RealizedPnl(SeriesNow):
    today: float | None = Field(description="Change since midnight (report.timezone), from the first sample "
                                "of the day when the bot started later; null without history")


class ExchangeApi(Reply):
    exchange: str
    p95_seconds: Graded
    error_ratio: Graded


class BotApi(Reply):
    p95_seconds: Graded
    error_ratio: Graded
    exchanges: list[ExchangeApi] = Field(description="Per `exchange` label, when the bot sets one")


class BotAlert(Reply):
    id: int
    alertname: str
    severity: str
    summary: str
    acked: bool


class TradingBot(Reply):
    id: str = Field(description="job/instance/bot")
    name: str = Field(description="The `bot` label, else the job and host")
    job: str
    instance: str
    bot: str | None
    realized_pnl: RealizedPnl
    equity: SeriesNow
    open_positions: float | None
    orders_per_minute: dict[str, float] = Field(description="By order status")
    rejection_ratio: Graded
    api: BotApi
    heartbeat: Age
    last_trade: Age
    alerts: list[BotAlert]
    status: Literal["up", "down"] = Field(
        description="down: a bot seen before (by the bridge, in Prometheus's recent samples, or a bot "
                    "scrape target that Prometheus reports down) that exports nothing now")
    down_since: float | None = Field(description="When it was last seen (unix time); null: not known")
    down_reason: str | None = Field(description="Why it counts as down, in words")


class TradingBots(Reply):
    source: Literal["prometheus", "exporter"]
    window_seconds: float
    generated_at: str | None
    generated_at_epoch: float = Field(description="The evaluation time of every value (unix time)")
    bots: list[TradingBot]
    errors: dict[str, str]


class NotificationsQuery(Query):
    limit: int = Field(20, ge=1, le=200)


class Notification(Reply):
    id: int
    kind: str
    channel: str | None = Field(description="The push channel's name; null for the email")
    status: str
    subject: str
    recipients: int
    attempts: int
    last_error: str | None
    created_at: str | None
    sent_at: str | None


class ChannelDelivery(Reply):
    status: str = Field(description="sent or failed")
    kind: str
    at: str | None
    error: str | None


class Channel(Reply):
    name: str
    service: str = Field(description="The Apprise URL with its secrets masked")
    severities: list[str]
    categories: list[str] = Field(description="Empty: every category")
    send_resolved: bool
    daily_report: bool
    backlog: int = Field(ge=0, description="Messages waiting (pending or being sent)")
    last: ChannelDelivery | None = Field(description="The newest finished delivery; null before the first")


class ChannelList(Reply):
    channels: list[Channel]


class ChannelPath(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9_-]{1,32}$", description="channels[].name from the config")


class ChannelTestRequest(Request):
    note: Comment = ""


class ChannelTestResult(Reply):
    id: int
    channel: str
    status: str = Field(description="sent, pending (will be retried) or failed")
    error: str | None


class NotificationList(Reply):
    notifications: list[Notification] = Field(description="Newest first; no message bodies")
    stats: dict[str, Any] = Field(description="Outbox depth, retrying, oldest pending age, totals, last send")


# --------------------------------------------------------------------------- silences and history


def _blank_is_none(value: Any) -> Any:
    """An empty form field (`?name=&severity=`) means no filter."""
    return None if isinstance(value, str) and not value.strip() else value


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _moment(end_of_day: bool) -> Any:
    """An RFC 3339 date-time, or a date (UTC; its start, or with `end_of_day` its last instant, so
    `until=2026-12-05` includes that day). Empty means no bound (an empty form field)."""

    def parse(value: Any) -> datetime | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not (_DATE.fullmatch(value) or _DATE_TIME.fullmatch(value)):
            raise ValueError("must be a date (2026-12-05) or an RFC 3339 time (2026-12-05T06:00:00Z)")
        moment = datetime.fromisoformat(value.upper())  # the calendar decides 2026-02-30
        if moment.tzinfo is None:  # a date
            moment = moment.replace(tzinfo=UTC) + (timedelta(days=1, microseconds=-1) if end_of_day else
                                                   timedelta(0))
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValueError("the time in UTC is outside the years 1 to 9999") from None

    schema = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"},
                        {"type": "string", "maxLength": 0}, {"type": "null"}],
              "examples": ["2026-12-05T06:00:00Z", "2026-12-05"]}
    return Annotated[datetime | None, BeforeValidator(parse), WithJsonSchema(schema)]


SearchText = Annotated[
    Annotated[str, StringConstraints(max_length=200)] | None, BeforeValidator(_blank_is_none)
]
Since = _moment(end_of_day=False)
Until = _moment(end_of_day=True)


class Silence(Reply):
    id: str
    state: str = Field(description="active or pending (expired ones are not listed)")
    created_by: str
    comment: str
    starts_at: str
    ends_at: str
    matchers: list[str] = Field(description='e.g. severity=~"critical|emergency"')
    pause: bool = Field(description="The active pause's silence: Resume ends it (it cannot be expired alone)")


class SilenceList(Reply):
    silences: list[Silence] = Field(description="Active and pending silences, soonest end first")
    configured: bool = Field(description="False: bridge.alertmanager_url is not set (no silences to read)")


class SilencePath(BaseModel):
    silence_id: str = Field(pattern=r"^[0-9A-Za-z-]{1,64}$", description="Alertmanager's silence id")


class SilenceExpired(Reply):
    expired: bool
    id: str


class HistoryQuery(Query):
    name: SearchText = Field(None, description="Part of the alert name, any case")
    host: SearchText = Field(None, description="Part of the host name (nodename) or address, any case")
    severity: Annotated[Severity | Literal[""] | None, BeforeValidator(_blank_is_none)] = Field(
        None, description="Empty: any")
    since: Since = Field(None, description="Alerts still active at or after this time (a date: its start)")
    until: Until = Field(None, description="Alerts that started at or before this time (a date: its end)")
    limit: int = Field(200, ge=1, le=1000)


class HistoryEntry(Reply):
    id: int
    alertname: str
    severity: str
    status: Literal["firing", "resolved"]
    host: str = Field(description="nodename label, else the address")
    instance: str | None
    labels: dict[str, str]
    summary: str | None
    starts_at: str
    resolved_at: str | None
    duration_seconds: float | None = Field(description="Until resolved; null while firing")
    acked_at: str | None


class HistoryList(Reply):
    alerts: list[HistoryEntry] = Field(description="Newest first")
    generated_at: str


# --------------------------------------------------------------------------- reports


class ReportQuery(Query):
    date: DateText | None = Field(None, description="Default: yesterday in report.timezone")
    format: Literal["html", "text"] = "html"


class ReportRequest(Request):
    date: DateText | None = None


class ReportResult(Reply):
    status: str = Field(description="queued | skipped | not_emailed")
    kind: str
    report_date: str
    detail: str
    run_id: int | None
    notification_id: int | None
    score: float | None
    grade: str | None
    recipients: list[str] | None


class ScoreQuery(Query):
    window: ScoreWindow | None = Field(None, description="Default: report.window")


class HealthScore(Reply):
    model_config = ConfigDict(extra="allow")
    score: float | None
    grade: str | None
    coverage: float
    components: dict[str, Any]
    hosts: dict[str, Any]
    cap: dict[str, Any] | None = Field(
        None, description="Set when an alert firing at the end of the window (held by a pause or "
                          "not) lowered the score: severity, limit, uncapped, alertnames, held (those "
                          "of alertnames a pause holds), reason")
    computed_at: str
    window_seconds: float
    inputs: dict[str, Any]
    gaps: list[Any]
    notes: list[Any]


# --------------------------------------------------------------------------- status and session


class Check(Reply):
    ok: bool
    detail: str
    warning: str | None = Field(None, description="Something to fix that does not fail readiness")


class Health(Reply):
    status: Literal["ok", "unhealthy"]
    checks: dict[str, Check]


class LoginRequest(Request):
    password: str = Field(min_length=1, description="bridge.api_token or bridge.dashboard_password")


class SessionState(Reply):
    authenticated: bool
    csrf_token: str | None = Field(description="Send it as X-CSRF-Token on every mutating request")


class SessionsRevoked(Reply):
    authenticated: bool
    revoked: int = Field(ge=0, description="How many live dashboard sessions were revoked")
