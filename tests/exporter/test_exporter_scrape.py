"""The scrape runner: success/duration per collector, raising and hanging collectors, threads."""

from __future__ import annotations

import threading
import time

from prometheus_client.parser import text_string_to_metric_families

from exporter.collector import Registration
from exporter.exposition import encode
from exporter.families import gauge
from exporter.scrape import ScrapeCollector, enabled_names
from tests.support.procs import wait_until
from tradewatch import metric_names as names

SPEC = gauge("test_value", "A value.")


class Fine:
    name = "fine"

    def collect(self):
        yield SPEC.value(42)


class Raises:
    name = "raises"

    def collect(self):
        raise RuntimeError("boom")
        yield  # pragma: no cover


class Hangs:
    name = "hangs"

    def __init__(self, release: threading.Event, timeout: float | None = None):
        self.release = release
        self.started = 0
        if timeout is not None:
            self.timeout = timeout

    def collect(self):
        self.started += 1
        self.release.wait(30)
        yield gauge("test_late", "Never served.").value(1)


def scrape(runner: ScrapeCollector) -> dict[str, dict[tuple, float]]:
    text = encode(runner.collect()).decode()
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def test_success_duration_and_build_info():
    got = scrape(ScrapeCollector([Fine()], version="9.9"))
    assert got["test_value"][()] == 42
    assert got[names.COLLECTOR_SUCCESS][(("collector", "fine"),)] == 1
    assert got[names.COLLECTOR_DURATION][(("collector", "fine"),)] >= 0
    assert got[names.EXPORTER_BUILD_INFO][(("version", "9.9"),)] == 1


def test_raising_collector_costs_only_its_own_series():
    got = scrape(ScrapeCollector([Raises(), Fine()]))
    assert got[names.COLLECTOR_SUCCESS][(("collector", "raises"),)] == 0
    assert got[names.COLLECTOR_SUCCESS][(("collector", "fine"),)] == 1
    assert got["test_value"][()] == 42


def test_hanging_collector_is_bounded_and_not_restarted_while_hanging():
    release = threading.Event()
    hang = Hangs(release)
    runner = ScrapeCollector([hang, Fine()], default_timeout=0.3)
    try:
        got = scrape(runner)  # without the bound: 30 s, then test_late served
        assert got[names.COLLECTOR_SUCCESS][(("collector", "hangs"),)] == 0
        assert got[names.COLLECTOR_DURATION][(("collector", "hangs"),)] >= 0.29
        assert got[names.COLLECTOR_SUCCESS][(("collector", "fine"),)] == 1
        assert "test_late" not in got
        for _ in range(20):  # still hanging: not started again, threads stay bounded
            got = scrape(runner)
            assert got[names.COLLECTOR_SUCCESS][(("collector", "hangs"),)] == 0
            assert got[names.COLLECTOR_SUCCESS][(("collector", "fine"),)] == 1
        assert hang.started == 1
        assert runner.pool.threads <= runner.pool.max_workers == 4
    finally:
        release.set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        got = scrape(runner)
        if got[names.COLLECTOR_SUCCESS][(("collector", "hangs"),)] == 1:
            break
        time.sleep(0.05)
    assert got[names.COLLECTOR_SUCCESS][(("collector", "hangs"),)] == 1
    assert hang.started >= 2
    runner.close()


def test_collector_timeout_attribute_wins_over_default():
    release = threading.Event()
    # with the default (an hour) the collector would finish after its 30 s wait and succeed
    runner = ScrapeCollector([Hangs(release, timeout=0.2)], default_timeout=3600)
    try:
        got = scrape(runner)
        assert got[names.COLLECTOR_SUCCESS][(("collector", "hangs"),)] == 0
    finally:
        release.set()
        runner.close()


def test_collectors_run_concurrently():
    barrier = threading.Barrier(3, timeout=2)

    class Waits:
        def __init__(self, n):
            self.name = f"w{n}"

        def collect(self):
            barrier.wait()  # only passes when all three run at the same time
            yield from ()

    got = scrape(ScrapeCollector([Waits(i) for i in range(3)], default_timeout=3))
    assert all(got[names.COLLECTOR_SUCCESS][(("collector", f"w{i}"),)] == 1 for i in range(3))


def _reg(name, default=True):
    return Registration(name, lambda cfg: None, default, "")


