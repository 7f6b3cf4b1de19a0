"""The bridge's log output: one line per record, whatever the values from outside contain.

Alert labels, annotations, request paths and SMTP answers reach the log. A CR/LF in them would
forge log lines, and an ESC would drive the reader's terminal, so every control character of a
record's message is written as an escape (`\\n`, `\\x1b`, ...). Tracebacks keep their lines.
"""

from __future__ import annotations

import logging

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
ESCAPES = {
    code: _NAMED.get(chr(code), f"\\x{code:02x}") for code in (*range(0x20), *range(0x7F, 0xA0))
} | {0x2028: "\\u2028", 0x2029: "\\u2029"}


def escape(text: str) -> str:
    """`text` with every control character (C0, DEL, C1, line/paragraph separators) escaped."""
    return text.translate(ESCAPES)


class OneLineFormatter(logging.Formatter):
    """A Formatter whose message part is escaped, so one record is one line of plain text."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        return super().formatMessage(record)


def configure(level: str | int, fmt: str) -> None:
    """Log to stderr at `level` with `fmt`, through the escaping formatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler])
