"""The raw-sample formulas' edge cases (their agreement with PromQL: test_quantities_prometheus.py)."""

from __future__ import annotations

import pytest

from tradewatch import quantities as qt


def cpu(idle: float, user: float, iowait: float = 0.0) -> qt.Samples:
    return {qt.CPU_SECONDS: [({"cpu": "0", "mode": "idle"}, idle), ({"cpu": "0", "mode": "user"}, user),
                             ({"cpu": "0", "mode": "iowait"}, iowait)]}


def test_cpu_counts_iowait_as_not_busy() -> None:
    assert qt.cpu_utilisation(cpu(100, 100, 0), cpu(106, 102, 2)) == pytest.approx(0.2)


def test_cpu_without_an_increase_or_a_common_series_is_unknown() -> None:
    assert qt.cpu_utilisation(cpu(100, 100), cpu(100, 100)) is None
    assert qt.cpu_utilisation({}, cpu(100, 100)) is None


def test_a_counter_reset_counts_from_zero_as_rate_does() -> None:
    before = {qt.NET_RECEIVE_BYTES: [({"device": "eth0"}, 5000.0), ({"device": "lo"}, 1.0)]}
    after = {qt.NET_RECEIVE_BYTES: [({"device": "eth0"}, 300.0), ({"device": "lo"}, 9e9)]}
    assert qt.network_receive(before, after, 3.0) == pytest.approx(100.0)  # lo left out
    assert qt.network_receive(before, after, 0.0) is None


def test_filesystems_without_size_or_type_are_left_out() -> None:
    root, empty, untyped = {"mountpoint": "/", "fstype": "ext4"}, {"mountpoint": "/z", "fstype": "x"}, {}
    s: qt.Samples = {
        qt.FS_SIZE: [(root, 100.0), (empty, 0.0), (untyped, 100.0)],
        qt.FS_AVAIL: [(root, 25.0), (empty, 0.0), (untyped, 1.0)],
    }
    assert qt.filesystem_usage(s) == [({"mountpoint": "/", "fstype": "ext4"}, 0.75)]


def test_definitions_are_self_contained() -> None:
    """Every definition works without our recording rules (it is the bridge's fallback)."""
    records = {q.record for q in qt.HOST_QUANTITIES}
    for q in qt.HOST_QUANTITIES:
        assert not any(r in q.expr for r in records), q.key
