"""Render docs/img/report.png: a sample daily report, screenshotted by headless Chromium.

    .venv/bin/python docs/make_screenshots.py [--collect SECONDS] [--out docs/img/report.png]

What is real: the exporter scraping this machine, the demo trading bot (synthetic data, as its
name says), Prometheus (Debian package, 1 s scrapes) and the bridge (`tradewatch-bridge`) whose
preview endpoint GET /api/monitoring/reports/daily is screenshotted. What is sample data, so
every section of the report shows: a handful of alerts written into the bridge's store and 29
earlier days of report history (scores and P&L) for the trend lines. Nothing is left running.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from alert_bridge.store import reports as store  # noqa: E402
from alert_bridge.store.database import Database  # noqa: E402
from tests.support.procs import binary, free_port, running  # noqa: E402
from tests.support.prom import prometheus  # noqa: E402
from tests.support.report import add_alert  # noqa: E402


def seed(db_path: Path, exporter: str, bot: str, window: float) -> None:
    """Sample alerts and history (documented above as sample data)."""
    db = Database(db_path)
    db.migrate()
    now = time.time()
    rng = random.Random(42)
    with db.transaction() as conn:
        conn.execute("UPDATE schema_migrations SET applied_at = applied_at - 40 * 86400")
        for i in range(5):  # a flapping warning: fires five times
            start = now - window + i * window / 6
            add_alert(conn, alertname="HostCpuHigh", severity="warning", instance=exporter, starts=start,
                      ends=start + window / 20, n=i, summary="CPU usage above 80% for 5 minutes")
        add_alert(conn, alertname="TradingOrderRejectionsHigh", severity="critical", instance=bot,
                  starts=now - window / 2, ends=now - window / 3,
                  summary="12.5% of orders rejected over 15 minutes")
        add_alert(conn, alertname="HostMemoryHigh", severity="warning", instance=exporter,
                  starts=now - window / 5, summary="Memory usage 87.1% (threshold 85%)")
        for back in range(29, 0, -1):
            d = time.strftime("%Y-%m-%d", time.gmtime(now - back * 86400))
            score = round(78 + 15 * rng.random(), 1)
            store.save_history(conn, report_date=d, run_id=None, kind="scheduled", now=now - back * 86400,
                               window_start=0, window_end=0, score=score, grade="sample",
                               components={}, hosts={}, alert_counts={},
                               pnl=round(rng.gauss(40, 120), 2))
    db.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--collect", type=float, default=90.0, help="seconds of metrics to collect first")
    ap.add_argument("--out", default=str(REPO / "docs" / "img" / "report.png"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tw-shot-"))
    exp_port, bot_port, bridge_port = free_port(), free_port(), free_port()
    exporter, bot = f"127.0.0.1:{exp_port}", f"127.0.0.1:{bot_port}"
    rules = sorted(str(p) for p in (REPO / "prometheus" / "rules").glob("*.yml"))
    prom_cfg = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": rules,
        "scrape_configs": [
            {"job_name": "tradewatch-exporter", "static_configs": [{"targets": [exporter]}]},
            {"job_name": "trading-bot", "static_configs": [{"targets": [bot]}]},
        ],
    }
    with running([binary("tradewatch-exporter"), "--listen", exporter], work / "exporter.log",
                 ready_url=f"http://{exporter}/metrics"), \
            running([sys.executable, "-m", "exporter.demo_bot", "--listen", bot, "--seed", "3",
                     "--reject-ratio", "0.06"], work / "bot.log", ready_url=f"http://{bot}/metrics"), \
            prometheus(work / "prom", prom_cfg) as prom:
        print(f"collecting {args.collect:g}s of metrics ...", flush=True)
        time.sleep(args.collect)
        window = args.collect - 5
        cfg = work / "tradewatch.yaml"
        cfg.write_text(
            f"bridge: {{prometheus_url: '{prom.url}', database: tw.db, outbox_dir: outbox}}\n"
            f"report: {{window: {int(window)}s}}\n"
            "email: {to: ['ops@example.com'], smtp_server: ''}\n"
        )
        seed(work / "tw.db", exporter, bot, window)
        url = f"http://127.0.0.1:{bridge_port}/api/monitoring/reports/daily"
        bridge_args = [binary("tradewatch-bridge"), "--listen", f"127.0.0.1:{bridge_port}", "--config",
                       str(cfg), "--no-workers"]
        with running(bridge_args, work / "bridge.log", ready_url=f"http://127.0.0.1:{bridge_port}/metrics"):
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([
                "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--hide-scrollbars", f"--screenshot={out}", "--window-size=900,1800", url,
            ], check=True, capture_output=True, timeout=120)
            print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
