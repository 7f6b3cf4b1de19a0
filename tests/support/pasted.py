"""Commands as an operator pastes them: found in printed text, run from a fresh shell in the checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.procs import REPO

# what a new operator's shell has: no virtual environment on PATH, no TradeWatch variables
FRESH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_PROGRAMS = ("bash deploy/run-stack.sh", ".venv/bin/", "tradewatch ", "/")
_SPAN = re.compile(r"`([^`\n]+)`")


def printed_commands(text: str) -> list[str]:
    """Commands in printed text: `backticked` spans and banner rows whose value is a command."""
    found = [m.group(1) for m in _SPAN.finditer(text)]
    for line in text.splitlines():
        row = re.match(r"^  (\S+(?: \S+)?)\s{2,}(.+)$", line)
        if row and row.group(2).startswith(_PROGRAMS[:3]):
            found.append(row.group(2).strip())
    return [c for c in found if c.startswith(_PROGRAMS)]


def pasted(command: str, home: Path, *, suffix: str = " --help") -> subprocess.CompletedProcess[str]:
    """Run `command` + `suffix` in `bash -c` (no profile, no rc) in the checkout, PATH without .venv."""
    env = {"HOME": str(home), "PATH": FRESH_PATH, "LANG": "C.UTF-8"}
    return subprocess.run(["bash", "--noprofile", "--norc", "-c", command + suffix], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
