"""node_exporter's textfile collector: `*.prom` files from one directory, merged into the scrape.

Cron jobs and bots (see exporter/trading.py `write_textfile`) drop metrics here, written
atomically (temp file + rename). Semantics follow node_exporter: files are read in name order,
parsed with prometheus_client's text parser, families of the same name merged across files;
a file that cannot be read or parsed, carries client-side timestamps, or conflicts with an
earlier file (another type or help text for a family, a repeated series) is skipped as a
whole and sets `node_textfile_scrape_error` (node_exporter's name, which the node-mixin's
NodeTextFileCollectorScrapeError alert reads) and `tradewatch_textfile_scrape_error` to 1, while
the other files are still served. `tradewatch_textfile_mtime_seconds{file}` gives each file's
modification time, so a stale writer can be alerted on.

Without a directory the collector still runs, as node_exporter 1.5's does with its empty
default, and serves only `node_textfile_scrape_error 0`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from exporter.families import gauge
from exporter.metric import Metric
from tradewatch import metric_names as names

if TYPE_CHECKING:  # the strict config (pydantic) is loaded only when a config file is used
    from tradewatch.config import Config

log = logging.getLogger("exporter.textfile")

MTIME = gauge(names.TEXTFILE_MTIME, "Unixtime mtime of textfiles successfully read.", ("file",))
SCRAPE_ERROR = gauge(names.TEXTFILE_SCRAPE_ERROR,
                     "1 if there was an error opening, reading or merging a file, 0 otherwise.")
NODE_SCRAPE_ERROR = gauge("node_textfile_scrape_error",
                          "1 if there was an error opening or reading a file, 0 otherwise")

SeriesKey = tuple[str, frozenset[tuple[str, str]]]


class TextfileError(Exception):
    """This file is skipped; the message says why."""


def parse(text: str, file: str) -> list[Metric]:
    """Families of one file, with the parser's split families of one name joined back."""
    from prometheus_client.parser import text_string_to_metric_families  # only with a textfile directory

    try:
        parsed = list(text_string_to_metric_families(text))
    except Exception as exc:  # the parser raises ValueError, IndexError... on bad input
        raise TextfileError(f"cannot parse {file}: {exc}") from None
    families: dict[str, Metric] = {}
    for fam in parsed:
        if any(s.timestamp is not None for s in fam.samples):
            raise TextfileError(f"{file} contains unsupported client-side timestamps, skipping entire file")
        have = families.get(fam.name)
        if have is None:
            families[fam.name] = fam
            continue
        _check_compatible(have, fam, file)
        _absorb(have, fam)
    return [f for f in families.values() if f.samples]


def _check_compatible(have: Metric, new: Metric, file: str) -> None:
    if have.type != "unknown" and new.type != "unknown" and have.type != new.type:
        raise TextfileError(
            f"{file}: metric {new.name} has type {new.type}, but {have.type} elsewhere"
        )
    if have.documentation and new.documentation and have.documentation != new.documentation:
        raise TextfileError(
            f"{file}: metric {new.name} has help {new.documentation!r}, but {have.documentation!r} elsewhere"
        )


def _absorb(have: Metric, new: Metric) -> None:
    if have.type == "unknown":
        have.type = new.type
    have.documentation = have.documentation or new.documentation
    have.samples.extend(new.samples)


def merge(merged: dict[str, Metric], series: set[SeriesKey], families: Iterable[Metric], file: str) -> None:
    """Add one file's families to `merged`, all or nothing."""
    families = list(families)
    new_series: set[SeriesKey] = set()
    for fam in families:
        if fam.name in merged:
            _check_compatible(merged[fam.name], fam, file)
        for s in fam.samples:
            key = (s.name, frozenset(s.labels.items()))
            if key in series or key in new_series:
                raise TextfileError(f"{file}: series {s.name}{s.labels} is repeated")
            new_series.add(key)
    for fam in families:
        if fam.name in merged:
            _absorb(merged[fam.name], fam)
        else:
            merged[fam.name] = Metric(fam.name, fam.documentation, fam.type, fam.unit)
            merged[fam.name].samples = list(fam.samples)
    series |= new_series


def read(path: Path) -> tuple[list[Metric], float]:
    """(families, mtime) of one file."""
    try:
        with open(path, encoding="utf-8") as fh:
            mtime = os.fstat(fh.fileno()).st_mtime
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise TextfileError(f"cannot read {path}: {exc}") from None
    return parse(text, str(path)), mtime


class TextfileCollector:
    name = "textfile"

    def __init__(self, directory: Path | None):
        self.directory = directory
        # with no directory there is nothing that can hang: run in the request thread
        self.inline = directory is None

    def collect(self) -> Iterator[Metric]:
        if self.directory is None:
            yield NODE_SCRAPE_ERROR.value(0.0)
            return
        merged: dict[str, Metric] = {}
        series: set[SeriesKey] = set()
        mtimes: dict[str, float] = {}
        error = False
        try:
            paths = sorted(p for p in self.directory.iterdir() if p.name.endswith(".prom"))
        except OSError as exc:
            log.error("textfile: cannot read directory %s: %s", self.directory, exc)
            paths, error = [], True
        for path in paths:
            try:
                families, mtime = read(path)
                merge(merged, series, families, str(path))
            except TextfileError as exc:
                log.error("textfile: %s", exc)
                error = True
                continue
            mtimes[str(path)] = mtime
        yield from merged.values()
        mtime_family = MTIME.new()
        for file, mtime in mtimes.items():
            MTIME.add(mtime_family, (file,), mtime)
        yield mtime_family
        yield SCRAPE_ERROR.value(1.0 if error else 0.0)
        yield NODE_SCRAPE_ERROR.value(1.0 if error else 0.0)


def build(config: Config) -> TextfileCollector:
    """Always built: without a directory it serves node_textfile_scrape_error 0, as node_exporter."""
    return TextfileCollector(config.exporter.collectors.textfile_directory)
