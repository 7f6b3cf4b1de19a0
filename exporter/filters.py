"""Include/exclude regular expressions for mount points, fs types and device names.

node_exporter semantics: a name is kept when it matches the include pattern (if one is set)
and does not match the exclude pattern. Patterns are compiled once at start-up, never per scrape.
"""

from __future__ import annotations

import re


class NameFilter:
    __slots__ = ("_exclude", "_include")

    def __init__(self, include: str = "", exclude: str = ""):
        self._include = re.compile(include) if include else None
        self._exclude = re.compile(exclude) if exclude else None

    def __call__(self, name: str) -> bool:
        if self._include is not None and not self._include.search(name):
            return False
        return not (self._exclude is not None and self._exclude.search(name))
