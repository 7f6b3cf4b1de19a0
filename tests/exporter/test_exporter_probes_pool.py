"""The probe pool: per-probe deadlines, probe errors contained, no double start of a hung probe."""

from __future__ import annotations

import logging
import threading

from exporter.probe_pool import ProbeJob, ProbePool, ProbeResult


def test_hung_probe_is_cut_at_its_deadline_and_not_started_twice(caplog):
    release = threading.Event()
    calls = []

    def hang(deadline: float) -> ProbeResult:
        calls.append(deadline)
        release.wait(10)
        return ProbeResult(True, 0.0)

    pool = ProbePool("test", 2, logging.getLogger("test.pool"))
    try:
        jobs = [ProbeJob("hang", 0.3, hang), ProbeJob("ok", 5, lambda d: ProbeResult(True, 0.01))]
        with caplog.at_level(logging.WARNING, "test.pool"):
            results = pool.run(jobs)  # without the deadline: 10 s, then a success
            assert results["hang"].success is False and "timed out" in results["hang"].reason
            assert results["ok"].success is True
            second = pool.run(jobs)
        assert second["hang"].success is False and "previous run" in second["hang"].reason
        assert len(calls) == 1
        # logged when the failure starts and when its reason changes, not on every scrape
        assert len([r for r in caplog.records if "'hang'" in r.getMessage()]) == 2
    finally:
        release.set()
        pool.close()


def test_raising_probe_is_a_failure_with_its_reason():
    def boom(deadline: float) -> ProbeResult:
        raise RuntimeError("bad probe")

    pool = ProbePool("test", 1, logging.getLogger("test.pool"))
    try:
        result = pool.run([ProbeJob("boom", 1, boom)])["boom"]
    finally:
        pool.close()
    assert result.success is False
    assert "RuntimeError: bad probe" in result.reason
