"""The setup wizard's push-channel presets: the Apprise URL built from the parts a person has at hand
(a Telegram bot token and chat id, a Discord webhook address, an ntfy topic, ...).

Pure data and functions; `tradewatch/channel_setup.py` asks the questions. Each part says whether
it is secret (read without echo, never printed); a part a person may paste in a slightly wrong
form (a webhook address with a trailing slash, a room alias without `#`) is tidied here, and a
part that cannot be right raises ValueError with what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit


@dataclass(frozen=True)
class Part:
    key: str
    question: str
    secret: bool = False
    default: str = ""


@dataclass(frozen=True)
class ChannelPreset:
    key: str
    title: str
    parts: tuple[Part, ...]
    build: Callable[[dict[str, str]], str] = field(repr=False)


def _webhook_parts(value: str, host: str, prefix: str, count: int) -> list[str]:
    """The path segments after `prefix` of an https://HOST/PREFIX/... webhook address."""
    url = urlsplit(value.strip())
    segments = [s for s in url.path.split("/") if s]
    want = [s for s in prefix.split("/") if s]
    if url.scheme != "https" or not url.hostname or not url.hostname.endswith(host) \
            or segments[:len(want)] != want or len(segments) != len(want) + count:
        raise ValueError(f"expected https://{host}/{prefix}/" + "/".join(["..."] * count))
    return segments[len(want):]


def _discord(p: dict[str, str]) -> str:
    webhook_id, token = _webhook_parts(p["webhook"], "discord.com", "api/webhooks", 2)
    return f"discord://{webhook_id}/{token}"


def _slack(p: dict[str, str]) -> str:
    a, b, c = _webhook_parts(p["webhook"], "hooks.slack.com", "services", 3)
    return f"slack://{a}/{b}/{c}"


def _ntfy(p: dict[str, str]) -> str:
    server = urlsplit(p["server"].strip() if "://" in p["server"] else "https://" + p["server"].strip())
    topic = p["topic"].strip().strip("/")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", topic):
        raise ValueError("a topic is 1 to 64 of A-Z, a-z, 0-9, _ and -")
    if server.scheme not in ("http", "https") or not server.netloc:
        raise ValueError("the server is an address such as https://ntfy.sh")
    return f"{'ntfys' if server.scheme == 'https' else 'ntfy'}://{server.netloc}/{topic}"


def _matrix(p: dict[str, str]) -> str:
    server = urlsplit(p["server"].strip() if "://" in p["server"] else "https://" + p["server"].strip())
    if server.scheme not in ("http", "https") or not server.netloc:
        raise ValueError("the homeserver is an address such as https://matrix.example.com")
    room = p["room"].strip().lstrip("#")
    if not room:
        raise ValueError("a room alias such as #alerts is needed")
    user, password = quote(p["user"].strip(), safe=""), quote(p["password"], safe="")
    scheme = "matrixs" if server.scheme == "https" else "matrix"
    return f"{scheme}://{user}:{password}@{server.netloc}/#{room}"


def _json(p: dict[str, str]) -> str:
    url = urlsplit(p["endpoint"].strip())
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ValueError("expected an http:// or https:// address")
    rest = url.path or "/"
    return f"{'jsons' if url.scheme == 'https' else 'json'}://{url.netloc}{rest}" + (
        f"?{url.query}" if url.query else "")


PRESETS: tuple[ChannelPreset, ...] = (
    ChannelPreset("telegram", "Telegram (a bot from @BotFather and the chat id)", (
        Part("token", "Telegram bot token (from @BotFather)", secret=True),
        Part("chat", "Chat id (message the bot, then open https://api.telegram.org/bot<TOKEN>/getUpdates)"),
    ), lambda p: f"tgram://{p['token'].strip()}/{p['chat'].strip()}"),
    ChannelPreset("discord", "Discord (a channel's webhook)", (
        Part("webhook", "Discord webhook URL (Server settings > Integrations > Webhooks > Copy URL)",
             secret=True),
    ), _discord),
    ChannelPreset("slack", "Slack (an incoming webhook)", (
        Part("webhook", "Slack incoming webhook URL (https://hooks.slack.com/services/...)", secret=True),
    ), _slack),
    ChannelPreset("pushover", "Pushover (your user key and an application's API token)", (
        Part("user", "Pushover user key", secret=True),
        Part("token", "Pushover application API token", secret=True),
    ), lambda p: f"pover://{p['user'].strip()}@{p['token'].strip()}"),
    ChannelPreset("ntfy", "ntfy (a topic on ntfy.sh or your own server)", (
        Part("topic", "ntfy topic (anyone who knows it can read it: make it hard to guess)", secret=True),
        Part("server", "ntfy server", default="https://ntfy.sh"),
    ), _ntfy),
    ChannelPreset("matrix", "Matrix (a bot account and a room)", (
        Part("server", "Matrix homeserver (https://matrix.example.com)"),
        Part("user", "Bot user name"),
        Part("password", "Bot password", secret=True),
        Part("room", "Room alias (#alerts)"),
    ), _matrix),
    ChannelPreset("json", "JSON webhook (POSTs {title, message, type} to your endpoint)", (
        Part("endpoint", "Endpoint URL (http:// or https://)", secret=True),
    ), _json),
    ChannelPreset("other", "Other: paste an Apprise URL (https://github.com/caronc/apprise/wiki)", (
        Part("url", "Apprise URL", secret=True),
    ), lambda p: p["url"].strip()),
)


def preset(key: str) -> ChannelPreset:
    return next(p for p in PRESETS if p.key == key)


def variable_for(name: str) -> str:
    """The .env variable that holds a channel's URL: `phone-2` -> TRADEWATCH_CHANNEL_PHONE_2_URL."""
    return "TRADEWATCH_CHANNEL_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_URL"
