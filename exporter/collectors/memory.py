"""node_memory_*: memory and swap, with node_exporter's meminfo names.

On Linux the collector reads /proc/meminfo itself, as psutil does, once per scrape: psutil's
`cached` adds SReclaimable to Cached (as `free` does), which is not node_exporter's
node_memory_Cached_bytes, and reading the file directly gives every meminfo field
node_exporter exports with exactly its names and values. On other OSes the families come from
psutil's virtual_memory() and swap_memory(), only for the fields that are the same quantity as
the Linux meminfo field of that name; what psutil cannot give there is omitted.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from exporter.families import FamilySpec, gauge
from exporter.metric import Metric

MEMINFO = "/proc/meminfo"
_PARENS = re.compile(r"\((.*)\)")

# meminfo name -> psutil virtual_memory() field, per OS family, where the quantities agree.
VIRTUAL_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "darwin": (("MemTotal", "total"), ("MemAvailable", "available"), ("MemFree", "free"),
               ("Active", "active"), ("Inactive", "inactive")),
    "bsd": (("MemTotal", "total"), ("MemAvailable", "available"), ("MemFree", "free"),
            ("Active", "active"), ("Inactive", "inactive"), ("Buffers", "buffers"),
            ("Cached", "cached")),
    # Windows: psutil's `free` is the same as `available`, so MemFree is not reported.
    "win32": (("MemTotal", "total"), ("MemAvailable", "available")),
    "other": (("MemTotal", "total"), ("MemAvailable", "available"), ("MemFree", "free")),
}
SWAP_FIELDS = (("SwapTotal", "total"), ("SwapFree", "free"))


_SPECS: dict[str, FamilySpec] = {}


def _spec(key: str) -> FamilySpec:
    """The family of meminfo field `key` (e.g. MemTotal_bytes), built once per name."""
    spec = _SPECS.get(key)
    if spec is None:
        if len(_SPECS) > 1024:  # meminfo has ~60 fields; never let a strange file grow this
            _SPECS.clear()
        spec = _SPECS[key] = gauge(f"node_memory_{key}", f"Memory information field {key}.")
    return spec


def parse_meminfo(text: str) -> list[tuple[str, float]]:
    """node_exporter's parseMemInfo: `Active(anon): 12 kB` -> (`Active_anon_bytes`, 12288)."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        key = parts[0].rstrip(":")
        if "(" in key:
            key = _PARENS.sub(r"_\1", key)
        try:
            value = float(parts[1])
        except ValueError:
            continue
        if len(parts) == 3:  # a unit: always kB
            value *= 1024
            key += "_bytes"
        out.append((key, value))
    return out


def os_family(platform: str) -> str:
    if platform == "darwin" or platform == "win32":
        return platform
    if "bsd" in platform:
        return "bsd"
    return "other"


class MemoryCollector:
    name = "memory"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, ps: Any = psutil, meminfo: str | None = None, platform: str = sys.platform):
        self.ps = ps
        self.meminfo = meminfo
        self.fields = VIRTUAL_FIELDS[os_family(platform)]

    def collect(self) -> Iterator[Metric]:
        if self.meminfo is not None:
            with open(self.meminfo, encoding="ascii", errors="replace") as fh:
                text = fh.read()
            for key, value in parse_meminfo(text):
                yield _spec(key).value(value)
            return
        vm = self.ps.virtual_memory()
        for key, field in self.fields:
            value = getattr(vm, field, None)
            if value is not None:
                yield _spec(f"{key}_bytes").value(value)
        swap = self.ps.swap_memory()
        for key, field in SWAP_FIELDS:
            yield _spec(f"{key}_bytes").value(getattr(swap, field))


def build(config: Any) -> MemoryCollector:
    linux = sys.platform.startswith("linux") and Path(MEMINFO).exists()
    return MemoryCollector(meminfo=MEMINFO if linux else None)
