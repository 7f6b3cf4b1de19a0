"""Figures for docs/report.md: build + render time and email size of a 24 h report of 3 hosts.

    .venv/bin/python tests/bench/report_render.py

Prometheus is replaced by canned 24 h series (289 points per quantity and host, 5 min step), so
the figures measure the report code itself: gathering, score, charts (matplotlib Agg), Jinja2,
css-inline and MIME assembly. Two runs in one process: the first includes importing matplotlib.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from alert_bridge.reports import data, render
from alert_bridge.store.database import Database
from tests.support.report import CannedPrometheus, series
from tradewatch.config import parse_config

HOSTS = ["web-1:9184", "web-2:9184", "db-1:9184"]
QUANTITIES = [("node_cpu_utilisation", 0.3), ("node_memory_utilisation", 0.6),
              ("node_filesystem_usage", 0.5), ("network_receive", 1e5)]


def once(run: int) -> None:
    now = datetime.now(UTC)
    start, step = now.timestamp() - 86400, 300.0

    def wave(inst: str, base: float) -> dict:
        return series(inst, start, [base * (1 + 0.2 * ((i % 37) / 37)) for i in range(289)], step)

    prom = CannedPrometheus(ranges={k: [wave(h, b) for h in HOSTS] for k, b in QUANTITIES}, instants={})
    with tempfile.TemporaryDirectory() as tmp:
        cfg = parse_config({"bridge": {"database": f"{tmp}/tw.db"}, "email": {"to": ["a@b.c"]}}, env={})
        db = Database(cfg.bridge.database)
        db.migrate()
        t0 = time.perf_counter()
        d = data.build(cfg, conn=db.connection(), now=now, api=prom)  # type: ignore[arg-type]
        t1 = time.perf_counter()
        raw = render.build_message(d, cfg, kind="scheduled", now=now).as_bytes()
        t2 = time.perf_counter()
        db.close()
    pngs = [len(c.png) for c in d.charts.values()]
    print(f"run {run}: hosts={len(HOSTS)} charts={len(pngs)} build={t1 - t0:.2f}s "
          f"render+MIME={t2 - t1:.2f}s email={len(raw) / 1024:.0f} KiB "
          f"png avg={sum(pngs) / len(pngs) / 1024:.1f} KiB max={max(pngs) / 1024:.1f} KiB")


if __name__ == "__main__":
    once(1)
    once(2)
