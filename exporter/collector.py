"""The collector contract and the registry collectors add themselves to.

Like node_exporter, each collector is one module under `exporter/collectors/` that registers a
factory by name at import time; the exporter builds the enabled ones from flags and config and
runs them concurrently on every scrape, each under a time limit, emitting
`tradewatch_scrape_collector_success` / `..._duration_seconds` so a failing or hanging collector
costs its own series and never the scrape.
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
    """

    name: str

    def collect(self) -> Iterable[Metric]: ...


Factory = Callable[["Config"], Collector | None]
"""Builds a collector from the config; returns None when there is nothing to collect
(no probes configured, no textfile directory), so unused sources cost nothing."""


@dataclass(frozen=True)
class Registration:
    name: str
    factory: Factory
    default_enabled: bool
    help: str


REGISTRY: dict[str, Registration] = {}


def register(name: str, *, default_enabled: bool = True, help: str = "") -> Callable[[Factory], Factory]:
    """Decorator for a collector factory: `@register("cpu", help="...")`."""

    def deco(factory: Factory) -> Factory:
        if name in REGISTRY:
            raise ValueError(f"collector {name!r} registered twice")
        REGISTRY[name] = Registration(name, factory, default_enabled, help)
        return factory

    return deco
