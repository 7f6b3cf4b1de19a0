"""Generated files: what each should hold, compared with the disk or written to it.

A generator is a function returning `Files`, {path: wanted text, or None for a file it used to
produce that must go}. Comparing and writing live here once, so `tradewatch generate`,
`tradewatch rules` and the old per-generator commands report and fix drift the same way.
"""

from __future__ import annotations

import difflib
from pathlib import Path

Files = dict[Path, str | None]


def on_disk(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def stale(files: Files) -> list[Path]:
    """The paths whose disk state is not the wanted one, in the generator's order."""
    return [path for path, text in files.items() if on_disk(path) != text]


def describe(shown: str, old: str | None, new: str | None, sample: int = 6) -> str:
    """One stale file, phrased for a person: missing, no longer generated, or the changed lines."""
    if old is None:
        return f"missing: {shown}"
    if new is None:
        return f"not generated any more (stale): {shown}"
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    changed = [d for d in diff if d[:1] in "+-" and not d.startswith(("+++", "---"))]
    lines = "\n".join(f"      {d}" for d in changed[:sample])
    more = f"\n      ... {len(changed) - sample} more changed lines" if len(changed) > sample else ""
    return f"differs: {shown} ({len(changed)} lines)\n{lines}{more}"


def write(files: Files) -> list[Path]:
    """Bring the disk to the wanted state; returns the paths written or removed."""
    changed = stale(files)
    for path in changed:
        text = files[path]
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return changed
