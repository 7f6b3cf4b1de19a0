"""Adding one push channel to a config file's text, keeping everything else as it was written.

The setup wizard adds (or replaces, by name) one entry under the top-level `channels:` list. The
rest of the file, comments included, is kept byte for byte: the entry is spliced in as lines when
`channels:` is a block list (or absent, or empty); otherwise (a flow list) only the `channels:`
section is rewritten. Either way the result is parsed back and compared with what was meant,
so a file this cannot edit faithfully is refused (ValueError) rather than damaged.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

_TOP_KEY = re.compile(r"^[^\s#-][^:#]*:")  # a top-level mapping key at column 0
_CHANNELS = re.compile(r"^channels\s*:\s*(?P<rest>[^#]*?)\s*(#.*)?$")


def _scalar(value: Any) -> str:
    """A string as YAML reads it back: plain when that is safe, else double-quoted (JSON is YAML);
    `${VAR}` references are always quoted, as the docs write them."""
    if isinstance(value, str) and "$" not in value and re.fullmatch(r"[A-Za-z0-9_.-]+", value) \
            and yaml.safe_load(value) == value:
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return json.dumps(value)


def _entry_lines(entry: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    return [f"{pad}{'- ' if i == 0 else '  '}{key}: {_scalar(value)}"
            for i, (key, value) in enumerate(entry.items())]


def _expected(data: dict[str, Any], entry: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    channels = list(data.get("channels") or [])
    names = [c.get("name") if isinstance(c, dict) else None for c in channels]
    replaced = entry["name"] in names
    if replaced:
        channels[names.index(entry["name"])] = entry
    else:
        channels.append(entry)
    return {**data, "channels": channels}, replaced


def _section(lines: list[str]) -> tuple[int, int] | None:
    """[start, end) of the top-level `channels:` section (its trailing blank and comment lines
    belong to what follows)."""
    start = next((i for i, line in enumerate(lines) if _CHANNELS.match(line)), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and not _TOP_KEY.match(lines[end]) and not lines[end].startswith("---"):
        end += 1
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return start, end


def _splice(lines: list[str], entry: dict[str, Any]) -> list[str]:
    section = _section(lines)
    if section is None:
        tail = [] if not lines or not lines[-1].strip() else [""]
        return [*lines, *tail, "channels:", *_entry_lines(entry, 2)]
    start, end = section
    rest = _CHANNELS.match(lines[start]).group("rest")  # type: ignore[union-attr]
    if rest not in ("", "[]", "null", "~"):
        raise ValueError("not a block list")
    items = [i for i in range(start + 1, end) if re.match(r"^\s*- ", lines[i])]
    indent = len(lines[items[0]]) - len(lines[items[0]].lstrip()) if items else 2
    items = [i for i in items if len(lines[i]) - len(lines[i].lstrip()) == indent]
    new = _entry_lines(entry, indent)
    for n, i in enumerate(items):
        following = items[n + 1] if n + 1 < len(items) else end
        block = "\n".join(line[indent:] if not line[:indent].strip() else line.lstrip()
                          for line in lines[i:following])
        item = yaml.safe_load(block)
        named = isinstance(item, list) and item and isinstance(item[0], dict) and item[0].get("name")
        if named == entry["name"]:
            while following > i + 1 and (not lines[following - 1].strip()
                                         or lines[following - 1].lstrip().startswith("#")):
                following -= 1  # the next entry's comment stays with it
            return [*lines[:i], *new, *lines[following:]]
    return [*lines[:start], "channels:", *lines[start + 1:end], *new, *lines[end:]]


def _rewrite(lines: list[str], channels: list[Any]) -> list[str]:
    section = _section(lines)
    assert section is not None
    start, end = section
    body = yaml.safe_dump({"channels": channels}, default_flow_style=None, sort_keys=False, width=10**6)
    return [*lines[:start], *body.splitlines(), *lines[end:]]


def with_channel(text: str, entry: dict[str, Any]) -> tuple[str, bool]:
    """`text` with `entry` as the channel of its name (replacing one of that name, else appended);
    and whether one was replaced. ValueError when the file is not a mapping or cannot be edited."""
    data = yaml.safe_load(text) if text.strip() else {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("the file does not hold a mapping of sections")
    if not isinstance(data.get("channels") or [], list):
        raise ValueError("`channels:` is not a list")
    want, replaced = _expected(data, entry)
    lines = text.splitlines()
    attempts = [lambda: _splice(lines, entry)]
    if _section(lines) is not None:
        attempts.append(lambda: _rewrite(lines, want["channels"]))
    for attempt in attempts:
        try:
            new = "\n".join(attempt()) + "\n"
            if yaml.safe_load(new) == want:
                return new, replaced
        except (ValueError, yaml.YAMLError):
            continue
    raise ValueError("cannot add to its `channels:` section without changing something else")
