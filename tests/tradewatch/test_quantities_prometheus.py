"""Each quantity's PromQL and its raw-sample formula agree on the same data, in a real Prometheus.

Known samples (two hosts, 15 s apart, uneven increments) are backfilled with
`promtool tsdb create-blocks-from openmetrics`; Prometheus (Debian's) serves the blocks, and every
definition in tradewatch.quantities is queried at a fixed time and compared with the Python
formula over the first and last samples of the same 5-minute window.

Host "fresh" starts 90 s before the query time (a series younger than the window, as after the
stack starts): CPU must be right there too, which the old `1 - avg(rate(idle))` was not.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.support.backfill import Series, backfilled, window
from tests.support.prom import Prometheus
from tradewatch import quantities as qt

pytestmark = pytest.mark.integration

STEP = 15
WINDOW = 300
OFFSET = 7  # query between scrapes, so no sample sits on the window's edge
TOL = 1e-9



def _host_series(rng: random.Random, start: int, end: int, busy: float) -> Series:
    """node_* series of one host from `start` to `end` (inclusive), every STEP seconds."""
    out: Series = {}

    def add(name: str, labels: dict[str, str], values: list[float]) -> None:
        times = range(start, end + 1, STEP)
        out[(name, tuple(sorted(labels.items())))] = list(zip(times, values, strict=True))

    n = len(range(start, end + 1, STEP))

    def counter(first: float, mean: float) -> list[float]:
        values, v = [], first
        for _ in range(n):
            values.append(round(v, 3))
            v += max(0.0, rng.uniform(0.2, 1.8) * mean * STEP)
        return values

    def gauge(centre: float, spread: float) -> list[float]:
        return [round(centre + rng.uniform(-spread, spread), 3) for _ in range(n)]

    shares = {"idle": 1 - busy - 0.08, "iowait": 0.05, "steal": 0.03, "user": busy * 0.7,
              "system": busy * 0.25, "irq": busy * 0.05}
    for cpu in ("0", "1", "2"):
        for mode, share in shares.items():
            add(qt.CPU_SECONDS, {"cpu": cpu, "mode": mode}, counter(50_000 * (share + 0.01), share))
    add(qt.MEMORY_TOTAL, {}, [8 * 2**30] * n)
    add(qt.MEMORY_AVAILABLE, {}, gauge(3 * 2**30, 2**28))
    add(qt.LOAD1, {}, gauge(1.2, 0.5))
    for device, fstype, size, mountpoint in (
        ("/dev/sda1", "ext4", 100 * 2**30, "/"), ("tmpfs", "tmpfs", 2**30, "/run/user/1000"),
        ("/dev/loop0", "squashfs", 0, "/snap/core"),  # zero-sized: no ratio (not a division by 0)
        ("/dev/sdb1", "", 50 * 2**30, "/mnt/nolabel"),  # no fstype label: not counted
    ):
        labels = {"device": device, "mountpoint": mountpoint, **({"fstype": fstype} if fstype else {})}
        add(qt.FS_SIZE, labels, [size] * n)
        add(qt.FS_AVAIL, labels, gauge(size * 0.4, size * 0.05) if size else [0] * n)
    for device, bps, errs in (("eth0", 120_000, 0.5), ("eth1", 3_000, 0.0), ("lo", 900_000, 0.0)):
        d = {"device": device}
        add(qt.NET_RECEIVE_BYTES, d, counter(7e9, bps))
        add(qt.NET_TRANSMIT_BYTES, d, counter(3e9, bps / 3))
        add(qt.NET_RECEIVE_PACKETS, d, counter(5e7, bps / 1000))
        add(qt.NET_TRANSMIT_PACKETS, d, counter(2e7, bps / 3000))
        add(qt.NET_RECEIVE_ERRS, d, counter(1e4, errs))
        add(qt.NET_TRANSMIT_ERRS, d, counter(0, 0))
    # an interface that carried nothing in the window: no error ratio (not 0/0)
    for name in (qt.NET_RECEIVE_PACKETS, qt.NET_TRANSMIT_PACKETS, qt.NET_RECEIVE_ERRS, qt.NET_TRANSMIT_ERRS):
        add(name, {"device": "wg0"}, [1000.0] * n)
    return out


def _window(series: Series, at: int) -> tuple[qt.Samples, qt.Samples, int]:
    return window(series, at, WINDOW)


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import time

    last = int(time.time()) // 3600 * 3600 - 3600  # an hour ago: well inside retention, before the head
    query_at = last + OFFSET
    rng = random.Random(11)
    hosts = {
        "steady:9184": _host_series(rng, last - 20 * 60, last, busy=0.35),
        "fresh:9184": _host_series(rng, last - 90, last, busy=0.10),
    }
    work = tmp_path_factory.mktemp("quantities")
    with backfilled(work, hosts, "exporter", f"count({qt.CPU_SECONDS})", query_at) as prom:
        yield prom, hosts, query_at


def _query(prom: Prometheus, expr: str, at: int) -> dict[str, tuple[dict[str, str], float]]:
    out = {}
    for r in prom.api("query", query=expr, time=at)["result"]:
        labels = {k: v for k, v in r["metric"].items() if k not in ("job", "__name__")}
        out[_key(labels)] = (labels, float(r["value"][1]))
    return out


def _key(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _python(q: qt.Quantity, series: Series, at: int) -> qt.Values:
    return q.raw(*_window(series, at))


@pytest.mark.parametrize("q", qt.HOST_QUANTITIES, ids=lambda q: q.key)
def test_promql_and_raw_formula_agree_on_a_full_window(backfill, q: qt.Quantity) -> None:
    prom, hosts, at = backfill
    got = _query(prom, q.expr, at)
    steady = {k: v for k, v in got.items() if "instance=steady:9184" in k}
    want = _python(q, hosts["steady:9184"], at)
    assert want, f"the test data gives {q.key} nothing"
    assert len(steady) == len(want), (q.key, steady, want)
    for labels, value in want:
        key = _key({**labels, "instance": "steady:9184"})
        assert key in steady, (q.key, key, list(steady))
        assert steady[key][1] == pytest.approx(value, rel=1e-9, abs=TOL), (q.key, key)


def test_cpu_is_right_when_the_series_is_younger_than_the_window(backfill) -> None:
    """The "fresh" host's series began 90 s before the query: the rule's definition still gives
    the busy share of those 90 s (the old `1 - avg(rate(idle))` gave 1 - 0.3 * idle share)."""
    prom, hosts, at = backfill
    got = _query(prom, qt.CPU.expr, at)["instance=fresh:9184"][1]
    assert got == pytest.approx(_python(qt.CPU, hosts["fresh:9184"], at)[0][1], abs=1e-9)
    assert 0.05 < got < 0.2  # 10 % busy, with the data's jitter
    old = ('1 - avg without (cpu) (sum without (mode) '
           '(rate(node_cpu_seconds_total{mode=~"idle|iowait|steal"}[5m])))')
    assert _query(prom, old, at)["instance=fresh:9184"][1] > 0.6  # what the stack showed at start


def test_rule_or_raw_prefers_the_recorded_series(backfill) -> None:
    """Without our rules loaded, rule_or_raw() is the definition (the bridge's fallback)."""
    prom, _, at = backfill
    for q in (qt.CPU, qt.MEMORY, qt.NETWORK_RECEIVE):
        assert _query(prom, q.rule_or_raw(), at) == _query(prom, q.expr, at)
