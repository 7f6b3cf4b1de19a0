"""`tradewatch setup`: SMTP settings in a minute, proven by a test email, kept in `.env` (0600).

Interactive by default (provider presets, password read without echo); every answer also has a
flag, so `--non-interactive` (or no terminal on stdin) makes it scriptable. The settings go to
`.env` as the variables the config interpolates (SMTP_SERVER, SMTP_PORT, SMTP_SECURITY,
SMTP_USERNAME, SMTP_PASSWORD, FROM_EMAIL, ALERT_EMAIL, TRADEWATCH_EXTERNAL_URL); `deploy/run-stack.sh`
and docker compose read that file. With a test send (the default), nothing is written unless the
email went out or the operator says to keep the settings anyway.

In a checkout with a local stack (`var/stack/`, or --stack-dir), the wizard works on that stack:
its config by default (so a file-sink test email lands in the stack's outbox), the stack's own API
token kept (a token in .env would override it, so none is added), and the change applied to a
running stack (`stack reload`) or the exact command printed. Without a stack, a TRADEWATCH_API_TOKEN
is generated when .env has none (docker compose needs one).

Then (asked, or with --add-channel / the --channel-* flags) a push channel: its Apprise URL goes
to `.env` as TRADEWATCH_CHANNEL_<NAME>_URL, the config gets a `${...}` reference to it, and a test
is sent through it (tradewatch/channel_setup.py). Channel flags without --provider leave email as it is.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tradewatch import channel_setup, external_url
from tradewatch.channel_setup import ChannelError
from tradewatch.config import CONFIG_ENV, Config, ConfigError, Email, load_config, mask_channel_url
from tradewatch.extras import MissingExtra, require
from tradewatch.operator_command import stack_command, tradewatch_command
from tradewatch.paths import default_home
from tradewatch.stack_env import SETUP_HEADER, read_env_file, service_environment, write_env_file
from tradewatch.stack_layout import DEFAULT_DIR, Layout, is_stack, read_token, stack_environment

HELP = ("configure email (SMTP or the file sink) and push channels, send a test through each, "
        "write .env (mode 0600)")


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    server: str
    port: int
    security: str
    password_prompt: str = "SMTP password"  # noqa: S105 - a question, not a password


PRESETS = {
    "gmail": Preset("gmail", "Gmail (app password, smtp.gmail.com:587, STARTTLS)", "smtp.gmail.com",
                    587, "starttls",
                    "Gmail app password (16 letters; create one at https://myaccount.google.com/apppasswords)"),
    "starttls": Preset("starttls", "Another SMTP server with STARTTLS (usually port 587)", "", 587,
                       "starttls"),
    "ssl": Preset("ssl", "An SMTP server with implicit TLS / SSL (usually port 465)", "", 465, "ssl"),
    "none": Preset("none", "None: write emails as .eml files (the file sink), no SMTP", "", 0, "none"),
}


@dataclass(frozen=True)
class Settings:
    provider: str
    server: str = ""
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = ""
    from_email: str = ""
    to: tuple[str, ...] = ()

    def env(self) -> dict[str, str]:
        """The .env variables (the names deploy/tradewatch.example.yaml interpolates)."""
        if self.provider == "none":
            return {"SMTP_SERVER": "", "FROM_EMAIL": self.from_email, "ALERT_EMAIL": ", ".join(self.to)}
        return {
            "SMTP_SERVER": self.server,
            "SMTP_PORT": str(self.port),
            "SMTP_SECURITY": self.security,
            "SMTP_USERNAME": self.username,
            "SMTP_PASSWORD": self.password,
            "FROM_EMAIL": self.from_email,
            "ALERT_EMAIL": ", ".join(self.to),
        }

    def email(self, base: Email) -> Email:
        update = {"smtp_server": "" if self.provider == "none" else self.server,
                  "username": self.username, "password": self.password,
                  "from_email": self.from_email, "to": list(self.to)}
        if self.provider != "none":
            update |= {"smtp_port": self.port, "security": self.security}
        return Email.model_validate({**base.model_dump(), **update})


class SetupError(Exception):
    """Bad or missing input: said plainly, exit status 2."""


# --------------------------------------------------------------------------- arguments

def default_env_file() -> Path:
    """The checkout's .env (what run-stack.sh and docker compose read), else ./.env."""
    return default_home() / ".env"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", choices=list(PRESETS), help="preset: " + "; ".join(
        f"{p.key} = {p.title}" for p in PRESETS.values()))
    parser.add_argument("--server", metavar="HOST", help="SMTP server (gmail: smtp.gmail.com)")
    parser.add_argument("--port", type=int, metavar="PORT", help="SMTP port (preset default: 587 or 465)")
    parser.add_argument("--security", choices=["starttls", "ssl", "none"],
                        help="override the preset's transport security "
                        "(none: plain SMTP, trusted networks only)")
    parser.add_argument("--username", metavar="USER", help="SMTP login (for Gmail: the address)")
    parser.add_argument("--password-file", type=Path, metavar="FILE",
                        help="read the SMTP password from FILE ('-' for stdin); never give it as a flag")
    parser.add_argument("--from", dest="from_email", metavar="ADDRESS",
                        help="sender address (default: the username when it is an address)")
    parser.add_argument("--to", action="append", metavar="ADDRESS",
                        help="alert recipient; repeat or separate with commas")
    parser.add_argument("--no-test-send", action="store_true",
                        help="write .env without sending a test email (or test message to a new channel)")
    parser.add_argument("--env-file", type=Path, metavar="PATH", default=None,
                        help=f"where to write (default: {default_env_file()})")
    parser.add_argument("--external-url", metavar="URL",
                        help="the dashboard's address for links in emails, as a phone reaches it "
                        "(https://tradewatch.example.com); written as TRADEWATCH_EXTERNAL_URL")
    parser.add_argument("--stack-dir", type=Path, metavar="DIR", default=None,
                        help="the local stack to configure (default: $TRADEWATCH_STACK_DIR or var/stack "
                        "in the checkout, when a stack was started there)")
    parser.add_argument("--non-interactive", "-y", action="store_true",
                        help="never prompt; missing values are an error "
                        "(implied when stdin is not a terminal)")
    channel_setup.add_arguments(parser)


