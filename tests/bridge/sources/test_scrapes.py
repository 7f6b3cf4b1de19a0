"""The exporter fallback's scrape memory: one scrape per request once an earlier one is usable."""

from __future__ import annotations

import pytest

from alert_bridge.sources.scrapes import ScrapeMemory


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


def counter(clock: FakeTime):  # type: ignore[no-untyped-def]
    """A scrape whose one sample is the time it was taken, so each pair says which scrapes it used."""
    return lambda: {"t": [({}, clock.now)]}


def test_a_cold_url_is_scraped_twice_min_gap_apart(clock):
    memory = ScrapeMemory(min_gap=1.0, max_age=120.0, clock=clock.clock, sleep=clock.sleep)
    before, after, seconds = memory.pair("u", counter(clock))
    assert clock.slept == [1.0]
    assert (before["t"][0][1], after["t"][0][1], seconds) == (100.0, 101.0, 1.0)


def test_a_later_request_pairs_with_a_remembered_scrape_without_sleeping(clock):
    memory = ScrapeMemory(min_gap=1.0, max_age=120.0, clock=clock.clock, sleep=clock.sleep)
    memory.pair("u", counter(clock))
    clock.now += 10
    before, after, seconds = memory.pair("u", counter(clock))
    assert clock.slept == [1.0]  # only the cold start slept
    assert (before["t"][0][1], after["t"][0][1], seconds) == (101.0, 111.0, 10.0)


def test_rapid_requests_keep_pairing_with_the_newest_scrape_at_least_min_gap_old(clock):
    memory = ScrapeMemory(min_gap=1.0, max_age=120.0, clock=clock.clock, sleep=clock.sleep)
    memory.pair("u", counter(clock))  # scrapes at 100 and 101
    pairs = []
    for _ in range(30):  # one request every 0.1 s for 3 s
        clock.now += 0.1
        before, after, seconds = memory.pair("u", counter(clock))
        pairs.append((round(before["t"][0][1], 1), round(after["t"][0][1], 1)))
        assert 1.0 <= seconds <= 2.0  # younger scrapes are kept, so the window stays short
    assert clock.slept == [1.0]
    assert pairs[0] == (100.0, 101.1) and pairs[-1][1] == 104.0


def test_a_scrape_older_than_max_age_is_not_used(clock):
    memory = ScrapeMemory(min_gap=1.0, max_age=120.0, clock=clock.clock, sleep=clock.sleep)
    memory.pair("u", counter(clock))
    clock.now += 121
    *_, seconds = memory.pair("u", counter(clock))
    assert clock.slept == [1.0, 1.0] and seconds == 1.0


def test_urls_are_kept_apart_and_a_failed_scrape_is_not_remembered(clock):
    memory = ScrapeMemory(min_gap=1.0, max_age=120.0, clock=clock.clock, sleep=clock.sleep)
    memory.pair("a", counter(clock))

    def broken():  # type: ignore[no-untyped-def]
        raise ValueError("not an exposition")

    with pytest.raises(ValueError):
        memory.pair("b", broken)
    clock.now += 5
    memory.pair("b", counter(clock))  # b is still cold: it sleeps
    assert clock.slept == [1.0, 1.0]
    assert memory.earlier("a", clock.now) is not None
