"""Known samples in a real Prometheus: written as OpenMetrics, turned into blocks by
`promtool tsdb create-blocks-from openmetrics`, served by Debian's Prometheus. Used to check that
a quantity's PromQL and its raw-sample formula agree on the same data."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.support.procs import binary, wait_until
from tests.support.prom import Prometheus, prometheus
from tradewatch.quantities import Samples

# (metric name, sorted labels) -> [(unix time, value)]
Series = dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[int, float]]]


def openmetrics(targets: dict[str, Series], job: str) -> str:
    """The series of each target (instance -> series) with `instance` and `job` labels."""
    lines = []
    by_name: dict[str, list[str]] = {}
    for instance, series in targets.items():
        for (name, labels), points in series.items():
            lbl = ",".join(f'{k}="{v}"' for k, v in (*labels, ("instance", instance), ("job", job)))
            by_name.setdefault(name, []).extend(f"{name}{{{lbl}}} {v} {t}" for t, v in points)
    for name, samples in by_name.items():  # one family's samples together, as OpenMetrics wants
        lines.append(f"# TYPE {name} unknown")
        lines += samples
    return "\n".join([*lines, "# EOF", ""])


def samples_at(series: Series, t: int) -> Samples:
    """The raw samples a scrape at `t` would have given (what the exporter fallback sees)."""
    out: Samples = {}
    for (name, labels), points in series.items():
        for ts, v in points:
            if ts == t:
                out.setdefault(name, []).append((dict(labels), v))
    return out


def window(series: Series, at: int, seconds: int) -> tuple[Samples, Samples, int]:
    """First and last samples inside (at - seconds, at], and the seconds between them."""
    times = sorted({ts for points in series.values() for ts, _ in points if at - seconds < ts <= at})
    return samples_at(series, times[0]), samples_at(series, times[-1]), times[-1] - times[0]


@contextlib.contextmanager
def backfilled(work: Path, targets: dict[str, Series], job: str, ready_expr: str, at: int
               ) -> Iterator[Prometheus]:
    """A Prometheus serving `targets`' samples; ready once `ready_expr` answers at `at`."""
    (work / "data").mkdir()
    (work / "input.om").write_text(openmetrics(targets, job))
    subprocess.run([binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                    str(work / "input.om"), str(work / "data")], check=True, timeout=120)
    with prometheus(work, {"global": {"scrape_interval": "1h"}, "scrape_configs": []}) as prom:
        wait_until(lambda: prom.api("query", query=ready_expr, time=at)["result"],
                   30, what="the backfilled blocks loaded")
        yield prom