# --------------------------------------------------------------------------- prompting

class Prompter:
    """Questions on the terminal; the password through getpass (no echo)."""

    def __init__(self, out=print):  # type: ignore[no-untyped-def]
        self.out = out

    def ask(self, question: str, default: str = "", *, required: bool = False) -> str:
        while True:
            suffix = f" [{default}]" if default else ""
            answer = input(f"{question}{suffix}: ").strip()
            value = answer or default
            if value or not required:
                return value
            self.out("  (an answer is needed)")

    def secret(self, question: str, have_existing: bool) -> str:
        hint = " (Enter keeps the saved one)" if have_existing else ""
        return getpass.getpass(f"{question}{hint}: ")

    def yes(self, question: str, default: bool) -> bool:
        hint = "Y/n" if default else "y/N"
        while True:
            answer = input(f"{question} [{hint}]: ").strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes", "n", "no"):
                return answer.startswith("y")

    def choose(self, question: str, options: list[Any], default: str) -> str:
        """One of `options` (each with .key and .title), by number or key."""
        for i, p in enumerate(options, 1):
            self.out(f"  {i}) {p.title}")
        keys = [p.key for p in options]
        while True:
            answer = input(f"{question} [{keys.index(default) + 1}]: ").strip().lower()
            if not answer:
                return default
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return keys[int(answer) - 1]
            if answer in keys:
                return answer
            self.out(f"  choose 1-{len(options)}")


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(a.strip() for v in values or [] for a in v.split(",") if a.strip())


def _read_password(path: Path) -> str:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SetupError(f"--password-file {path}: cannot read: {exc.strerror}") from None
    return text.rstrip("\r\n")


