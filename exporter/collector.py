"""The collector contract: what a collector is, how it is registered, how it fails.

Like node_exporter, each collector is one module under `exporter/collectors/`; unlike
node_exporter's `init()` registration, the table of collectors is written out in one place,
`exporter/collectors/__init__.py`, so what the exporter can run is visible without importing
anything for its side effects. The exporter builds the enabled ones from flags and config and
runs them on every scrape, each under a time limit, emitting
`tradewatch_scrape_collector_success` / `..._duration_seconds` (and node_exporter's
`node_scrape_collector_*` for the collectors that are node_exporter's), so a failing or hanging
collector costs its own series and never the scrape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from exporter.metric import Metric

if TYPE_CHECKING:
    from tradewatch.config import Config


class Collector(Protocol):
    """Stateless apart from what it was built with: `collect()` yields metric families.

    Optional attributes the runner (`exporter.scrape`) reads: `timeout` (seconds, instead of the
    default per-collector limit; such a collector gets a pool thread of its own) and
    `inline = True` for a collector that never waits on anything that can hang (kernel counters):
    it runs in the scraping thread itself, with no thread hand-off.

    A collector that raises fails (success 0); the families it yielded before raising are still
    served, as node_exporter serves what a failing collector sent before its error.
    """

    name: str

    def collect(self) -> Iterable[Metric]: ...


Factory = Callable[["Config"], Collector | None]
"""Builds a collector from the config; returns None when there is nothing to collect
(no probes configured, no textfile directory, a Linux-only source elsewhere), so unused
sources cost nothing."""


@dataclass(frozen=True)
class Registration:
    name: str
    factory: Factory
    default_enabled: bool = True
    help: str = ""
    node_name: str | None = None
    """The node_exporter collector this one stands in for (`memory` is node_exporter's
    `meminfo`): it also gets node_scrape_collector_* series under that name. None for
    TradeWatch's own collectors (probes, process)."""


class NoData(Exception):
    """The source does not exist on this host (no PSI, no conntrack module): node_exporter's
    ErrNoData. The collector's success is 0, logged at debug level only."""


class FormatError(ValueError):
    """A file that is there but not in the format expected (truncated, a field missing or not
    a number): the message names the file."""

    def __init__(self, path: str, detail: str):
        super().__init__(f"{path}: {detail}")
        self.path = path
