"""CPU utilisation is true from the first minute: Prometheus from an empty TSDB, the real exporter.

Issue 14 point 5: a few minutes after the stack started, an idle host showed CPU 53.6 % and the
5-minute rule read 0.82 one minute in, because `rate(x[5m])` divides by the whole window while
the series was younger than that. Here every evaluation of the recording rule in the first
minute is compared with the raw 1-minute figure computed from the samples Prometheus holds
(the quantities' raw-sample formula). While the series is younger than a minute both read the
same samples, so they must agree; the margins only absorb a scrape that landed just after an
evaluation. The scrape and evaluation intervals are the stack's shape (equal; see
tradewatch/stack_layout.py) at 5 s instead of 15 s, so a minute holds as many evaluations as
the stack's first three.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.exporter_process import start as start_exporter
from tests.support.procs import free_port, wait_until
from tests.support.prom import Prometheus, prometheus
from tradewatch import quantities as qt
from tradewatch.config import parse_config
from tradewatch.rules import render_all

pytestmark = pytest.mark.integration

INTERVAL = 5  # seconds: scrape and rule evaluation
OBSERVE = 40  # seconds after the first sample: all within the first minute of the series
MARGIN = 0.05


def _raw_samples(prom: Prometheus, at: float) -> list[tuple[float, qt.Samples]]:
    """node_cpu_seconds_total's samples in the minute before `at`, grouped by scrape time."""
    result = prom.api("query", query=f"{qt.CPU_SECONDS}[1m]", time=at)["result"]
    scrapes: dict[float, qt.Samples] = {}
    for series in result:
        labels = {k: v for k, v in series["metric"].items() if k in ("cpu", "mode")}
        for t, v in series["values"]:
            scrapes.setdefault(float(t), {}).setdefault(qt.CPU_SECONDS, []).append((labels, float(v)))
    return sorted(scrapes.items())


def _raw_figures(scrapes: list[tuple[float, qt.Samples]]) -> list[float]:
    """The raw figure over all the samples, and without the newest one (a scrape the evaluation
    may not have seen yet)."""
    out = []
    for last in (len(scrapes) - 1, len(scrapes) - 2):
        if last >= 1:
            value = qt.cpu_utilisation(scrapes[0][1], scrapes[last][1])
            if value is not None:
                out.append(value)
    return out


def test_cpu_rule_matches_the_raw_one_minute_figure_from_an_empty_tsdb(tmp_path: Path) -> None:
    exporter, url = start_exporter(tmp_path, "--collector.disable-defaults", "--collector.cpu")
    try:
        cfg = parse_config({"intervals": {"system_metrics": f"{INTERVAL}s", "evaluation": f"{INTERVAL}s"}},
                           env={})
        work, port = tmp_path / "prom", free_port()
        target = url.removeprefix("http://")
        render_all(cfg, work, exporter_targets=[target], bridge_targets=[], trading_bot_targets=[],
                   prometheus_target=f"127.0.0.1:{port}", alertmanager_target=f"127.0.0.1:{free_port()}")
        config = yaml.safe_load((work / "prometheus.yml").read_text())
        assert not (work / "data").exists()  # an empty TSDB
        with prometheus(work, config, port=port) as prom:
            first = wait_until(lambda: prom.query(f"timestamp({qt.CPU_SECONDS})"), 30,
                               what="the first scrape of the exporter")
            t0 = float(first[0]["value"][1])  # type: ignore[index]
            time.sleep(max(0.0, t0 + OBSERVE - time.time()))
            recorded: list[Any] = prom.api("query", query=f"{qt.CPU.record}[2m]")["result"]
            assert len(recorded) == 1, recorded
            points = [(float(t), float(v)) for t, v in recorded[0]["values"]]
            # evaluations from the second scrape on, while the series is younger than a minute
            checked = []
            for at, value in points:
                if at - t0 > 60:
                    continue
                figures = _raw_figures(_raw_samples(prom, at))
                if not figures:
                    continue
                checked.append((round(at - t0, 1), round(value, 3), [round(f, 3) for f in figures]))
                assert any(abs(value - f) <= MARGIN for f in figures), (
                    f"{at - t0:.1f}s after the first scrape the rule read {value:.3f}, "
                    f"the raw 1-minute figure {figures}: {checked}")
            assert len(checked) >= 5, checked  # it really watched the first minute
            print("seconds after first scrape, rule, raw 1m:", checked)
    finally:
        exporter.stop()