def gather(args: argparse.Namespace, saved: dict[str, str], interactive: bool, prompt: Prompter) -> Settings:
    """Flags first, then (interactively) questions defaulting to what .env already holds."""
    saved_provider = _provider_of(saved)
    provider = args.provider
    if provider is None:
        if not interactive:
            raise SetupError("--provider is required with --non-interactive (gmail, starttls, ssl or none)")
        provider = prompt.choose("Email provider", list(PRESETS.values()), saved_provider or "gmail")
    preset = PRESETS[provider]
    reuse = saved if saved_provider == provider else {}
    password = _read_password(args.password_file) if args.password_file else ""

    def value(flag: str | None, question: str, default: str, required: bool = True) -> str:
        if flag is not None:
            return flag
        if interactive:
            return prompt.ask(question, default, required=required)
        if required and not default:
            raise SetupError(f"{question.lower()} is missing: give it as a flag (see --help)")
        return default

    to_default = saved.get("ALERT_EMAIL", "")
    if provider == "none":
        from_email = value(args.from_email, "Sender address",
                           saved.get("FROM_EMAIL") or "tradewatch@localhost")
        to = _split(args.to) or _split([value(None, "Alert recipients (comma-separated)", to_default)])
        return Settings("none", from_email=from_email, to=to, security="none", port=0)

    server = value(args.server, "SMTP server", preset.server or reuse.get("SMTP_SERVER", ""))
    port_text = value(str(args.port) if args.port else None, "SMTP port",
                      reuse.get("SMTP_PORT") or str(preset.port))
    try:
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise SetupError(f"port must be a number 1-65535 (got {port_text!r})") from None
    security = args.security or preset.security
    username = value(args.username, "Username" + (" (your Gmail address)" if provider == "gmail" else ""),
                     reuse.get("SMTP_USERNAME", ""), required=provider == "gmail")
    if not password and username:
        if interactive:
            password = prompt.secret(preset.password_prompt, bool(reuse.get("SMTP_PASSWORD")))
        password = password or reuse.get("SMTP_PASSWORD", "")
        if not password:
            raise SetupError("a password is needed for that username: --password-file FILE (or - for stdin)")
    if provider == "gmail":
        password = password.replace(" ", "")  # Google shows app passwords in groups of four
    from_default = reuse.get("FROM_EMAIL") or (username if "@" in username else "")
    from_email = value(args.from_email, "Sender address", from_default)
    to = _split(args.to) or _split([value(None, "Alert recipients (comma-separated)",
                                          to_default or from_email)])
    if not to:
        raise SetupError("at least one alert recipient is needed: --to ADDRESS")
    return Settings(provider, server, port, security, username, password, from_email, to)


def _provider_of(saved: dict[str, str]) -> str | None:
    if "SMTP_SERVER" not in saved:
        return None
    server = saved.get("SMTP_SERVER", "")
    if not server:
        return "none"
    if server == "smtp.gmail.com":
        return "gmail"
    return "ssl" if saved.get("SMTP_SECURITY") == "ssl" else "starttls"


# --------------------------------------------------------------------------- test send

def send_test(settings: Settings, base: Config) -> str:
    """Send the test email through the bridge's own transport; returns where it went."""
    from alert_bridge.notify.compose import compose, sender_address
    from alert_bridge.notify.transport import FileSink, make_transport

    cfg = base.model_copy(update={"email": settings.email(base.email)})
    context = {"requested_at": datetime.now(UTC).isoformat(timespec="seconds"),
               "note": "Sent by `tradewatch setup` to check the email settings."}
    msg = compose("test", context, cfg)
    transport = make_transport(cfg.email, cfg.bridge.outbox_dir)
    transport.send(msg, sender_address(cfg), list(cfg.email.to))
    if isinstance(transport, FileSink):
        return f"written to {cfg.bridge.outbox_dir}"
    return f"accepted by {settings.server}:{settings.port} for {', '.join(settings.to)}"


@dataclass(frozen=True)
class Target:
    """What the wizard configures: the config file, the .env file, and the local stack if any."""

    config: str | None  # None: the usual default (TRADEWATCH_CONFIG, ./tradewatch.yaml, the example)
    env_file: Path
    stack: Layout | None

    def environment(self, values: dict[str, str] | None = None) -> dict[str, str]:
        """What the services see (tradewatch/stack_env.py), with `values` written to .env."""
        if self.stack is not None:
            env = stack_environment(self.stack, self.env_file, os.environ).values
        else:
            env = service_environment(os.environ, self.env_file).values
        return {**env, **{k: v for k, v in (values or {}).items() if k not in os.environ}}

    def load(self, values: dict[str, str] | None = None) -> Config:
        """The config as the services will load it, or the defaults when it cannot load."""
        try:
            return load_config(self.config, env=self.environment(values))
        except (ConfigError, ValueError):
            return Config()


