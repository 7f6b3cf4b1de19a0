"""node_vmstat_*: /proc/vmstat fields matching node_exporter's field pattern, untyped, as
node_exporter's vmstat collector (default `^(oom_kill|pgpg|pswp|pg.*fault).*`)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

from exporter.collector import FormatError
from exporter.families import SpecCache
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_text

DEFAULT_FIELDS = r"^(oom_kill|pgpg|pswp|pg.*fault).*"
SPECS = SpecCache("node_vmstat_", "/proc/vmstat information field {}.", "untyped")


class VmstatCollector:
    name = "vmstat"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, proc: str = PROC, fields: str = DEFAULT_FIELDS):
        self.path = join(proc, "vmstat")
        self.pattern = re.compile(fields)
        self._wanted: dict[str, bool] = {}  # field -> matches: the pattern runs once per field name

    def _want(self, key: str) -> bool:
        want = self._wanted.get(key)
        if want is None:
            if len(self._wanted) > 4096:
                self._wanted.clear()
            want = self._wanted[key] = self.pattern.search(key) is not None
        return want

    def collect(self) -> Iterator[Metric]:
        text = read_text(self.path)
        for line in text.splitlines():
            parts = line.split()
            if len(parts) != 2:
                if not parts:
                    continue
                raise FormatError(self.path, f"expected `name value`, got {line[:60]!r}")
            key = parts[0]
            if not self._want(key):
                continue
            try:
                value = float(parts[1])
            except ValueError:
                raise FormatError(self.path, f"{key}: not a number: {parts[1][:40]!r}") from None
            yield SPECS.get(key).value(value)


def build(config: Any) -> VmstatCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    s = config.exporter.collectors
    return VmstatCollector(s.path_procfs, s.vmstat_fields)
