"""The one configuration file, shared by the exporter, the bridge and the operator CLI.

Loading is strict on purpose: an unknown key is an error, because a typo that silently falls
back to a default is how a threshold ends up never firing. Every error names the file, the
dotted key and the problem, so `tradewatch check-config` and every service start say exactly
what to fix.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import logging
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from tradewatch.duration import format_duration, parse_duration
from tradewatch.external_url import resolve as resolve_external_url
from tradewatch.paths import config_folder, example_config
from tradewatch.quantities import FS_TYPES_EXCLUDE, MOUNT_POINTS_EXCLUDE
from tradewatch.vocabulary import CATEGORIES, SEVERITIES

CONFIG_ENV = "TRADEWATCH_CONFIG"
EXAMPLE_CONFIG = example_config()

SECRET_KEYS = frozenset({"password", "api_token", "dashboard_password", "dsn", "secret_key", "headers"})
MASK = "********"


class ConfigError(Exception):
    """A configuration problem, phrased for the operator: file, key, what is wrong."""

    def __init__(self, file: str | os.PathLike[str] | None, problems: list[tuple[str, str]]):
        self.file = str(file) if file is not None else "<config>"
        self.problems = problems
        lines = [f"{self.file}: {key or '(top level)'}: {msg}" for key, msg in problems]
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------- types

def _duration(value: Any) -> float:
    return parse_duration(value)


Duration = Annotated[
    float,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""Seconds, written in the file as Prometheus-style durations: 60s, 5m, 1h30m, 0s."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)


class Levels(_Strict):
    """Threshold levels of one quantity; absent levels do not produce a rule."""

    info: float | None = None
    warning: float | None = None
    critical: float | None = None
    emergency: float | None = None

    _rising: ClassVar[bool] = True

    @model_validator(mode="after")
    def _ordered(self) -> Levels:
        present = [(s, getattr(self, s)) for s in SEVERITIES if getattr(self, s) is not None]
        if not present:
            raise ValueError("at least one of info, warning, critical, emergency is required")
        for (lo_name, lo), (hi_name, hi) in itertools.pairwise(present):
            if self._rising and lo >= hi:
                raise ValueError(
                    f"{lo_name} ({lo:g}) must be below {hi_name} ({hi:g}): "
                    "levels rise with severity"
                )
            if not self._rising and lo <= hi:
                raise ValueError(
                    f"{lo_name} ({lo:g}) must be above {hi_name} ({hi:g}): "
                    "a lower value is worse here"
                )
        for name, value in present:
            if value < 0:
                raise ValueError(f"{name} must not be negative (got {value:g})")
        return self

    def items(self) -> list[tuple[str, float]]:
        """(severity, value) pairs that are set, lowest severity first."""
        return [(s, getattr(self, s)) for s in SEVERITIES if getattr(self, s) is not None]


class FallingLevels(Levels):
    """Levels where a lower value is worse (hours until a disk is full)."""

    _rising: ClassVar[bool] = False


def _levels(cls: type[Levels] = Levels, **kw: float) -> Any:
    return Field(default_factory=lambda: cls(**kw))


class Thresholds(_Strict):
    # contract keys (DESIGN.md section 4)
    cpu_percent: Levels = _levels(warning=80, critical=95)
    memory_percent: Levels = _levels(warning=85, critical=95)
    disk_percent: Levels = _levels(critical=90, emergency=97)
    api_response_time_ms: Levels = _levels(warning=1000, critical=3000)
    error_rate_percent: Levels = _levels(critical=5)
    # further quantities the rules need
    load_per_core: Levels = _levels(warning=2)
    network_error_percent: Levels = _levels(warning=1)
    disk_fill_hours: FallingLevels = _levels(FallingLevels, warning=24, critical=4)
    # node-mixin guard: a fill prediction only counts while available space is below this share
    disk_fill_avail_percent: FallingLevels = _levels(FallingLevels, warning=40, critical=20)
    trading_heartbeat_stale_seconds: Levels = _levels(critical=120)
    order_rejection_percent: Levels = _levels(warning=10, critical=25)
    drawdown: Levels = _levels(critical=1000)  # equity (else realized P&L) below its peak, account currency
    # rate-limit answers (HTTP 429/418, ccxt RateLimitExceeded/DDoSProtection) per exchange in 5 minutes
    rate_limit_errors: Levels = _levels(warning=1, critical=10)
    # equity below this floor (account currency); no rule unless set, as the floor depends on the account
    balance_floor: FallingLevels | None = None
    email_failure_count: Levels = _levels(critical=1)
    outbox_backlog: Levels = _levels(warning=50)

    @model_validator(mode="after")
    def _fill_guards(self) -> Thresholds:
        guards = self.disk_fill_avail_percent
        missing = [s for s, _ in self.disk_fill_hours.items() if getattr(guards, s) is None]
        if missing:
            raise ValueError(
                f"disk_fill_avail_percent needs a value for {', '.join(missing)}: every level of "
                "disk_fill_hours is guarded by the share of space still available"
            )
        return self


class Intervals(_Strict):
    system_metrics: Duration = 60.0
    api: Duration = 300.0
    daily_report: str = "09:00"
    evaluation: Duration = 30.0

    @field_validator("daily_report")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(value)):
            raise ValueError(f"must be HH:MM in 24-hour time (got {value!r})")
        return str(value)


class Report(_Strict):
    timezone: str = "UTC"
    window: Duration = 86400.0

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Email(_Strict):
    smtp_server: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: str = ""
    from_email: str = ""
    to: list[str] = Field(default_factory=list)
    escalation_to: list[str] = Field(default_factory=list)
    timeout: Duration = 10.0
    verify_tls: bool = True
    ca_file: str = ""  # PEM bundle trusted instead of the system CAs (private CA, tests)
    max_attempts: int = Field(16, ge=1)  # transient failures retried with backoff, then failed
    connections: int = Field(2, ge=1, le=10)  # SMTP sessions used in parallel when several emails are due

    @field_validator("to", "escalation_to")
    @classmethod
    def _drop_empty(cls, value: list[str]) -> list[str]:
        # "${ALERT_EMAIL}" with the variable unset renders as "": no recipient, not an error;
        # set to "a@x, b@y" (as `tradewatch setup` writes several recipients) it is two.
        cleaned = [a.strip() for v in value if v for a in v.split(",") if a.strip()]
        for addr in cleaned:
            if "@" not in addr or any(c in addr for c in "\r\n"):
                raise ValueError(f"not an email address: {addr!r}")
        return cleaned


class Escalation(_Strict):
    emergency_repeat_minutes: float = Field(15, gt=0)


class Bridge(_Strict):
    database: Path = Path("var/tradewatch.db")
    outbox_dir: Path = Path("var/outbox")
    api_token: str = ""
    dashboard_password: str = ""
    prometheus_url: str = "http://127.0.0.1:9090"
    alertmanager_url: str = "http://127.0.0.1:9093"
    exporter_url: str = "http://127.0.0.1:9184/metrics"
    # bots' own /metrics: the dashboard's trading cards read them (and the exporter) when
    # Prometheus is not configured or does not answer
    bot_urls: list[str] = Field(default_factory=list)
    external_url: str = ""  # links in emails; empty: derived at start (tradewatch/external_url.py)
    listen: str = "127.0.0.1:8080"
    max_body_bytes: int = Field(2 * 1024 * 1024, gt=0)
    watchdog_timeout: Duration = 300.0
    busy_timeout: Duration = 5.0  # how long a write waits for SQLite's lock before answering 503
    # how long the worker lease lasts: a dead leader's jobs resume elsewhere within this time
    worker_lease: Duration = 15.0
    read_open: bool = False  # dashboard and read APIs readable without login beyond loopback
    session_lifetime: Duration = 43200.0  # a dashboard login lasts this long (logout revokes it)

    @property
    def link_url(self) -> str:
        """What links in emails use: external_url, or derived from `listen` when it is not set."""
        return resolve_external_url(self.external_url, self.listen).url

    @field_validator("prometheus_url", "alertmanager_url", "exporter_url", "external_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if value and not re.match(r"^https?://", value):
            raise ValueError(f"must be an http:// or https:// URL or empty (got {value!r})")
        return value.rstrip("/") if value else value

    @field_validator("worker_lease")
    @classmethod
    def _lease(cls, value: float) -> float:
        if value < 1.0:
            raise ValueError(f"must be at least 1s (got {format_duration(value)})")
        return value

    @field_validator("bot_urls")
    @classmethod
    def _http_list(cls, value: list[str]) -> list[str]:
        return [_http_url(u).rstrip("/") for u in value]

    def metrics_targets(self) -> list[str]:
        """The /metrics URLs the dashboard scrapes itself when Prometheus cannot be asked."""
        return [u for u in [self.exporter_url, *self.bot_urls] if u]


_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"must be an http:// or https:// URL with a host (got {value!r})")
    return value


def _positive_timeout(value: float) -> float:
    if value <= 0:
        raise ValueError("timeout must be above 0s")
    return value


class HttpProbe(_Strict):
    name: str = Field(min_length=1)
    url: str
    method: str = "GET"
    expected_status: list[int] = Field(default_factory=lambda: [200], min_length=1)
    timeout: Duration = 5.0
    body_regex: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    verify_tls: bool = True  # https: check the certificate and host name
    body: str | None = None  # request body (e.g. for POST)

    _timeout = field_validator("timeout")(_positive_timeout)
    _url = field_validator("url")(_http_url)

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]+", value):
            raise ValueError(f"not an HTTP method: {value!r}")
        return value.upper()

    @field_validator("expected_status")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        bad = [v for v in value if not 100 <= v <= 599]
        if bad:
            raise ValueError(f"HTTP status codes are 100-599 (got {bad})")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for k, v in value.items():
            if any(c in f"{k}{v}" for c in "\r\n") or not k.strip():
                raise ValueError(f"invalid header {k!r}: empty name or CR/LF")
        return value

    @field_validator("body_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        return value


class TcpProbe(_Strict):
    name: str = Field(min_length=1)
    address: str
    timeout: Duration = 2.0

    _timeout = field_validator("timeout")(_positive_timeout)

    @field_validator("address")
    @classmethod
    def _hostport(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"must be HOST:PORT (got {value!r})")
        return value


class SqlQuery(_Strict):
    name: str  # becomes the gauge tradewatch_sql_<name>
    sql: str = Field(min_length=1)
    help: str = ""
    labels: list[str] = Field(default_factory=list)  # result columns used as labels
    value: str | None = None  # the value column; default: the one column that is not a label

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"must be a metric name part: letters, digits, _ (got {value!r})")
        if value in ("query_success", "query_duration_seconds"):
            raise ValueError(f"{value!r} is reserved: tradewatch_sql_{value} is the exporter's own metric")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        for label in value:
            if not _NAME.match(label) or label.startswith("__"):
                raise ValueError(f"not a valid Prometheus label name: {label!r}")
        if len(set(value)) != len(value):
            raise ValueError("label columns must be distinct")
        return value


class SqlProbe(_Strict):
    name: str = Field(min_length=1)
    driver: Literal["sqlite", "postgresql"] = "sqlite"
    dsn: str = Field(min_length=1)  # a path for sqlite, a libpq connection string for postgresql
    timeout: Duration = 5.0
    queries: list[SqlQuery] = Field(default_factory=list)

    _timeout = field_validator("timeout")(_positive_timeout)


class Probes(_Strict):
    http: list[HttpProbe] = Field(default_factory=list)
    tcp: list[TcpProbe] = Field(default_factory=list)
    sql: list[SqlProbe] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Probes:
        # a probe name is a label value: two probes of one kind with one name would collide
        for kind in ("http", "tcp", "sql"):
            names = [p.name for p in getattr(self, kind)]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"{kind} probe names must be unique (repeated: {', '.join(dup)})")
        queries = [q.name for p in self.sql for q in p.queries]
        dup = sorted({n for n in queries if queries.count(n) > 1})
        if dup:
            raise ValueError(f"sql query names must be unique across probes (repeated: {', '.join(dup)})")
        return self


class FreqtradeBot(_Strict):
    """One freqtrade bot whose REST API (api_server) the exporter polls on every scrape."""

    name: str  # the `bot` label
    url: str  # the api_server's base URL, without /api/v1
    username: str = ""
    password: str = ""
    timeout: Duration = 5.0  # for all of this bot's requests together, per scrape
    verify_tls: bool = True

    _timeout = field_validator("timeout")(_positive_timeout)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", value):
            raise ValueError(f"must be 1-64 letters, digits, '_', '.' or '-' (got {value!r})")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value).rstrip("/").removesuffix("/api/v1")


class Alerting(_Strict):
    for_override: Duration | None = None
    for_durations: dict[str, Duration] = Field(default_factory=dict)  # alertname -> for
    trading_drawdown_window: Duration = 86400.0
    expected_trading_bots: bool = True  # rules about the bot stay silent without its series
    # Alertmanager timings (prometheus/alertmanager.yml); "urgent" is critical and emergency
    group_wait: Duration = 30.0
    group_wait_urgent: Duration = 5.0
    group_interval: Duration = 300.0
    group_interval_urgent: Duration = 60.0
    repeat_interval: Duration = 4 * 3600.0
    watchdog_repeat_interval: Duration = 60.0

    def for_(self, alertname: str, default: float) -> float:
        if self.for_override is not None:
            return self.for_override
        return self.for_durations.get(alertname, default)


class Retention(_Strict):
    alerts_days: int = Field(60, ge=1)
    trading_days: int = Field(90, ge=1)
    metrics_days: int = Field(30, ge=1)


class Dashboard(_Strict):
    refresh_seconds: int = Field(30, ge=1, le=3600)


class Collectors(_Strict):
    """Exporter collectors, each on by default; `--collector.NAME` / `--no-collector.NAME` win."""

    enabled: dict[str, bool] = Field(default_factory=dict)
    filesystem_mount_points_exclude: str = MOUNT_POINTS_EXCLUDE
    filesystem_fs_types_exclude: str = FS_TYPES_EXCLUDE
    filesystem_mount_points_include: str = ""
    filesystem_fs_types_include: str = ""
    filesystem_timeout: Duration = 5.0
    filesystem_network: bool = False  # nfs, cifs, ... are skipped unless asked for
    diskstats_device_exclude: str = r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"  # node_exporter 1.5's
    diskstats_device_include: str = ""
    netdev_device_exclude: str = ""
    netdev_device_include: str = ""
    arp_device_exclude: str = ""
    arp_device_include: str = ""
    vmstat_fields: str = r"^(oom_kill|pgpg|pswp|pg.*fault).*"
    netstat_fields: str = (
        r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
        r"TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|"
        r"Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|"
        r"Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
    )
    netclass_ignored_devices: str = "^$"  # node_exporter 1.5's: no interface name matches it
    textfile_directory: Path | None = None
    collector_timeout: Duration = 5.0
    # where the host's / is mounted when the exporter runs in a container (node_exporter's --path.rootfs)
    path_rootfs: str = "/"
    # where /proc and /sys are (node_exporter's --path.procfs / --path.sysfs)
    path_procfs: str = "/proc"
    path_sysfs: str = "/sys"

    @field_validator(
        "filesystem_mount_points_exclude",
        "filesystem_fs_types_exclude",
        "filesystem_mount_points_include",
        "filesystem_fs_types_include",
        "diskstats_device_exclude",
        "diskstats_device_include",
        "netdev_device_exclude",
        "netdev_device_include",
        "arp_device_exclude",
        "arp_device_include",
        "vmstat_fields",
        "netstat_fields",
        "netclass_ignored_devices",
    )
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from exc
        return value

    @field_validator("path_rootfs", "path_procfs", "path_sysfs")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"must be an absolute path, got {value!r}")
        return value


_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,32}$")


@functools.cache
def apprise_module() -> Any:
    """The `apprise` module, or None without the `bridge` extra. Apprise 1.x/2.x imports the
    deprecated `imghdr` on Python 3.11/3.12; that warning is its business, not the operator's."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            import apprise
            from apprise.manager_plugins import NotificationManager

            NotificationManager().load_modules()  # its plugins load lazily: load them here, quietly
    except ImportError:
        return None
    return apprise


