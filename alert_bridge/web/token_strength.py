"""How strong a configured secret is: a pure estimate, so a weak token is refused before it is used.

A bridge reachable beyond loopback is guessed at over the network, so its API token must carry at
least 128 bits: `secrets.token_urlsafe(32)` (43 random URL-safe characters), as `tradewatch setup`
and the stack generate, always passes. The estimate is length x log2(the alphabet the value draws
from), capped by how many distinct characters it has, so "aaaa..." or a short word fails. It only
sees the character classes present, so a 22-character `token_urlsafe(16)` that happens to hold no
digit, `-` or `_` (about 1 in 60) is estimated at 125 bits and refused: recommend 43 characters.
"""

from __future__ import annotations

import math
import string

TOKEN_MIN_BITS = 128
PASSWORD_MIN_LENGTH = 12

_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)


def estimated_bits(value: str) -> float:
    """Upper bound on the entropy of `value` as if drawn at random from its character classes."""
    if not value:
        return 0.0
    pool = sum(len(c) for c in _CLASSES if any(ch in c for ch in value))
    if any(not any(ch in c for c in _CLASSES) for ch in value):
        pool += 33  # punctuation and anything else
    per_char = math.log2(pool)
    distinct = len(set(value))
    return min(len(value) * per_char, distinct * per_char * 2)


def token_problem(value: str) -> str | None:
    """Why `value` is too weak to guard a bridge beyond loopback, or None when it is strong enough."""
    if value != value.strip():
        return "it starts or ends with white space"
    bits = estimated_bits(value)
    if bits < TOKEN_MIN_BITS:
        return (f"it carries about {bits:.0f} bits, at least {TOKEN_MIN_BITS} are needed "
                "(e.g. 43 random URL-safe characters: python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))')")
    return None


def password_problem(value: str) -> str | None:
    """Why a dashboard password is too weak beyond loopback (guessing is also throttled)."""
    if not value.strip():
        return "it is blank"
    if len(value) < PASSWORD_MIN_LENGTH or len(set(value)) < 6:
        return f"use at least {PASSWORD_MIN_LENGTH} characters, not one repeated"
    return None
