"""The setup wizard's push-channel step: ask (or take from flags) a service, a name and severities,
keep the URL in `.env` (0600) and a `${VAR}` reference in the config, then send a test through it.

The URL carries the service's token, so it is read without echo, written only to `.env`, and
shown only in Apprise's masked form. Nothing is written until every answer is valid and the
edited config loads; the test goes through `tradewatch notify-test`'s own code (the bridge's
outbox and Apprise), and a failed test leaves the channel saved, with the command to retry.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from tradewatch.channel_presets import PRESETS, preset, variable_for
from tradewatch.config import (
    EXAMPLE_CONFIG,
    Channel,
    ConfigError,
    channel_url_problem,
    default_config_path,
    load_config,
    mask_channel_url,
    parse_config,
)
from tradewatch.config_channels import with_channel
from tradewatch.operator_command import tradewatch_command
from tradewatch.stack_env import SETUP_HEADER, write_atomically, write_env_file
from tradewatch.vocabulary import SEVERITIES

QUESTION = "Add a push channel (Telegram, Discord, Slack, Pushover, ntfy, Matrix, JSON webhook)?"
DEFAULT_SEVERITIES = ("critical", "emergency")
FLAGS = {"name": "--channel-name", "url": "--channel-url", "severities": "--channel-severities"}


class ChannelError(Exception):
    """A bad or missing channel answer, naming the flag: exit status 2, nothing written."""


@dataclass(frozen=True)
class NewChannel:
    name: str
    url: str = ""
    severities: tuple[str, ...] = DEFAULT_SEVERITIES

    @property
    def variable(self) -> str:
        return variable_for(self.name)

    def entry(self) -> dict[str, object]:
        """The config's entry: the URL only as a reference to .env."""
        return {"name": self.name, "url": f"${{{self.variable}}}", "severities": list(self.severities)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--add-channel", action="store_true",
                        help="add a push channel (asked interactively, or from the --channel-* flags); "
                        "without --provider the email settings are left as they are")
    parser.add_argument("--channel-name", metavar="NAME",
                        help="the channel's name: 1 to 32 of a-z, 0-9, _ and - "
                        "(an existing channel of that name is replaced)")
    parser.add_argument("--channel-url", metavar="URL",
                        help="its Apprise URL (tgram://TOKEN/CHAT_ID, json://host/path, ...); kept in .env")
    parser.add_argument("--channel-url-file", type=Path, metavar="FILE",
                        help="read the Apprise URL from FILE ('-' for stdin), "
                        "to keep it out of shell history")
    parser.add_argument("--channel-severities", metavar="LIST",
                        help="comma-separated, any of " + ", ".join(SEVERITIES)
                        + " (default: " + ", ".join(DEFAULT_SEVERITIES) + ")")


def requested(args: argparse.Namespace) -> bool:
    """A channel was asked for on the command line."""
    return bool(args.add_channel or args.channel_name or args.channel_url or args.channel_url_file
                or args.channel_severities)


def config_path(config: str | None, environment: dict[str, str]) -> Path:
    """The config file the channel goes into; never the shipped example."""
    path = Path(config) if config else default_config_path(environment)
    if path.resolve() == EXAMPLE_CONFIG.resolve():
        raise ChannelError(f"--config: channels are added to your own config file, and {path} is the shipped "
                           "example: copy it (`cp deploy/tradewatch.example.yaml tradewatch.yaml`) or give "
                           "--config FILE")
    return path


# --------------------------------------------------------------------------- validation

def problem(field: str, value: object) -> str | None:
    """Why the config would refuse this name, URL or severity list (None: fine); secrets masked."""
    if field == "url":
        return channel_url_problem(str(value))
    data = {"name": "x", "url": "json://localhost/", field: value}
    try:
        Channel.model_validate(data)
    except ValidationError as exc:
        return exc.errors()[0]["msg"].removeprefix("Value error, ")
    return None


def _severities(text: str) -> tuple[str, ...]:
    return tuple(s.strip().lower() for s in text.split(",") if s.strip())


def _read_url(path: Path) -> str:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ChannelError(f"--channel-url-file {path}: cannot read: {exc.strerror}") from None
    return text.strip()


def from_flags(args: argparse.Namespace) -> NewChannel:
    """The channel the flags describe (non-interactive); ChannelError names the flag at fault."""
    url = _read_url(args.channel_url_file) if args.channel_url_file else (args.channel_url or "").strip()
    if not args.channel_name:
        raise ChannelError("--channel-name is required to add a channel (1 to 32 of a-z, 0-9, _ and -)")
    if not url:
        raise ChannelError("--channel-url (or --channel-url-file) is required to add a channel: "
                           "an Apprise URL such as tgram://TOKEN/CHAT_ID")
    severities = _severities(args.channel_severities) if args.channel_severities else DEFAULT_SEVERITIES
    for field, value in (("name", args.channel_name), ("url", url), ("severities", list(severities))):
        why = problem(field, value)
        if why:
            flag = "--channel-url-file" if field == "url" and args.channel_url_file else FLAGS[field]
            raise ChannelError(f"{flag}: {why}")
    return NewChannel(args.channel_name, url, severities)