def _instantiate(apprise: Any, url: str) -> Any:
    """Apprise's plugin for `url`, or None. Apprise logs why it cannot parse a URL, quoting the
    URL: that log would carry the token, so it is muted here (our message masks it instead)."""
    logger = logging.getLogger("apprise")
    before = logger.disabled
    logger.disabled = True
    try:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)
    finally:
        logger.disabled = before


def channel_url_problem(url: str) -> str | None:
    """Why Apprise cannot use `url` (None when it can); the message never carries the URL's secrets.

    Apprise comes with the `bridge` extra: without it (the exporter's base install) only the
    shape `scheme://...` is checked, and the bridge, which has Apprise, checks the rest at start.
    """
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://.", url or ""):
        return f"not an Apprise URL such as tgram://TOKEN/CHAT_ID (got {mask_channel_url(url)!r})"
    apprise = apprise_module()
    if apprise is None:
        return None
    if _instantiate(apprise, url) is None:
        return f"Apprise cannot parse {mask_channel_url(url)!r} (unknown service or missing part)"
    return None


# services whose URL path (ntfy: the topic, or the host part of `ntfy://topic`) is itself the
# secret, which Apprise's privacy form leaves readable: on the public ntfy.sh whoever knows a topic
# reads it, and a generic webhook's path often carries its token (`/api/webhook/<id>`)
_PATH_IS_SECRET = {"ntfy", "ntfys", "json", "jsons", "xml", "xmls", "form", "forms"}


