"""Message-IDs: unique per alert episode whatever the fingerprint looks like, and valid RFC 5322."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email._header_value_parser import parse_message_id

import pytest

from alert_bridge.notify.compose import compose
from tests.support.notify import alert_context, email_config

NOW = datetime(2026, 11, 25, 1, 58, 30, tzinfo=UTC)
LONG = "f" * 64


def message_ids(fingerprint: str) -> list[str]:
    """The firing, resolved and first repeat Message-IDs of one alert with this fingerprint."""
    cfg = email_config()
    out = []
    resolved = {"status": "resolved", "ends_at": "2026-11-25T01:55:00Z"}
    for kind, extra in (("firing", {}), ("resolved", resolved), ("emergency_repeat", {"repeat": 1})):
        ctx = alert_context(**extra)
        ctx["alert"]["fingerprint"] = fingerprint
        msg = compose(kind, ctx, cfg, now=NOW)
        parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
        out.append(str(parsed["Message-ID"]).strip())
    return out


def test_fingerprints_that_differ_only_in_punctuation_get_different_message_ids():
    ids = [message_ids(fp)[0] for fp in ("ab-cd", "ab_cd", "abcd", "ab.cd", "AB-CD")]
    assert len(set(ids)) == len(ids), ids


def test_long_fingerprints_sharing_64_characters_get_different_message_ids():
    ids = [message_ids(fp)[0] for fp in (LONG + "1", LONG + "2", LONG)]
    assert len(set(ids)) == len(ids), ids


ODD = ["3f2c9a1b4d5e6f70", "ab-cd", "a b\r\nc<d>@e", LONG + "x", "", "\u00e9\u20ac"]


@pytest.mark.parametrize("fingerprint", ODD)
def test_every_message_id_is_a_valid_rfc5322_msg_id(fingerprint):
    for mid in message_ids(fingerprint):
        token = parse_message_id(mid)
        assert not token.all_defects, (mid, token.all_defects)
        assert mid.startswith("<") and mid.endswith(">") and " " not in mid


def test_an_alertmanager_fingerprint_is_kept_readable():
    assert message_ids("3f2c9a1b4d5e6f70")[0].startswith("<alert.3f2c9a1b4d5e6f70.")


def test_a_resolve_whose_firing_email_was_never_sent_replies_to_nothing():
    """Issue 14.14: an alert told only through the pause summary resolved as a reply to its own
    firing Message-ID, which no mail client ever received."""
    resolved = {"status": "resolved", "ends_at": "2026-11-25T01:55:00Z"}
    ctx = alert_context(**resolved)
    ctx["thread_root_sent"] = False
    msg = compose("resolved", ctx, email_config(), now=NOW)
    assert msg["In-Reply-To"] is None and msg["References"] is None
    assert compose("resolved", alert_context(**resolved), email_config(), now=NOW)["In-Reply-To"]