def find_target(args: argparse.Namespace) -> Target:
    """The stack's config by default when a stack lives in the checkout (or --stack-dir)."""
    layout = Layout(args.stack_dir or Path(os.environ.get("TRADEWATCH_STACK_DIR") or DEFAULT_DIR))
    stack = layout if is_stack(layout) else None
    config = args.config
    if config is None and stack is not None and not os.environ.get(CONFIG_ENV):
        config = str(stack.config)
    return Target(config, args.env_file or default_env_file(), stack)


def again_command(args: argparse.Namespace) -> str:
    """This command again, with the flags that chose what it configures (never a secret)."""
    words = ["setup"]
    chosen = (("--config", args.config), ("--stack-dir", args.stack_dir), ("--env-file", args.env_file))
    for flag, value in chosen:
        if value is not None:
            words += [flag, shlex.quote(str(value))]
    return tradewatch_command(" ".join(words))


def ask_external_url(args: argparse.Namespace, saved: dict[str, str], current: Config, interactive: bool,
                     prompt: Prompter) -> str | None:
    """The dashboard address for links in emails; None: leave it as it is."""
    if args.external_url is not None:
        value = args.external_url.strip()
    elif not interactive:
        return None
    else:
        now = external_url.resolve(current.bridge.external_url, current.bridge.listen)
        default = saved.get("TRADEWATCH_EXTERNAL_URL") or ("" if now.problem else now.url)
        guess = external_url.resolve("", "0.0.0.0:" + now.url.rsplit(":", 1)[-1].strip("/"))
        example = "https://tradewatch.example.com" + ("" if guess.problem else f" or {guess.url}")
        prompt.out(f"Links in emails now point to {now.url}" + (" (this machine only)" if now.problem else "")
                   + f". Give the address a phone reaches, e.g. {example} (Enter keeps "
                   + (default if default else "it unset") + ").")
        while True:
            value = prompt.ask("Dashboard address for links in emails", default)
            if not value or _url_problem(value) is None:
                break
            prompt.out(f"  {_url_problem(value)}")
        if value == saved.get("TRADEWATCH_EXTERNAL_URL", ""):
            return None
    problem = _url_problem(value) if value else None
    if problem:
        raise SetupError(f"--external-url: {problem}")
    return value.rstrip("/")


def _url_problem(value: str) -> str | None:
    import re

    if not re.match(r"^https?://[^/\s:]+(:\d+)?(/\S*)?$", value):
        return f"must be an http:// or https:// address, e.g. https://tradewatch.example.com (got {value!r})"
    return None


# --------------------------------------------------------------------------- the command

def run(args: argparse.Namespace) -> int:
    out = print
    target = find_target(args)
    interactive = not args.non_interactive and sys.stdin.isatty()
    prompt = Prompter(out)
    try:
        saved = read_env_file(target.env_file)
    except ValueError as exc:
        out(f"tradewatch setup: {exc}")
        return 2
    channel_only = channel_setup.requested(args) and args.provider is None
    planned = None
    if channel_setup.requested(args) and not interactive:
        try:  # every flag checked before anything is written
            planned = channel_setup.from_flags(args)
            path = channel_setup.config_path(target.config, target.environment())
            channel_setup.planned_config(path, planned, target.environment())
        except ChannelError as exc:
            out(f"tradewatch setup: {exc}")
            return 2
    if channel_only:
        if interactive:
            out(f"TradeWatch push channel setup for {_where(target)} (writes {target.env_file}). "
                "Ctrl-C cancels; nothing is written until the end.")
        status = 0
    else:
        email = _email(args, target, saved, interactive, prompt, out)
        if email is not None:
            return email
        status = 0
    try:
        added = _channel(args, target, interactive, prompt, out, planned, ask_first=not channel_only)
    except ChannelError as exc:
        out(f"tradewatch setup: {exc}" + ("" if channel_only else " (the email settings are saved)"))
        return 2
    except (KeyboardInterrupt, EOFError):
        out("\nChannel not added; "
            + ("nothing written." if channel_only else "the email settings are saved."))
        return 130
    if added is not None:
        status = added
    if target.stack is not None:
        applied = _apply_to_stack(target, target.stack, interactive, prompt, out)
        return max(status, applied)
    out("Restart the bridge to use the new settings (docker compose: `docker compose up -d`; "
        "systemd: `sudo systemctl restart tradewatch-bridge`).")
    return status