def _shorten(part: str) -> str:
    return part if len(part) <= 2 else f"{part[0]}...{part[-1]}"


def _hide_path(original: str, masked: str) -> str:
    """Each path segment of `masked` shortened to Apprise's `f...l` form; for `ntfy://topic`, the
    topic that stands where a host would."""
    head, _, rest = masked.partition("://")
    netloc, slash, path = rest.partition("/")
    given = original.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    if head.startswith("ntfy") and "/" not in given.strip("/") and "@" not in given:
        netloc = _shorten(netloc)
    path = "/".join(_shorten(seg) for seg in path.split("/"))
    return f"{head}://{netloc}{slash}{path}"


def mask_channel_url(url: str) -> str:
    """An Apprise URL with its secrets hidden: Apprise's own privacy form without the query
    (`tgram://1...Z/987654/`), with ntfy topics and generic webhook paths shortened as well
    (`ntfys://ntfy.sh/t...8/`), or `scheme://********` when Apprise cannot read it."""
    scheme = url.split("://", 1)[0] if "://" in (url or "") else ""
    fallback = f"{scheme}://{MASK}" if scheme and re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*", scheme) else MASK
    apprise = apprise_module()
    if apprise is None:
        return fallback
    plugin = _instantiate(apprise, url) if url else None
    if plugin is None:
        return fallback
    masked = str(plugin.url(privacy=True)).split("?", 1)[0]
    return _hide_path(url, masked) if scheme.lower() in _PATH_IS_SECRET else masked


