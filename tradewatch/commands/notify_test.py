"""`tradewatch notify-test`: send a test message to every push channel (or one) and say how it went.

The messages go through the bridge's outbox like every notification (so the dashboard and
/metrics count them) and are tried at once; a failure prints the service's error with the URL's
secrets masked. The config is read with the environment the services get (the process environment
over `.env`, as `check-config` does), so a channel whose URL is `${VAR}` in `.env` works here too.
Exit status: 0 all sent, 1 any not sent, 2 a bad config or unknown channel.
`tradewatch setup` sends its test through `send_tests` as well.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tradewatch.config import Config, default_config_path
from tradewatch.extras import require
from tradewatch.paths import default_home

HELP = "send a test message to each push channel (channels:) now and print the result"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", metavar="NAME", help="only this channel (channels[].name)")
    parser.add_argument("--note", default="", help="a line of text to add to the message")
    parser.add_argument("--env-file", type=Path, default=default_home() / ".env", metavar="FILE",
                        help="the .env the services read (default: .env in the checkout, else in the current "
                        "folder); the real environment wins over it")


@dataclass(frozen=True)
class Outcome:
    """One channel's test: its name, its URL masked, whether it was sent, and the (masked) error."""

    name: str
    where: str
    sent: bool
    error: str | None

    def line(self) -> str:
        detail = f": {self.error}" if self.error else ""
        return f"{self.name} ({self.where}): {'sent' if self.sent else 'failed'}{detail}"


def send_tests(cfg: Config, *, only: str | None = None, note: str = "") -> list[Outcome]:
    """Queue a test for each channel (or `only`) in the bridge's outbox and try each at once."""
    require("bridge", "a channel test")
    from alert_bridge.notify import fanout
    from alert_bridge.notify.sender import OutboxSender
    from alert_bridge.store.database import Database
    from tradewatch.config import mask_channel_url

    db = Database(cfg.bridge.database, busy_timeout_ms=10000)
    try:
        db.migrate()
        with db.transaction() as conn:
            ids = fanout.enqueue_tests(conn, cfg, now=time.time(), only=only, note=note)
        sender = OutboxSender(cfg, db)
        outcomes = []
        for name, nid in ids.items():
            result = sender.deliver_now(nid)
            channel = cfg.channel(name)
            outcomes.append(Outcome(name, mask_channel_url(channel.url) if channel else "?",
                                    result.status == "sent", result.error or (
                                        None if result.status == "sent" else result.status)))
        return outcomes
    finally:
        db.close()


def run(args: argparse.Namespace) -> int:
    from tradewatch.cli import load_or_exit
    from tradewatch.commands.check_config import service_env_for

    config = Path(args.config) if args.config else default_config_path()
    try:
        env = service_env_for(config, args.env_file)
    except ValueError as exc:
        print(f"tradewatch notify-test: {exc}", file=sys.stderr)
        return 2
    cfg = load_or_exit(str(config), env=env.values)
    names = [c.name for c in cfg.channels]
    if not names:
        print("tradewatch notify-test: no channels configured (add a `channels:` section; "
              "see docs/channels.md)", file=sys.stderr)
        return 2
    if args.channel is not None and args.channel not in names:
        print(f"tradewatch notify-test: --channel: no channel named {args.channel!r} "
              f"(configured: {', '.join(names)})", file=sys.stderr)
        return 2
    outcomes = send_tests(cfg, only=args.channel, note=args.note)
    for outcome in outcomes:
        print(outcome.line())
    return 0 if all(o.sent for o in outcomes) else 1
