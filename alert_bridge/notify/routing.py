"""Which push channels get which notification: pure functions of the config and the alert.

Email keeps its own escalation (alert_bridge/alerts/escalation.py). A channel adds its filters
on top: `severities` (default critical and emergency) and `categories` (empty: all), plus
`send_resolved` and `daily_report`. What the filters see per kind:

| kind             | a channel gets it when                                                     |
|------------------|----------------------------------------------------------------------------|
| firing           | the alert's severity and category pass its filters                        |
| emergency_repeat | same (only emergencies repeat)                                             |
| resolved         | same, and `send_resolved`                                                  |
| watchdog         | it takes critical or emergency (a broken pipeline is urgent; no category)  |
| pause_summary    | at least one held alert passes its filters                                 |
| test             | always (or only the channel asked for)                                     |
| report           | `daily_report: true`                                                       |

Info and warning alerts never email at once (warnings go to the daily report), but a channel
that lists `info` or `warning` asked for them: it gets their firing and resolved messages, except
during a pause, which mutes them (they are not held for the summary, as email never held them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tradewatch.config import Channel
from tradewatch.vocabulary import URGENT_SEVERITIES

CHANNEL_KINDS = ("firing", "resolved", "emergency_repeat", "watchdog", "pause_summary", "test", "report")


def wants_alert(channel: Channel, severity: str, category: str) -> bool:
    """The channel's severity and category filters let this alert through."""
    if severity not in channel.severities:
        return False
    return not channel.categories or category in channel.categories


def wants(
    channel: Channel,
    kind: str,
    *,
    severity: str = "",
    category: str = "",
    held: Iterable[tuple[str, str]] = (),
) -> bool:
    """Whether `channel` gets a notification of `kind` (see the table in the module docstring).

    `held` is the (severity, category) of each alert a pause summary lists.
    """
    if kind in ("firing", "emergency_repeat"):
        return wants_alert(channel, severity, category)
    if kind == "resolved":
        return channel.send_resolved and wants_alert(channel, severity, category)
    if kind == "watchdog":
        return any(s in channel.severities for s in URGENT_SEVERITIES)
    if kind == "pause_summary":
        return any(wants_alert(channel, s, c) for s, c in held)
    if kind == "test":
        return True
    if kind == "report":
        return channel.daily_report
    raise ValueError(f"unknown notification kind {kind!r}")


def channels_for(channels: Sequence[Channel], kind: str, **filters: object) -> list[Channel]:
    """The channels, in config order, that get a notification of `kind`."""
    return [c for c in channels if wants(c, kind, **filters)]  # type: ignore[arg-type]


def quiet_alert_kind(severity: str, status: str, *, paused: bool, told_firing: bool) -> str | None:
    """For an info or warning alert (which email does not send at once): the kind the channels
    that list its severity get now, or None. Paused: nothing. Resolved: only after its firing
    went out to a channel."""
    if severity in URGENT_SEVERITIES or paused:
        return None
    if status == "firing":
        return "firing"
    if status == "resolved" and told_firing:
        return "resolved"
    return None


def dedup_key(channel: str, email_key: str | None) -> str | None:
    """The email's de-duplication key, per channel: one message per episode and channel."""
    return None if email_key is None else f"{email_key}@channel:{channel}"
