"""`tradewatch rotate-session-key`: a new signing key for dashboard sessions and email ack links.

The key lives in the bridge's database (state table, row `secret_key`), not in the config. Rotate
it when the database may have been copied: every dashboard session is revoked at once; after the
bridge restarts, cookies and ack links signed with the old key are refused.
"""

from __future__ import annotations

import argparse
import time

HELP = "replace the session signing key in the bridge's database and revoke every dashboard session"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from tradewatch.cli import load_or_exit

    cfg = load_or_exit(args.config)
    from alert_bridge.store.database import Database
    from alert_bridge.web.signing import rotate_secret_key

    db = Database(cfg.bridge.database, busy_timeout_ms=10000)
    try:
        db.migrate()
        revoked = rotate_secret_key(db, time.time())
    finally:
        db.close()
    print(f"new session signing key written to {cfg.bridge.database}; {revoked} dashboard session(s) "
          "revoked.\nRestart the bridge (systemctl restart tradewatch-bridge, or `tradewatch stack stop` "
          "then `up`) so it signs with the new key; acknowledge links in emails sent before then stop "
          "working.")
    return 0
