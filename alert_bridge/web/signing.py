"""The deployment's signing key (session cookies, one-click ack links), shared by every process.

The key is generated once and kept in the database, so all web workers and restarts agree on it
without another secret in the config file.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeSerializer

from alert_bridge.store import jobs, sessions
from alert_bridge.store.database import Database

_ACK_SALT = "tradewatch.ack"


def secret_key(db: Database) -> str:
    with db.transaction() as conn:
        return jobs.set_state_if_absent(conn, "secret_key", secrets.token_hex(32))


def rotate_secret_key(db: Database, now: float) -> int:
    """Replace the key and revoke every dashboard session at once (a running bridge keeps signing
    with the old key until restarted, but the sessions it signed are dead on the server already).
    Returns how many sessions were revoked."""
    with db.transaction() as conn:
        jobs.set_state(conn, "secret_key", secrets.token_hex(32))
        return sessions.revoke_all(conn, now)


def ack_token(key: str, alert_id: int) -> str:
    return URLSafeSerializer(key, salt=_ACK_SALT).dumps(int(alert_id))


def read_ack_token(key: str, token: str) -> int | None:
    """The alert id a link token was made for, or None when it was not signed by us."""
    try:
        value = URLSafeSerializer(key, salt=_ACK_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def ack_url(external_url: str, key: str, alert_id: int) -> str | None:
    if not external_url:
        return None
    return f"{external_url.rstrip('/')}/ack/{ack_token(key, alert_id)}"