def _one_of(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    """`values` without repeats, each one of `allowed` (else the error names the first that is not)."""
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"unknown {what} {bad[0]!r} (expected any of {', '.join(allowed)})")
    return list(dict.fromkeys(values))


class Channel(_Strict):
    """One push channel (Telegram, Discord, ntfy, ...): an Apprise URL and what it receives."""

    name: str
    url: str = Field(repr=False)
    severities: list[str] = Field(default_factory=lambda: ["critical", "emergency"])
    categories: list[str] = Field(default_factory=list)  # empty: every category
    send_resolved: bool = True
    daily_report: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _CHANNEL_NAME.match(value):
            raise ValueError(f"must be 1 to 32 of a-z, 0-9, _ and - (got {value!r})")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        problem = channel_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("severities")
    @classmethod
    def _severities(cls, value: list[str]) -> list[str]:
        return _one_of(value, SEVERITIES, "severity")

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        return _one_of(value, CATEGORIES, "category")


class Exporter(_Strict):
    listen: str = "127.0.0.1:9184"
    collectors: Collectors = Field(default_factory=Collectors)


class Security(_Strict):
    allowed_hosts: list[str] = Field(default_factory=list)
    mask_secrets: bool = True
    # reverse proxies whose X-Forwarded-For/-Proto the bridge believes, e.g. [127.0.0.1/32]
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not an address or network such as 127.0.0.1/32 ({exc})") \
                    from None
        return values