# --------------------------------------------------------------------------- questions

def ask(args: argparse.Namespace, prompt, existing: list[str]) -> NewChannel:  # type: ignore[no-untyped-def]
    """The service, its parts, the name and the severities, each asked again until valid (a flag
    given on the command line is taken as it is, and checked like the rest)."""
    out: Callable[[str], None] = prompt.out
    url = _read_url(args.channel_url_file) if args.channel_url_file else (args.channel_url or "").strip()
    key = "other"
    if url and channel_url_problem(url):
        out(f"  {FLAGS['url']}: {channel_url_problem(url)}")
        url = ""
    if not url:
        key = prompt.choose("Service", list(PRESETS), "telegram")
        while True:
            url = _ask_url(prompt, key)
            why = channel_url_problem(url)
            if why is None:
                break
            out(f"  {why}; try again.")
    out(f"  URL: {mask_channel_url(url)} (kept in .env; shown masked)")
    name = args.channel_name
    while True:
        if not name:
            name = prompt.ask("Channel name (a-z, 0-9, _ and -)", key if key != "other" else "phone",
                              required=True)
        why = problem("name", name)
        if why is None:
            break
        out(f"  {why}")
        name = ""
    if name in existing:
        out(f"  A channel named {name} is already configured: it will be replaced.")
    text = args.channel_severities
    while True:
        if not text:
            text = prompt.ask(f"Severities it receives (any of {', '.join(SEVERITIES)})",
                              ", ".join(DEFAULT_SEVERITIES))
        severities = _severities(text)
        why = problem("severities", list(severities)) or (None if severities else "give at least one")
        if why is None:
            return NewChannel(name, url, severities)
        out(f"  {why}")
        text = ""


def _ask_url(prompt, key: str) -> str:  # type: ignore[no-untyped-def]
    chosen = preset(key)
    while True:
        parts = {}
        for part in chosen.parts:
            if part.secret:
                parts[part.key] = prompt.secret(part.question + " (not shown)", False).strip()
            else:
                parts[part.key] = prompt.ask(part.question, part.default, required=True)
        if not all(parts.values()):
            prompt.out("  every part is needed; try again.")
            continue
        try:
            return chosen.build(parts)
        except ValueError as exc:
            prompt.out(f"  {exc}; try again.")


# --------------------------------------------------------------------------- saving and testing

def existing_names(path: Path) -> list[str]:
    """The names of the channels the file lists now (as written, before interpolation)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    channels = data.get("channels") if isinstance(data, dict) else None
    return [c["name"] for c in channels or [] if isinstance(c, dict) and isinstance(c.get("name"), str)]


def planned_config(path: Path, channel: NewChannel, environment: dict[str, str]) -> tuple[str, bool]:
    """The config file's new text and whether a channel of that name was replaced; ChannelError
    when the edited file would not load (nothing is written then)."""
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        new, replaced = with_channel(text, channel.entry())
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ChannelError(f"--config {path}: cannot add the channel: {exc}") from None
    data = yaml.safe_load(text) or {}
    for other in data.get("channels") or []:
        if isinstance(other, dict) and other.get("name") != channel.name \
                and f"${{{channel.variable}" in str(other.get("url", "")):
            raise ChannelError(f"--channel-name: channel {other.get('name')!r} already keeps its URL in "
                               f"{channel.variable}; choose another name")
    try:
        parse_config(yaml.safe_load(new), source=path, env={**environment, channel.variable: channel.url})
    except ConfigError as exc:
        raise ChannelError(f"--config: with the channel added, the config would not load:\n{exc}") from None
    return new, replaced


def save(path: Path, new_text: str, channel: NewChannel, env_file: Path) -> None:
    """The URL into .env (0600) first, then the config that refers to it."""
    write_env_file(env_file, {channel.variable: channel.url}, header=SETUP_HEADER)
    write_atomically(path, new_text, path.stat().st_mode & 0o777 if path.exists() else 0o644)


def retry_command(name: str, config: Path, args: argparse.Namespace) -> str:
    words = ["notify-test", "--channel", shlex.quote(name)]
    if args.config is not None or config.resolve() != default_config_path().resolve():
        words += ["--config", shlex.quote(str(config))]
    if args.env_file is not None:
        words += ["--env-file", shlex.quote(str(args.env_file))]
    return tradewatch_command(" ".join(words))


def send_test(path: Path, channel: NewChannel, environment: dict[str, str]) -> tuple[bool, str]:
    """Send a test through the saved channel with notify-test's code: (delivered, what to print)."""
    from tradewatch.commands.notify_test import send_tests

    try:
        cfg = load_config(path, env=environment)
    except ConfigError as exc:
        return False, f"the config does not load: {exc}"
    note = "Sent by `tradewatch setup` to check the new channel."
    [outcome] = send_tests(cfg, only=channel.name, note=note)
    return outcome.sent, outcome.error or ""
