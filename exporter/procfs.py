"""Reading /proc and /sys for the Linux collectors: each file whole, in one read, per scrape.

A thin I/O edge: the collectors' parsers are pure functions over the text. `open()`'s own
OSError names the file (missing, unreadable); `FormatError` names it for text that does not
parse, so a failing collector's one log line always says which file.
"""

from __future__ import annotations

import os

from exporter.collector import FormatError

PROC = "/proc"
SYS = "/sys"


def read_text(path: str) -> str:
    """The whole file; /proc files are generated per read, so one read is one snapshot."""
    with open(path, encoding="ascii", errors="replace") as fh:
        return fh.read()


def read_uint(path: str) -> int:
    """A file holding one unsigned integer (procfs's ReadUintFromFile)."""
    text = read_text(path).strip()
    if not text.isdigit():
        raise FormatError(path, f"expected an unsigned integer, got {text[:40]!r}")
    return int(text)


def join(root: str, *parts: str) -> str:
    return os.path.join(root, *parts)
