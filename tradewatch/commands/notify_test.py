"""`tradewatch notify-test`: send a test message to every push channel (or one) and say how it went.

The messages go through the bridge's outbox like every notification (so the dashboard and
/metrics count them) and are tried at once; a failure prints the service's error with the URL's
secrets masked. Exit status: 0 all sent, 1 any not sent, 2 a bad config or unknown channel.
"""

from __future__ import annotations

import argparse
import sys
import time

from tradewatch.extras import require

HELP = "send a test message to each push channel (channels:) now and print the result"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", metavar="NAME", help="only this channel (channels[].name)")
    parser.add_argument("--note", default="", help="a line of text to add to the message")


def run(args: argparse.Namespace) -> int:
    from tradewatch.cli import load_or_exit
    from tradewatch.config import mask_channel_url

    cfg = load_or_exit(args.config)
    names = [c.name for c in cfg.channels]
    if not names:
        print("tradewatch notify-test: no channels configured (add a `channels:` section; "
              "see docs/channels.md)", file=sys.stderr)
        return 2
    if args.channel is not None and args.channel not in names:
        print(f"tradewatch notify-test: --channel: no channel named {args.channel!r} "
              f"(configured: {', '.join(names)})", file=sys.stderr)
        return 2
    require("bridge", "tradewatch notify-test")
    from alert_bridge.notify import fanout
    from alert_bridge.notify.sender import OutboxSender
    from alert_bridge.store.database import Database

    db = Database(cfg.bridge.database, busy_timeout_ms=10000)
    try:
        db.migrate()
        with db.transaction() as conn:
            ids = fanout.enqueue_tests(conn, cfg, now=time.time(), only=args.channel, note=args.note)
        sender = OutboxSender(cfg, db)
        failed = 0
        for name, nid in ids.items():
            outcome = sender.deliver_now(nid)
            channel = cfg.channel(name)
            where = mask_channel_url(channel.url) if channel else "?"
            detail = f": {outcome.error}" if outcome.error else ""
            print(f"{name} ({where}): {outcome.status}{detail}")
            failed += outcome.status != "sent"
        return 1 if failed else 0
    finally:
        db.close()
