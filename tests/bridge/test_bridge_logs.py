"""Log injection (issue 13.5): values from outside never forge a log line or reach the terminal raw."""

from __future__ import annotations

import logging

import pytest

from alert_bridge.logs import OneLineFormatter, escape
from tests.support.bridge import alert, bridge_process, config_data, webhook
from tests.support.procs import wait_until

HOSTILE = "Evil\r\n2026-12-05 06:00:00,000 ERROR alert_bridge.auth: FORGED\x1b[2J\x1b]0;owned\x07\u2028x"


def test_escape_turns_every_control_character_into_text():
    out = escape(HOSTILE)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out and "\x07" not in out
    assert "\u2028" not in out
    assert "Evil\\r\\n2026" in out and "\\x1b[2J" in out and "\\x07" in out
    assert escape("plain ünïcode text") == "plain ünïcode text"


def test_the_formatter_escapes_the_message_and_its_arguments_but_keeps_tracebacks():
    fmt = OneLineFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "alert %s", (HOSTILE,), None)
    line = fmt.format(record)
    assert "\n" not in line and "\x1b" not in line
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "Traceback (most recent call last):\n" in fmt.format(record)


@pytest.mark.integration
def test_hostile_labels_stay_on_one_log_line_of_the_real_bridge(tmp_path):
    with bridge_process(tmp_path, config_data(tmp_path)) as bridge:
        hostile = alert(HOSTILE, severity="info", instance=HOSTILE)
        status, body = bridge.request("POST", "/api/monitoring/webhook", webhook(hostile))
        assert status == 200, body
        wait_until(lambda: "Evil" in bridge.proc.log.read_text(), 10, what="the alert logged")
        log = bridge.proc.log.read_text()
    assert "\x1b" not in log and "\x07" not in log and "\u2028" not in log
    forged = [line for line in log.splitlines() if line.startswith("2026-12-05 06:00:00,000")]
    assert forged == [], forged
    assert "Evil\\r\\n2026-12-05" in log