class Config(_Strict):
    thresholds: Thresholds = Field(default_factory=Thresholds)
    intervals: Intervals = Field(default_factory=Intervals)
    report: Report = Field(default_factory=Report)
    email: Email = Field(default_factory=Email)
    escalation: Escalation = Field(default_factory=Escalation)
    bridge: Bridge = Field(default_factory=Bridge)
    probes: Probes = Field(default_factory=Probes)
    freqtrade: list[FreqtradeBot] = Field(default_factory=list)
    alerting: Alerting = Field(default_factory=Alerting)
    retention: Retention = Field(default_factory=Retention)
    dashboard: Dashboard = Field(default_factory=Dashboard)
    exporter: Exporter = Field(default_factory=Exporter)
    security: Security = Field(default_factory=Security)
    channels: list[Channel] = Field(default_factory=list)
    # where the file was read from; relative paths above are resolved against its folder
    source: Path | None = Field(default=None, exclude=True)
    source_file: Path | None = Field(default=None, exclude=True)  # the file itself, for messages

    @field_validator("freqtrade")
    @classmethod
    def _unique_bots(cls, value: list[FreqtradeBot]) -> list[FreqtradeBot]:
        names = [b.name for b in value]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            repeated = ", ".join(dup)
            raise ValueError(f"bot names become the `bot` label: they must be unique (repeated: {repeated})")
        return value

    @model_validator(mode="after")
    def _bots_fit_in_a_scrape(self) -> Config:
        # the freqtrade collector runs in the host scrape, every intervals.system_metrics
        for i, bot in enumerate(self.freqtrade):
            if bot.timeout + 2 > self.intervals.system_metrics:
                raise ValueError(
                    f"freqtrade[{i}].timeout ({format_duration(bot.timeout)}) must stay under "
                    f"intervals.system_metrics ({format_duration(self.intervals.system_metrics)}) by 2s: "
                    "the bots are polled within each host scrape")
        return self

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def masked(self) -> dict[str, Any]:
        """The effective config as plain data with every secret replaced by a mask."""
        data = mask_secrets(self.model_dump(mode="json", exclude_none=True))
        for entry, channel in zip(data.get("channels", []), self.channels, strict=True):
            entry["url"] = mask_channel_url(channel.url)  # the tokens are in the URL's path
        return data


