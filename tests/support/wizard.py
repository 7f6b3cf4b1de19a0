"""Running `tradewatch setup` under test: an environment without the caller's TradeWatch settings,
and a pexpect log sink that keeps the transcript."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pexpect

NO_STACK = "/nonexistent/tradewatch-stack"  # a stack the checkout may hold is not a test's business


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without SMTP_*, TRADEWATCH_*, FROM_EMAIL, ALERT_EMAIL, pointing at no stack."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SMTP_", "TRADEWATCH_")) and k not in ("FROM_EMAIL", "ALERT_EMAIL")}
    return {**env, "TRADEWATCH_STACK_DIR": NO_STACK, **extra}


class Transcript:
    """pexpect's `logfile_read`: collects what the terminal showed."""

    def __init__(self, sink: list[str]):
        self.sink = sink

    def write(self, data: str) -> None:
        self.sink.append(data)

    def flush(self) -> None:
        pass


def file_sink_answers(child: Any, link: str) -> None:
    """Answer the wizard (a pexpect child) for the file sink: tw@example.com to ops@example.com,
    `link` as the dashboard address, and yes to the test email."""
    child.expect("Email provider")
    child.sendline("4")  # none: the file sink
    child.expect(r"Sender address \[tradewatch@localhost\]")
    child.sendline("tw@example.com")
    child.expect("Alert recipients")
    child.sendline("ops@example.com")
    child.expect("Dashboard address for links in emails")
    child.sendline(link)
    child.expect(r"Send a test email now\? \[Y/n\]")
    child.sendline("")


def no_channel(child: Any) -> None:
    """Say no to the push-channel question that follows the email settings."""
    child.expect(r"Add a push channel .*\? \[y/N\]")
    child.sendline("")


def answer_and_apply(child: Any, link: str, outbox: Path) -> None:
    """The file-sink answers and no channel for a stack that is running, then yes to applying the
    settings; returns at the wizard's end of output."""
    file_sink_answers(child, link)
    child.expect(f"Test email sent: written to {outbox}")
    no_channel(child)
    child.expect(r"is running\. Apply the new settings now \(restarts its exporter and bridge\)\? ")
    child.sendline("y")
    child.expect("Applied: restarted exporter and bridge with the new settings")
    child.expect(pexpect.EOF)