def test_enabled_names_precedence():
    regs = {"cpu": _reg("cpu"), "memory": _reg("memory"), "extra": _reg("extra", default=False)}
    assert enabled_names(regs, {}, {}) == ["cpu", "memory"]
    assert enabled_names(regs, {"cpu": False, "extra": True}, {}) == ["memory", "extra"]
    assert enabled_names(regs, {"cpu": False}, {"cpu": True}) == ["cpu", "memory"]
    assert enabled_names(regs, {}, {"memory": True}, disable_defaults=True) == ["memory"]
    assert enabled_names(regs, {"extra": True}, {}, disable_defaults=True) == ["extra"]


def test_a_slow_collector_hands_the_ones_behind_it_to_other_threads():
    release = threading.Event()
    behind = {"b": threading.Event(), "c": threading.Event()}
    saw: list[bool] = []

    class Stamp:
        def __init__(self, name):
            self.name = name

        def collect(self):
            if self.name in behind:
                behind[self.name].set()
            yield from ()

    class Slow:
        """Stays busy until b and c have started (or 5 s): they must not wait behind it."""

        name = "slow"

        def collect(self):
            saw.append(all(e.wait(5) for e in behind.values()))
            release.wait(30)
            yield from ()

    runner = ScrapeCollector([Stamp("a"), Slow(), Stamp("b"), Stamp("c")], default_timeout=1.0)
    try:
        got = scrape(runner)
        wait_until(lambda: saw, 10, what="the slow collector to see b and c start")
    finally:
        release.set()
        runner.close()
    assert saw == [True]  # b and c ran while the slow collector was still busy
    assert {k: got[names.COLLECTOR_SUCCESS][(("collector", k),)] for k in ("a", "slow", "b", "c")} == {
        "a": 1, "slow": 0, "b": 1, "c": 1}


def test_same_family_from_several_collectors_is_merged_into_one():
    spec = gauge("shared_family", "Shared.", ("part",))

    class Part:
        def __init__(self, name):
            self.name = name
            self.family = None

        def collect(self):
            self.family = spec.new()
            spec.add(self.family, (self.name,), 1.0)
            yield self.family

    parts = [Part("a"), Part("b"), Part("c")]
    runner = ScrapeCollector(parts, version="t")
    families = [m for m in runner.collect() if m.name == "shared_family"]
    assert len(families) == 1
    assert sorted(s.labels["part"] for s in families[0].samples) == ["a", "b", "c"]
    assert len(parts[0].family.samples) == 1  # the collectors' own objects are left alone
    text = encode(runner.collect()).decode()
    assert text.count("# HELP shared_family ") == 1
    runner.close()


def test_a_family_with_a_conflicting_type_is_dropped_not_served_twice():
    class G:
        name = "g"

        def collect(self):
            yield gauge("clash", "A gauge.").value(1)

    class C:
        name = "c"

        def collect(self):
            from exporter.families import counter

            yield counter("clash", "A counter.").value(2)

    runner = ScrapeCollector([G(), C()])
    got = [m for m in runner.collect() if m.name == "clash"]
    assert len(got) == 1 and got[0].type == "gauge"
    runner.close()


def test_concurrent_scrapes_share_a_run_in_flight_instead_of_failing():
    gate = threading.Event()
    runs = []

    class Slow:
        name = "slow"

        def collect(self):
            runs.append(1)
            gate.wait(5)
            yield SPEC.value(7)

    class DecisionLock:
        """The runner's lock, counting how many scrapes have decided what to run."""

        def __init__(self):
            self.lock = threading.Lock()
            self.decided = threading.Semaphore(0)

        def __enter__(self):
            self.lock.acquire()
            return self

        def __exit__(self, *exc):
            self.lock.release()
            self.decided.release()

    runner = ScrapeCollector([Slow()], default_timeout=3)
    lock = DecisionLock()
    runner._lock = lock  # type: ignore[assignment]
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(scrape(runner))) for _ in range(2)]
    for th in threads:
        th.start()
    # both scrapes have chosen between starting the collector and sharing a run, while the
    # first run is still held at the gate: the second one found it in flight
    for _ in threads:
        assert lock.decided.acquire(timeout=10), "a scrape never reached the runner"
    assert not gate.is_set() and len(runs) <= 1
    gate.set()
    for th in threads:
        th.join(10)
    runner.close()
    assert len(results) == 2
    for got in results:  # an HA pair scraping at once: both get the data, success 1
        assert got[names.COLLECTOR_SUCCESS][(("collector", "slow"),)] == 1
        assert got["test_value"][()] == 7
    assert len(runs) == 1