# --------------------------------------------------------------------------- loading

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Expand ${VAR} and ${VAR:-default}; `$$` is a literal dollar. Unset ${VAR} becomes ''."""

    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, default = m.group(1), m.group(2)
        value = env.get(name, "")
        if value == "" and default is not None:
            return default
        return value

    return _VAR.sub(repl, text)


def _interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolate_tree(v, env) for v in node]
    if isinstance(node, dict):
        return {k: _interpolate_tree(v, env) for k, v in node.items()}
    return node


def mask_secrets(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (MASK if k in SECRET_KEYS and v not in ("", None) else mask_secrets(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [mask_secrets(v) for v in node]
    if isinstance(node, str):
        return mask_url_password(node)
    return node


_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@:]*):[^/@]*@")


def mask_url_password(text: str) -> str:
    """`https://user:pw@host/` -> `https://user:********@host/` (URLs may carry credentials)."""
    return _USERINFO.sub(lambda m: f"{m.group(1)}:{MASK}@", text)


def _loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        elif p in ("function-after", "function-before") or str(p).startswith("function-"):
            continue
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts)


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors():
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; unknown keys are not ignored)"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append((_loc(err["loc"]), msg))
    return out


def parse_config(
    data: Mapping[str, Any] | None,
    *,
    source: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Validate already-parsed YAML data. Env interpolation happens here."""
    env = os.environ if env is None else env
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(source, [("", "the file must hold a mapping of sections")])
    data = _interpolate_tree(dict(data), env)
    data = _email_from_env(data, env)
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _problems(exc)) from None
    repeated = _repeated_channel_names(cfg)
    if repeated:
        raise ConfigError(source, repeated)
    if source is not None:
        cfg = _resolve_paths(cfg, config_folder(Path(source)))
        cfg = cfg.model_copy(update={"source_file": Path(source)})
    return cfg