def _where(target: Target) -> str:
    where = f"the local stack in {target.stack.root}, " if target.stack else ""
    return f"{where}config {target.config or 'the default'}"


def _email(args: argparse.Namespace, target: Target, saved: dict[str, str], interactive: bool,
           prompt: Prompter, out) -> int | None:  # type: ignore[no-untyped-def]
    """The email settings: asked, tested and written to .env. None when saved, else the exit status."""
    env_file = target.env_file
    try:
        if interactive:
            out(f"TradeWatch email setup for {_where(target)} "
                f"(writes {env_file}). Ctrl-C cancels; nothing is written until the end.")
        settings = gather(args, saved, interactive, prompt)
        try:
            settings.email(Email())
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"][:1])
            raise SetupError(f"{field}: {err['msg'].removeprefix('Value error, ')}") from None
        values = settings.env()
        link = ask_external_url(args, saved, target.load(), interactive, prompt)
        if link is not None:
            values["TRADEWATCH_EXTERNAL_URL"] = link
        if target.stack is None and not saved.get("TRADEWATCH_API_TOKEN"):
            values["TRADEWATCH_API_TOKEN"] = secrets.token_urlsafe(32)  # docker compose needs one
        test = not args.no_test_send
        if interactive and not args.no_test_send:
            test = prompt.yes("Send a test email now?", True)
        if test:
            try:
                require("bridge", "the test email")
            except MissingExtra as exc:
                raise SetupError(f"{exc} (or add --no-test-send to save without testing)") from None
            from alert_bridge.notify.transport import DeliveryError

            out("Sending a test email ...")
            try:
                where = send_test(settings, target.load(values))
            except DeliveryError as exc:
                out(f"Test email FAILED: {exc}")
                keep = interactive and prompt.yes("Save these settings anyway?", False)
                if not keep:
                    out(f"Nothing written to {env_file}. Fix the settings and run "
                        f"`{again_command(args)}` again"
                        + ("" if interactive else " (or add --no-test-send to save without testing)") + ".")
                    return 1
            else:
                out(f"Test email sent: {where}.")
    except SetupError as exc:
        out(f"tradewatch setup: {exc}")
        return 2
    except (KeyboardInterrupt, EOFError):
        out("\nSetup cancelled; nothing written.")
        return 130
    write_env_file(env_file, values, header=SETUP_HEADER)
    out(f"Saved {', '.join(k for k in values if k != 'SMTP_PASSWORD')}"
        + (" and SMTP_PASSWORD" if "SMTP_PASSWORD" in values else "") + f" to {env_file} (mode 0600).")
    _check_config_uses(target, settings, link, out)
    return None


