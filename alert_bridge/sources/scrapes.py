"""Recent scrapes of the exporter fallback, so a rate costs one scrape per request, not two and a sleep.

Without Prometheus, a rate (CPU, network, the bots' fills) needs two scrapes of the same target.
Scraping twice with a one-second sleep in between made every dashboard request that fell back to
the exporter wait a second (the page, which reads hosts and bots, two). The bridge keeps the last
few scrapes of each URL instead and pairs a new scrape with the newest one at least `min_gap` old
and at most `max_age` old (Prometheus' `irate` does the same with its last two samples); only a
URL with no such scrape is scraped twice, `min_gap` apart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tradewatch.quantities import Samples

MIN_GAP = 1.0  # seconds: closer scrapes give a noisy rate
MAX_AGE = 120.0  # seconds: an older scrape would average the rate over too long a window
KEEP = 8  # at most this many scrapes younger than min_gap kept per URL


@dataclass(frozen=True)
class Scrape:
    samples: Samples
    at: float  # clock() when the scrape answered


class ScrapeMemory:
    """Recent scrapes per URL, shared by the app's request threads (one lock)."""

    def __init__(self, min_gap: float = MIN_GAP, max_age: float = MAX_AGE,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_gap, self.max_age, self.clock, self.sleep = min_gap, max_age, clock, sleep
        self._seen: dict[str, list[Scrape]] = {}
        self._lock = threading.Lock()

    def earlier(self, url: str, now: float) -> Scrape | None:
        """The newest remembered scrape of `url` that is between min_gap and max_age old at `now`."""
        with self._lock:
            usable = [s for s in self._seen.get(url, []) if self.min_gap <= now - s.at <= self.max_age]
        return max(usable, key=lambda s: s.at, default=None)

    def remember(self, url: str, scrape: Scrape) -> None:
        """Keep the newest scrape old enough to pair with (older ones would never be chosen) and
        younger ones at least min_gap/KEEP apart (they become old enough later); nothing over max_age."""
        with self._lock:
            seen = sorted([*self._seen.get(url, []), scrape], key=lambda s: s.at)
            seen = [s for s in seen if scrape.at - s.at <= self.max_age]
            old_enough = [s for s in seen if scrape.at - s.at >= self.min_gap]
            younger: list[Scrape] = []
            for s in (s for s in seen if scrape.at - s.at < self.min_gap):
                if not younger or s.at - younger[-1].at >= self.min_gap / KEEP:
                    younger.append(s)
            self._seen[url] = old_enough[-1:] + younger

    def pair(self, url: str, scrape: Callable[[], Samples]) -> tuple[Samples, Samples, float]:
        """(before, after, seconds between): a new scrape and an earlier one, remembered or made now.

        `scrape` raises what the edge raises (requests.RequestException, ValueError); nothing is
        remembered from a scrape that failed.
        """
        after = Scrape(scrape(), self.clock())
        before = self.earlier(url, after.at)
        if before is None:
            self.remember(url, after)
            self.sleep(self.min_gap)
            before, after = after, Scrape(scrape(), self.clock())
        self.remember(url, after)
        return before.samples, after.samples, after.at - before.at