def test_inline_collectors_run_in_the_scraping_thread_and_fail_alone():
    threads: list[str] = []

    class InlineFine:
        name = "inline_fine"
        inline = True

        def collect(self):
            threads.append(threading.current_thread().name)
            yield SPEC.value(42)

    class InlineRaises(Raises):
        name = "inline_raises"
        inline = True

    runner = ScrapeCollector([InlineRaises(), InlineFine(), Fine()], version="t")
    try:
        got = scrape(runner)
    finally:
        runner.close()
    assert threads == [threading.current_thread().name]
    assert got[names.COLLECTOR_SUCCESS][(("collector", "inline_raises"),)] == 0
    assert got[names.COLLECTOR_SUCCESS][(("collector", "inline_fine"),)] == 1
    assert got[names.COLLECTOR_SUCCESS][(("collector", "fine"),)] == 1
    assert got["test_value"][()] == 42


def test_pool_collectors_start_before_the_inline_ones_and_overlap_them():
    started = threading.Event()

    class Background:
        name = "background"
        timeout = 2.0

        def collect(self):
            started.set()
            yield from ()

    class InlineWaits:
        name = "inline_waits"
        inline = True

        def collect(self):
            # only passes if the pool collector was already running while this one runs
            assert started.wait(2)
            yield from ()

    runner = ScrapeCollector([InlineWaits(), Background()], version="t")
    try:
        got = scrape(runner)
    finally:
        runner.close()
    assert got[names.COLLECTOR_SUCCESS][(("collector", "inline_waits"),)] == 1
    assert got[names.COLLECTOR_SUCCESS][(("collector", "background"),)] == 1


def test_node_scrape_collector_series_for_node_exporters_collectors_only(caplog):
    """node_scrape_collector_* under node_exporter's collector name (memory is its meminfo),
    for the collectors that stand in for one; TradeWatch's own get only tradewatch_*."""
    import logging

    from exporter.collector import NoData

    class Memory(Fine):
        name = "memory"

    class Partial:
        name = "conntrack"

        def collect(self):
            yield gauge("test_before_failure", "Sent before the error.").value(1)
            raise OSError(2, "No such file or directory", "/proc/net/stat/nf_conntrack")

    class Absent:
        name = "pressure"

        def collect(self):
            raise NoData("/proc/pressure/cpu: no pressure information")
            yield  # pragma: no cover

    runner = ScrapeCollector([Memory(), Partial(), Absent(), Raises()], version="t",
                             node={"memory": "meminfo", "conntrack": "conntrack", "pressure": "pressure"})
    with caplog.at_level(logging.DEBUG, logger="exporter.scrape"):
        got = scrape(runner)
    node = got["node_scrape_collector_success"]
    assert node == {(("collector", "meminfo"),): 1, (("collector", "conntrack"),): 0,
                    (("collector", "pressure"),): 0}
    assert set(got["node_scrape_collector_duration_seconds"]) == set(node)
    assert got[names.COLLECTOR_SUCCESS][(("collector", "memory"),)] == 1
    assert got[names.COLLECTOR_SUCCESS][(("collector", "raises"),)] == 0
    # what a failing collector yielded before its error is served, as node_exporter does
    assert got["test_before_failure"][()] == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2 and "/proc/net/stat/nf_conntrack" in warnings[0] and "boom" in warnings[1]
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("no pressure information" in m for m in debug)


def test_the_registration_table_maps_our_names_to_node_exporters():
    from exporter.collectors import REGISTRATIONS, REGISTRY
    from exporter.scrape import node_names

    assert len(REGISTRY) == len(REGISTRATIONS)
    mapping = node_names(REGISTRY)
    assert mapping["memory"] == "meminfo"
    assert all(mapping[n] == n for n in mapping if n != "memory")
    assert not {"process", "probe_http", "probe_tcp", "probe_sql"} & set(mapping)
    runner = ScrapeCollector([], version="t")  # the table is the default
    try:
        assert runner.node == mapping and set(REGISTRY) <= runner.known
    finally:
        runner.close()