def _channel(args: argparse.Namespace, target: Target, interactive: bool, prompt: Prompter,
             out,  # type: ignore[no-untyped-def]
             planned: channel_setup.NewChannel | None, *, ask_first: bool) -> int | None:
    """A push channel, saved then tested. None: none added; else 0 delivered, 1 the test failed."""
    optional = ask_first and planned is None  # the question after the email settings
    if optional and not interactive:
        return None
    try:
        path = channel_setup.config_path(target.config, target.environment())
    except ChannelError as exc:
        if optional:
            out(f"Push channels: {str(exc).removeprefix('--config: ')}.")
            return None
        raise
    if optional and not prompt.yes(channel_setup.QUESTION, False):
        return None
    existing = channel_setup.existing_names(path)
    channel = planned or channel_setup.ask(args, prompt, existing)
    new_text, replaced = channel_setup.planned_config(path, channel, target.environment())
    channel_setup.save(path, new_text, channel, target.env_file)
    masked = mask_channel_url(channel.url)
    out(f"Channel {channel.name} ({masked}, {', '.join(channel.severities)}) "
        + ("replaced the one of that name" if replaced else "added") + f" in {path}; its URL is "
        f"{channel.variable} in {target.env_file} (mode 0600), the config refers to ${{{channel.variable}}}.")
    retry = channel_setup.retry_command(channel.name, path, args)
    if args.no_test_send:
        out(f"No test sent (--no-test-send). Send one with `{retry}`.")
        return 0
    out(f"Sending a test message through {channel.name} ...")
    try:
        require("bridge", "the test message")
    except MissingExtra as exc:
        out(f"Test message NOT sent: {exc}. The channel is saved; test it later with `{retry}`.")
        return 1
    ok, detail = channel_setup.send_test(path, channel, target.environment())
    if ok:
        out(f"Test message delivered to {channel.name} ({masked}).")
        return 0
    out(f"Test message to {channel.name} FAILED: {detail}")
    out(f"The channel stays saved (a failed test does not remove it). Fix the service or run "
        f"`{again_command(args)} --add-channel --channel-name {channel.name}` to replace it, then retry: "
        f"`{retry}`.")
    return 1


def _apply_to_stack(target: Target, layout: Layout, interactive: bool, prompt: Prompter, out) -> int:  # type: ignore[no-untyped-def]
    """Keep the stack's token, and reload a running stack (asked) or say the exact command."""
    from tradewatch.stack import SUPERVISOR, pid_alive, read_pid, request_reload

    token, in_env = read_token(layout), read_env_file(target.env_file).get("TRADEWATCH_API_TOKEN")
    if in_env and token and in_env != token and not os.environ.get("TRADEWATCH_API_TOKEN"):
        out(f"Note: {target.env_file} sets TRADEWATCH_API_TOKEN, which the stack uses instead of its own "
            f"token in {layout.token_file}: log in with the one in .env, or delete that line and reload.")
    reload_cmd = stack_command("reload", layout=layout)
    sup = read_pid(layout.pid_file(SUPERVISOR))
    if not pid_alive(sup):
        out(f"The stack in {layout.root} is not running; it uses the new settings from its next start: "
            f"`{stack_command(layout=layout)}`.")
        return 0
    assert sup is not None
    if sup.get("env_file") and Path(sup["env_file"]) != target.env_file.resolve():
        out(f"Note: the running stack reads {sup['env_file']}, not {target.env_file}: start it with "
            f"`--env-file {shlex.quote(str(target.env_file))}` to use these settings.")
        return 0
    if not (interactive and prompt.yes(f"The stack in {layout.root} is running. Apply the new settings now "
                                       "(restarts its exporter and bridge)?", True)):
        out(f"The running stack still uses the old settings. Apply them with `{reload_cmd}`.")
        return 0
    out("Reloading the stack ...")
    ok, detail = request_reload(layout)
    out(f"{'Applied' if ok else 'NOT applied'}: {detail}" + ("" if ok else f". Try again: `{reload_cmd}`"))
    return 0 if ok else 1


def _check_config_uses(target: Target, settings: Settings, link: str | None, out) -> None:  # type: ignore[no-untyped-def]
    """Warn when the config file sets a value literally, so the new .env would not take effect."""
    try:
        cfg = load_config(target.config, env=target.environment())
    except (ConfigError, ValueError):
        return
    src = cfg.source_file or "the config"
    if settings.provider != "none" and (cfg.email.smtp_server, cfg.email.smtp_port) != (settings.server,
                                                                                       settings.port):
        out(f"Note: the config in {src} does not take the SMTP server/port from .env "
            "(use ${SMTP_SERVER:-} and ${SMTP_PORT:-587} there, as deploy/tradewatch.example.yaml does).")
    if link is not None and cfg.bridge.external_url.rstrip("/") != link:
        out(f"Note: {src} sets bridge.external_url itself ({cfg.bridge.external_url or 'empty'}), so links "
            "keep pointing there: write `external_url: ${TRADEWATCH_EXTERNAL_URL:-}` in its bridge section.")
