"""node_filefd_allocated and node_filefd_maximum: /proc/sys/fs/file-nr (allocated, unused,
maximum; tab-separated), as node_exporter's filefd collector."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from exporter.collector import FormatError
from exporter.families import gauge
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_text

ALLOCATED = gauge("node_filefd_allocated", "File descriptor statistics: allocated.")
MAXIMUM = gauge("node_filefd_maximum", "File descriptor statistics: maximum.")


def parse_file_nr(text: str) -> tuple[float, float]:
    """(allocated, maximum). Raises ValueError for fewer than 3 fields or a non-number."""
    parts = text.strip().split("\t")
    if len(parts) < 3:
        raise ValueError(f"unexpected number of file stats: {text.strip()[:60]!r}")
    return float(parts[0]), float(parts[2])


class FilefdCollector:
    name = "filefd"
    inline = True  # reads a kernel counter only: run in the request thread (see exporter.scrape)

    def __init__(self, proc: str = PROC):
        self.path = join(proc, "sys", "fs", "file-nr")

    def collect(self) -> Iterator[Metric]:
        try:
            allocated, maximum = parse_file_nr(read_text(self.path))
        except ValueError as exc:
            raise FormatError(self.path, str(exc)) from None
        yield ALLOCATED.value(allocated)
        yield MAXIMUM.value(maximum)


def build(config: Any) -> FilefdCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    return FilefdCollector(config.exporter.collectors.path_procfs)
