"""Running `tradewatch setup` under test: an environment without the caller's TradeWatch settings,
and a pexpect log sink that keeps the transcript."""

from __future__ import annotations

import os

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
