"""Escalation policy: every severity x state (pure decision logic)."""

from __future__ import annotations

import pytest

from alert_bridge.alerts.escalation import Action, Pause, decide, recipients
from tradewatch.vocabulary import effective_severity

NOW = 10_000.0
REPEAT = 900.0
PAUSE = Pause(include_emergencies=False)
PAUSE_ALL = Pause(include_emergencies=True)


@pytest.mark.parametrize(
    ("severity", "status", "pause", "expected", "kind", "escalate"),
    [
        ("info", "firing", None, Action.STORE, None, False),
        ("info", "resolved", None, Action.STORE, None, False),
        ("info", "firing", PAUSE, Action.STORE, None, False),
        ("info", "firing", PAUSE_ALL, Action.STORE, None, False),
        ("warning", "firing", None, Action.REPORT, None, False),
        ("warning", "resolved", None, Action.REPORT, None, False),
        ("warning", "firing", PAUSE, Action.REPORT, None, False),
        ("warning", "firing", PAUSE_ALL, Action.REPORT, None, False),
        ("critical", "firing", None, Action.EMAIL, "firing", False),
        ("critical", "resolved", None, Action.EMAIL, "resolved", False),
        ("critical", "firing", PAUSE, Action.HOLD, None, False),
        ("critical", "resolved", PAUSE, Action.HOLD, None, False),
        ("critical", "firing", PAUSE_ALL, Action.HOLD, None, False),
        ("emergency", "firing", None, Action.EMAIL, "firing", True),
        ("emergency", "resolved", None, Action.EMAIL, "resolved", True),
        ("emergency", "firing", PAUSE, Action.EMAIL, "firing", True),
        ("emergency", "resolved", PAUSE, Action.EMAIL, "resolved", True),
        ("emergency", "firing", PAUSE_ALL, Action.HOLD, None, False),
        ("emergency", "resolved", PAUSE_ALL, Action.HOLD, None, False),
    ],
)
def test_webhook_decisions(severity, status, pause, expected, kind, escalate):
    d = decide(severity, status, trigger="webhook", pause=pause)
    assert d.action is expected, d.reason
    assert d.kind == kind
    assert d.escalate is escalate


@pytest.mark.parametrize("severity", ["info", "warning", "critical", "emergency"])
def test_ack_does_not_suppress_the_first_email_or_resolve(severity):
    # an ack stops repeats, not the resolved email
    plain = decide(severity, "resolved", trigger="webhook")
    acked = decide(severity, "resolved", trigger="webhook", acked=True)
    assert plain == acked


@pytest.mark.parametrize(
    ("severity", "status", "pause", "acked", "last", "expected"),
    [
        # repeat due
        ("emergency", "firing", None, False, NOW - REPEAT, Action.EMAIL),
        ("emergency", "firing", None, False, NOW - REPEAT - 1, Action.EMAIL),
        # not due yet
        ("emergency", "firing", None, False, NOW - REPEAT + 1, Action.NONE),
        # never notified (held through a pause): due now
        ("emergency", "firing", None, False, None, Action.EMAIL),
        # acked or resolved: never again
        ("emergency", "firing", None, True, NOW - 10 * REPEAT, Action.NONE),
        ("emergency", "resolved", None, False, NOW - 10 * REPEAT, Action.NONE),
        # a plain pause does not mute emergencies; one that includes them does
        ("emergency", "firing", PAUSE, False, NOW - REPEAT, Action.EMAIL),
        ("emergency", "firing", PAUSE_ALL, False, NOW - REPEAT, Action.HOLD),
        ("emergency", "firing", PAUSE_ALL, True, NOW - REPEAT, Action.NONE),
        # other severities never repeat
        ("critical", "firing", None, False, NOW - 10 * REPEAT, Action.NONE),
        ("warning", "firing", None, False, NOW - 10 * REPEAT, Action.NONE),
        ("info", "firing", None, False, None, Action.NONE),
    ],
)
def test_repeat_decisions(severity, status, pause, acked, last, expected):
    d = decide(
        severity,
        status,
        trigger="tick",
        pause=pause,
        acked=acked,
        last_notified_at=last,
        now=NOW,
        repeat_seconds=REPEAT,
    )
    assert d.action is expected, d.reason
    if expected is Action.EMAIL:
        assert d.kind == "emergency_repeat"
        assert d.escalate


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("info", ("info", False)),
        ("warning", ("warning", False)),
        ("critical", ("critical", False)),
        ("emergency", ("emergency", False)),
        (" Critical ", ("critical", False)),
        (None, ("critical", True)),
        ("", ("critical", True)),
        ("page", ("critical", True)),
        ("sev1", ("critical", True)),
    ],
)
def test_unknown_severity_is_assumed_critical(label, expected):
    assert effective_severity(label) == expected


def test_assumed_critical_is_emailed():
    severity, assumed = effective_severity("bogus")
    assert assumed
    assert decide(severity, "firing", trigger="webhook").action is Action.EMAIL


def test_recipients_add_escalation_without_duplicates():
    to, esc = ["ops@x.io", "a@x.io"], ["boss@x.io", "ops@x.io"]
    assert recipients(to, esc, False) == ["ops@x.io", "a@x.io"]
    assert recipients(to, esc, True) == ["ops@x.io", "a@x.io", "boss@x.io"]


@pytest.mark.parametrize("severity", ["critical", "emergency"])
def test_a_resolve_nobody_was_told_about_is_stored_not_emailed(severity):
    quiet = decide(severity, "resolved", trigger="webhook", told_firing=False)
    assert quiet.action is Action.STORE and "never notified" in quiet.reason
    told = decide(severity, "resolved", trigger="webhook", told_firing=True)
    assert told.action is Action.EMAIL and told.kind == "resolved"
