"""How the operator runs TradeWatch's commands, spelled so that what we print can be pasted.

A checkout's `.venv/bin` is not on anyone's PATH, so a banner or an error message that says "run
`tradewatch setup`" fails with "command not found". Everything that prints a command asks here:
in a checkout whose virtual environment runs this code the command is `.venv/bin/tradewatch`
(relative: paste it from the checkout, where `bash deploy/run-stack.sh` and the docs say to be);
installed elsewhere it is `tradewatch` when that is the one on PATH, else its absolute path.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from tradewatch.paths import CHECKOUT
from tradewatch.stack_layout import DEFAULT_DIR, Layout

STACK_SCRIPT = "bash deploy/run-stack.sh"  # the checkout's stack runner (it cds to the checkout)


def tradewatch_program(checkout: Path | None = CHECKOUT, executable: str = sys.executable,
                       which: Callable[[str], str | None] = shutil.which) -> str:
    """The shortest spelling of the `tradewatch` command that works when pasted (from the checkout)."""
    bindir = Path(os.path.abspath(executable)).parent  # not resolved: a venv's python is a symlink
    script = bindir / "tradewatch"
    if not script.exists():  # run as `python -m` without the console script installed
        return f"{_relative(bindir / Path(executable).name, checkout)} -m tradewatch.cli"
    if checkout is not None and _inside(script, checkout):
        return _relative(script, checkout)
    found = which("tradewatch")
    if found and os.path.samefile(found, script):
        return "tradewatch"
    return shlex.quote(str(script))


def tradewatch_command(args: str, **kw: object) -> str:
    """`tradewatch ARGS` as the operator should type it, e.g. `.venv/bin/tradewatch setup`."""
    return f"{tradewatch_program(**kw)} {args}".rstrip()  # type: ignore[arg-type]


def stack_command(action: str = "", *, layout: Layout | None = None, checkout: Path | None = CHECKOUT) -> str:
    """The local stack's command: the checkout's runner script, else `tradewatch stack`; with
    `--dir` when the stack is not in its default folder."""
    base = STACK_SCRIPT if checkout is not None else tradewatch_command("stack", checkout=checkout)
    where = ""
    if layout is not None and layout.root != DEFAULT_DIR.resolve():
        where = f" --dir {shlex.quote(str(layout.root))}"
    return f"{base} {action}".rstrip() + where


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _relative(path: Path, checkout: Path | None) -> str:
    if checkout is not None and _inside(path, checkout):
        return str(path.relative_to(checkout))
    return shlex.quote(str(path))
