"""Sending one outbox row to its push channel through Apprise (Telegram, Discord, ntfy, ...).

The sender calls `ChannelTransport.send(row)` for rows with a `channel`; errors are classified
like email's: PermanentError (the channel was removed from the config, Apprise cannot read its
URL, or the service answered 4xx such as 400/401/403/404: a bad token or chat does not heal)
is marked failed; anything else (refused, timeout, 5xx, 429) is TransientError and retried with
the sender's backoff. Apprise's own retries are left off (`retry=0` by default): the outbox
retries, durably. Error texts never carry the URL's secrets.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any

from alert_bridge.notify import push_message
from alert_bridge.notify.transport import PermanentError, TransientError, scrub
from tradewatch.config import Channel, Config, apprise_module, mask_channel_url

log = logging.getLogger(__name__)

# HTTP answers that say the request itself is wrong (bad token, unknown chat): not retried.
# 408 (timeout), 425 (too early) and 429 (rate limited) are worth another try.
_STATUS = re.compile(r"\berror=(\d{3})\b")
_RETRYABLE_4XX = ("408", "425", "429")


def is_permanent(problems: list[str]) -> bool:
    """Whether the last HTTP status Apprise reported is a 4xx that will not heal. Only the last:
    a plugin may log a harmless 404 on the way (Matrix's version handshake) before the real one."""
    codes = [c for p in problems for c in _STATUS.findall(p)]
    return bool(codes) and codes[-1].startswith("4") and codes[-1] not in _RETRYABLE_4XX


def cooldown(failures: int) -> float:
    """Seconds a channel rests after `failures` transient failures in a row: 5 s doubling to
    15 min, the sender's back-off (without jitter)."""
    return min(900.0, 5.0 * 2 ** max(0, failures - 1))


def url_secrets(url: str) -> list[str]:
    """Parts of an Apprise URL that may be secret (tokens, passwords, keys): every piece of six
    or more characters between separators, except host names with dots and plain ports."""
    rest = url.split("://", 1)[-1]
    pieces = re.split(r"[/:@?&=#,]", rest)
    return sorted({p for p in pieces if len(p) >= 6 and "." not in p}, key=len, reverse=True)


class SecretFilter(logging.Filter):
    """Takes the channels' URL secrets out of everything Apprise logs (its messages may quote a
    URL or a request), so no token reaches the bridge's log."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = scrub(record.getMessage(), self.secrets)
            record.args = None
        return True


def guard_apprise_log(config: Config) -> None:
    """Install (once per logger, replacing an earlier one) the filter for `config`'s channels."""
    logger = logging.getLogger("apprise")
    for old in [f for f in logger.filters if isinstance(f, SecretFilter)]:
        logger.removeFilter(old)
    secrets = sorted({s for c in config.channels for s in url_secrets(c.url)}, key=len, reverse=True)
    logger.addFilter(SecretFilter(secrets))


class CoolingDown(Exception):
    """The channel failed moments ago: the row is not tried now but deferred to `until`."""

    def __init__(self, until: float, error: str):
        super().__init__(error)
        self.until = until


class ChannelTransport:
    """Delivers channel rows. One Apprise plugin per channel, made on first use and reused."""

    name = "apprise"

    def __init__(self, config: Config, clock: Any = time.time):
        self.config = config
        self.clock = clock
        self._plugins: dict[str, Any] = {}
        self._lock = threading.Lock()
        # channel name -> (consecutive transient failures, not before, last error): a service that
        # is down or hangs costs one attempt per back-off window, not one per waiting row, so it
        # cannot hold up the email and the other channels sharing the sender's lanes
        self._cooling: dict[str, tuple[int, float, str]] = {}
        guard_apprise_log(config)

    def channel(self, name: str) -> Channel:
        channel = self.config.channel(name)
        if channel is None:
            raise PermanentError(f"channel {name!r} is not in the config any more")
        return channel

    def _plugin(self, channel: Channel) -> Any:
        with self._lock:
            plugin = self._plugins.get(channel.name)
            if plugin is None:
                apprise = apprise_module()
                if apprise is None:
                    raise PermanentError("Apprise is not installed (the 'bridge' extra)")
                plugin = apprise.Apprise.instantiate(channel.url, suppress_exceptions=True)
                if plugin is None:
                    raise PermanentError(f"Apprise cannot parse {mask_channel_url(channel.url)}")
                self._plugins[channel.name] = plugin
            return plugin

    def message(self, row: dict[str, Any], channel: Channel, plugin: Any) -> push_message.PushMessage:
        context = row["context"]
        if not isinstance(context, dict) or "_invalid_json" in context:
            raise PermanentError("the stored notification context is not valid JSON")
        return push_message.render(
            row["kind"], context,
            fmt=push_message.choose_format(getattr(plugin, "notify_format", "text")),
            body_max=int(getattr(plugin, "body_maxlen", 0) or 0),
            title_max=int(getattr(plugin, "title_maxlen", 0) or 0),
            now=datetime.fromtimestamp(self.clock(), UTC),
            external_url=self.config.bridge.external_url,
            channel=channel.name,
        )

    def send(self, row: dict[str, Any]) -> None:
        """Deliver one row or raise TransientError / PermanentError (texts free of secrets), or
        CoolingDown when its channel failed moments ago (the row was not tried)."""
        channel = self.channel(str(row["channel"]))
        with self._lock:
            _, not_before, last_error = self._cooling.get(channel.name, (0, 0.0, ""))
        if self.clock() < not_before and row["kind"] != "test":  # a test is how one checks a fix
            raise CoolingDown(not_before, f"not tried: {channel.name} is cooling down after: {last_error}")
        try:
            self._send(row, channel)
        except TransientError as exc:
            with self._lock:
                n = self._cooling.get(channel.name, (0, 0.0, ""))[0] + 1
                self._cooling[channel.name] = (n, self.clock() + cooldown(n), str(exc))
            raise
        with self._lock:
            self._cooling.pop(channel.name, None)

    def _send(self, row: dict[str, Any], channel: Channel) -> None:
        plugin = self._plugin(channel)
        msg = self.message(row, channel, plugin)
        apprise = apprise_module()
        app = apprise.Apprise()
        app.add(plugin)
        problems: list[str] = []

        def note(entry: Any, _plugin: Any) -> None:
            if str(getattr(entry, "level", "")).upper() in ("WARNING", "ERROR", "CRITICAL"):
                problems.append(str(getattr(entry, "message", entry)))

        try:
            ok = app.notify(body=msg.body, title=msg.title, notify_type=apprise.NotifyType(msg.notify_type),
                            body_format=apprise.NotifyFormat(msg.body_format), log_callback=note,
                            log_level=logging.WARNING)
        except Exception as exc:  # a plugin bug must not kill the sender: retry later
            raise TransientError(self._safe(channel, f"{type(exc).__name__}: {exc}")) from None
        if ok:
            return
        detail = "; ".join(problems) or "Apprise reported a failure"
        error = self._safe(channel, f"{getattr(plugin, 'service_name', 'service')}: {detail}")
        if is_permanent(problems):
            raise PermanentError(error)
        raise TransientError(error)

    def _safe(self, channel: Channel, text: str) -> str:
        return scrub(text, url_secrets(channel.url))[:1000]