def _repeated_channel_names(cfg: Config) -> list[tuple[str, str]]:
    """`channels[N].name` for each channel whose name an earlier one already took."""
    first: dict[str, int] = {}
    problems = []
    for i, channel in enumerate(cfg.channels):
        if channel.name in first:
            problems.append((f"channels[{i}].name",
                             f"{channel.name!r} is already the name of channels[{first[channel.name]}]"))
        first.setdefault(channel.name, i)
    return problems


# The original product read these variables directly; keep that working when the file
# leaves the fields out.
EMAIL_ENV = {"username": "SMTP_USERNAME", "password": "SMTP_PASSWORD", "from_email": "FROM_EMAIL"}


def _email_from_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    email = data.get("email")
    if email is None:
        email = {}
    if not isinstance(email, Mapping):
        return data
    email = dict(email)
    for key, var in EMAIL_ENV.items():
        if key not in email and env.get(var):
            email[key] = env[var]
    if "to" not in email and env.get("ALERT_EMAIL"):
        email["to"] = [a.strip() for a in env["ALERT_EMAIL"].split(",")]
    if email:
        data = {**data, "email": email}
    return data


def _resolve_paths(cfg: Config, base: Path) -> Config:
    def rel(p: Path | None) -> Path | None:
        if p is None:
            return None
        return p if p.is_absolute() else Path(os.path.normpath(base / p))

    bridge = cfg.bridge.model_copy(
        update={"database": rel(cfg.bridge.database), "outbox_dir": rel(cfg.bridge.outbox_dir)}
    )
    collectors = cfg.exporter.collectors.model_copy(
        update={"textfile_directory": rel(cfg.exporter.collectors.textfile_directory)}
    )
    exporter = cfg.exporter.model_copy(update={"collectors": collectors})
    sql = [
        p.model_copy(update={"dsn": str(rel(Path(p.dsn)))}) if p.driver == "sqlite" else p
        for p in cfg.probes.sql
    ]
    probes = cfg.probes.model_copy(update={"sql": sql})
    return cfg.model_copy(
        update={"bridge": bridge, "exporter": exporter, "probes": probes, "source": base}
    )


def load_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> Config:
    """Read, interpolate and validate a config file (see `default_config_path` for None)."""
    env = os.environ if env is None else env
    file = Path(path) if path is not None else default_config_path(env)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(file, [("", "file not found")]) from None
    except OSError as exc:
        raise ConfigError(file, [("", f"cannot read: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(file, [(where, f"invalid YAML: {problem}")]) from None
    return parse_config(data, source=file, env=env)


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """$TRADEWATCH_CONFIG, else ./tradewatch.yaml when it exists, else the example config."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    local = Path.cwd() / "tradewatch.yaml"
    if local.exists():
        return local
    return EXAMPLE_CONFIG
