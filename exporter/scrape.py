"""Run the enabled collectors concurrently on every scrape, each under its own time limit.

This is node_exporter's model: every collector reports
`tradewatch_scrape_collector_success{collector}` and `..._duration_seconds{collector}`, and
those that stand in for a node_exporter collector also node_exporter's
`node_scrape_collector_success{collector}` / `..._duration_seconds` under node_exporter's
collector name; one that raises or overruns its limit gets success 0 and costs only its own
series (what it yielded before raising is served, as node_exporter does). Collectors run on a
small persistent pool of daemon threads. A collector still hanging from an earlier scrape is not
started again (success 0 until it returns), so a hung one holds at most one thread.

`ScrapeCollector` has a prometheus_client custom collector's shape (`collect()`, `describe()`),
so tests can hand it to the client's registry and encoders; the exporter itself serves it with
`exporter.exposition` and never imports the client.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from exporter.collector import Collector, NoData, Registration
from exporter.families import gauge
from exporter.metric import Metric
from exporter.workers import Lane, WorkerPool, run_into
from tradewatch import metric_names as names

log = logging.getLogger(__name__)

SUCCESS = gauge(names.COLLECTOR_SUCCESS, "Whether a collector succeeded.", ("collector",))
DURATION = gauge(names.COLLECTOR_DURATION, "Duration of a collector scrape.", ("collector",))
NODE_SUCCESS = gauge("node_scrape_collector_success", "node_exporter: Whether a collector succeeded.",
                     ("collector",))
NODE_DURATION = gauge("node_scrape_collector_duration_seconds",
                      "node_exporter: Duration of a collector scrape.", ("collector",))
BUILD_INFO = gauge(names.EXPORTER_BUILD_INFO,
                   "A metric with a constant '1' value labeled by the exporter's version.", ("version",))


def exporter_version() -> str:
    from exporter import __version__

    return __version__


def enabled_names(
    registrations: Mapping[str, Registration],
    config_enabled: Mapping[str, bool],
    flags: Mapping[str, bool],
    *,
    disable_defaults: bool = False,
) -> list[str]:
    """Which collectors to build: a flag beats the config, which beats the default.

    `disable_defaults` (node_exporter's --collector.disable-defaults) turns every collector off
    unless a flag or the config enables it.
    """
    out = []
    for name, reg in registrations.items():
        on = False if disable_defaults else reg.default_enabled
        if name in config_enabled:
            on = config_enabled[name]
        if name in flags:
            on = flags[name]
        if on:
            out.append(name)
    return out


def registry() -> Mapping[str, Registration]:
    """The table of collectors (`exporter.collectors.REGISTRY`), imported when first needed."""
    from exporter.collectors import REGISTRY

    return REGISTRY


def node_names(registrations: Mapping[str, Registration]) -> dict[str, str]:
    """Our collector name -> node_exporter's, for those that are node_exporter's."""
    return {n: r.node_name for n, r in registrations.items() if r.node_name}


def build_collectors(config: Any, enabled: Iterable[str],
                     registrations: Mapping[str, Registration] | None = None) -> list[Collector]:
    """Call each enabled factory; None (nothing configured) means no collector and no series."""
    registrations = registry() if registrations is None else registrations
    built = []
    for name in enabled:
        collector = registrations[name].factory(config)
        if collector is not None:
            built.append(collector)
    return built


Result = tuple[list[Metric], float, BaseException | None]

LANE_PATIENCE = 0.2
"""Seconds a collector in the shared lane may take before the ones queued behind it are handed
to threads of their own."""


def _run(collector: Collector) -> Result:
    """Families, seconds taken, and the exception that ended the run early (None: success).

    The families yielded before an exception are kept: node_exporter serves what a collector
    sent before it failed (conntrack's entries when its statistics file is missing)."""
    t0 = time.perf_counter()
    families: list[Metric] = []
    error: BaseException | None = None
    try:
        for family in collector.collect():
            families.append(family)
    except Exception as exc:
        error = exc
    return families, time.perf_counter() - t0, error


class _FamilyMerger:
    """One family per name, as node_exporter's gatherer does: collectors may each emit samples
    of the same family (the probe kinds all emit tradewatch_probe_success), and the exposition
    format allows a family's HELP and TYPE only once."""

    def __init__(self) -> None:
        self._by_name: dict[str, Metric] = {}
        self._copied: set[str] = set()

    def add(self, family: Metric, collector: str) -> None:
        first = self._by_name.get(family.name)
        if first is None:
            self._by_name[family.name] = family
            return
        if first.type != family.type:
            log.warning("collector %s: %s is a %s elsewhere, not a %s: dropped", collector,
                        family.name, first.type, family.type)
            return
        if family.name not in self._copied:  # never mutate a collector's own object
            entries = getattr(first, "entries", None)
            if entries is not None:  # keep what exporter.exposition writes fast
                copy = first.spec.new()
                copy.entries = list(entries)
            else:
                copy = Metric(first.name, first.documentation, first.type, first.unit)
            copy.samples = list(first.samples)
            self._by_name[family.name] = first = copy
            self._copied.add(family.name)
        first.samples.extend(family.samples)
        entries = getattr(first, "entries", None)
        if entries is not None:  # a family without entries leaves them short: written generically
            entries.extend(getattr(family, "entries", None) or ())

    def families(self) -> Iterable[Metric]:
        return self._by_name.values()


class SelectionError(ValueError):
    """A bad collect[] / exclude[] query: the message says which names and why."""


class ScrapeCollector:
    """Runs our collectors and adds the success/duration series (a prometheus_client collector's shape)."""

    def __init__(self, collectors: Iterable[Collector], *, default_timeout: float = 5.0,
                 version: str | None = None, pool: WorkerPool | None = None,
                 known: Iterable[str] | None = None, node: Mapping[str, str] | None = None):
        self.collectors = list(collectors)
        registrations = registry() if known is None or node is None else {}
        # every name a scrape may select: the registered collectors, built or not
        self.known = (frozenset(known if known is not None else registrations)
                      | {c.name for c in self.collectors})
        # our collector name -> node_exporter's, for node_scrape_collector_*
        self.node = dict(node if node is not None else node_names(registrations))
        self.default_timeout = default_timeout
        self.version = version if version is not None else exporter_version()
        self.pool = pool or WorkerPool("collector", min_workers=min(2, len(self.collectors) or 1),
                                       max_workers=max(4, len(self.collectors) + 2))
        self._running: dict[str, tuple[Future[Result], float]] = {}  # name -> (run, its deadline)
        self._lock = threading.Lock()

    def timeout_of(self, collector: Collector) -> float:
        return float(getattr(collector, "timeout", None) or self.default_timeout)

    def describe(self) -> list[Metric]:
        # Nothing to pre-declare: keeps registration from running a whole scrape.
        return []

    def select(self, collect: Sequence[str] = (), exclude: Sequence[str] = ()) -> frozenset[str] | None:
        """node_exporter's `collect[]` / `exclude[]` query parameters -> the collectors to run
        (None: all). Raises SelectionError naming unknown collectors, or when both are given.

        A known collector that is disabled or has nothing configured (no probes of that kind)
        is accepted and contributes no series, so one Prometheus job fits every exporter.
        node_exporter's name of a collector (`meminfo`) selects ours (`memory`).
        """
        if not collect and not exclude:
            return None
        aliases = {node: ours for ours, node in self.node.items() if node != ours}
        collect = [aliases.get(n, n) for n in collect]
        exclude = [aliases.get(n, n) for n in exclude]
        if collect and exclude:
            raise SelectionError("collect[] and exclude[] cannot be combined")
        unknown = sorted({n for n in (*collect, *exclude) if n not in self.known})
        if unknown:
            raise SelectionError(
                f"unknown collector(s) {', '.join(unknown)} (known: {', '.join(sorted(self.known))})"
            )
        if collect:
            return frozenset(collect)
        return frozenset(c.name for c in self.collectors) - frozenset(exclude)

    def collect(self, only: Collection[str] | None = None) -> Iterator[Metric]:
        """Run every collector (or those in `only`) and yield their families, then the
        success/duration families.

        Collectors marked `inline = True` (the host collectors: they read kernel counters and
        never wait on anything that can hang; filesystem's stats run on threads of its own) run
        right here in the request's thread, after the others were started: no thread hand-off
        on the hot path. The others start on the pool first and are waited for until their
        deadlines: collectors that declare their own `timeout` (probes: they wait on the
        network) each get a pool thread; the rest (textfile, anything not known to be safe)
        share one pool task and run one after another, and if one of them takes longer than
        LANE_PATIENCE, those not yet started get threads of their own, so a slow or hung
        collector delays the rest by at most that.
        """
        start = time.monotonic()
        selected = self.collectors if only is None else [c for c in self.collectors if c.name in only]
        started: list[tuple[Collector, Future[Result] | None, float]] = []
        lane_jobs: list[tuple[Future[Result], Any, tuple[Collector]]] = []
        inline: list[tuple[int, Collector]] = []
        with self._lock:
            for c in selected:
                if getattr(c, "inline", False):
                    inline.append((len(started), c))
                    started.append((c, None, 0.0))
                    continue
                previous, previous_deadline = self._running.get(c.name, (None, 0.0))
                if previous is not None and not previous.done():
                    if previous_deadline > start:
                        # a concurrent scrape (an HA pair of Prometheus servers) started it
                        # moments ago: share its result instead of running the collector twice
                        started.append((c, previous, previous_deadline))
                    else:
                        log.warning("collector %s: the previous run has not returned yet (hanging?)",
                                    c.name)
                        started.append((c, None, start))
                    continue
                fut: Future[Result] = Future()
                deadline = start + self.timeout_of(c)
                self._running[c.name] = (fut, deadline)
                started.append((c, fut, deadline))
                if getattr(c, "blocking", bool(getattr(c, "timeout", None))):
                    self.pool.submit(run_into, fut, _run, c)
                else:
                    lane_jobs.append((fut, _run, (c,)))
        lane = Lane(self.pool, lane_jobs) if lane_jobs else None
        for i, c in inline:
            fut = Future()
            run_into(fut, _run, c)  # here, in this thread; the Future only carries the outcome
            started[i] = (c, fut, time.monotonic())
        if lane is not None:
            for fut, _, (c,) in lane_jobs:
                patience = min(LANE_PATIENCE, start + self.timeout_of(c) - time.monotonic())
                if not lane.wait(fut, patience):
                    break
        success = SUCCESS.new()
        duration = DURATION.new()
        node_success = NODE_SUCCESS.new()
        node_duration = NODE_DURATION.new()
        build = BUILD_INFO.new()
        BUILD_INFO.add(build, (self.version,), 1.0)
        merged = _FamilyMerger()
        merged.add(build, "")
        for c, fut, deadline in started:
            ok, took = 0.0, 0.0
            if fut is not None:
                try:
                    families, took, error = fut.result(timeout=max(0.0, deadline - time.monotonic()))
                except FutureTimeout:
                    took = self.timeout_of(c)
                    log.warning("collector %s did not finish within %gs", c.name, took)
                except Exception as exc:  # the runner itself failed
                    took = time.monotonic() - start
                    _log_failure(c.name, exc)
                else:
                    if error is None:
                        ok = 1.0
                    else:
                        _log_failure(c.name, error)
                    for family in families:
                        merged.add(family, c.name)
            SUCCESS.add(success, (c.name,), ok)
            DURATION.add(duration, (c.name,), took)
            node_name = self.node.get(c.name)
            if node_name is not None:
                NODE_SUCCESS.add(node_success, (node_name,), ok)
                NODE_DURATION.add(node_duration, (node_name,), took)
        yield from merged.families()
        yield success
        yield duration
        if node_success.samples:
            yield node_success
            yield node_duration

    def close(self) -> None:
        self.pool.close()


def _log_failure(name: str, exc: BaseException) -> None:
    """One line naming the collector and (in the exception's text) the file; a source that does
    not exist on this host (NoData) only at debug level, as node_exporter logs it."""
    if isinstance(exc, NoData):
        log.debug("collector %s returned no data: %s", name, exc)
        return
    log.warning("collector %s failed: %s: %s", name, type(exc).__name__, exc,
                exc_info=log.isEnabledFor(logging.DEBUG))

