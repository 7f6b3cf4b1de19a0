"""Benchmark: the whole stack. Not a test (pytest does not collect it). From the repository root:

    .venv/bin/python tests/bench/bench_stack.py [--breaches 12] [--load-seconds 60] [--disk-seconds 150]

Four measurements, each on free 127.0.0.1 ports with real binaries:

1. start-up: `python -m tradewatch.stack` (the supervisor behind deploy/run-stack.sh) from spawn
   to "all healthy", first start (config and token written) and a restart (reused);
2. resources: RSS and CPU of each process of the stack at idle (exporter and bridge running,
   nobody scraping) and under the stack's 15 s scrape (Prometheus scraping, rules evaluating);
3. breach-to-email latency through exporter -> Prometheus -> Alertmanager -> bridge -> SMTP
   (aiosmtpd), p50/p99 over N breaches of an HTTP probe, split into scrape (probe target down ->
   first failing sample), evaluation (sample -> alert active), Alertmanager wait (alert active ->
   webhook at the bridge), bridge to SMTP (webhook -> accepted by the SMTP server), set against
   the floor of the configured intervals;
4. disk growth per day: Prometheus's TSDB (bytes per sample measured from a snapshot block of a
   run at 1 s intervals, scaled to the series count at the default 60 s scrape / 30 s evaluation)
   and the bridge's SQLite database (bytes per Watchdog webhook, the steady-state write load,
   scaled to Alertmanager's default one a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.support.procs import free_port  # noqa: E402
from tests.support.stack import ProbeTarget, e2e_stack, free_ports, stack_command  # noqa: E402
from tradewatch import metric_names as mn  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 1e6


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


# --------------------------------------------------------------------------- 1 + 2: the runner


def run_supervisor(root: Path, ports: dict[str, int]) -> tuple[subprocess.Popen[bytes], float, Path]:
    log = root.parent / f"supervisor-{time.monotonic_ns()}.log"
    fh = open(log, "wb")  # noqa: SIM115 - the process inherits it
    t0 = time.monotonic()
    proc = subprocess.Popen(
        stack_command(root, ports), stdout=fh, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
    )
    fh.close()
    while "TradeWatch is up" not in log.read_text(errors="replace"):
        if proc.poll() is not None:
            raise SystemExit(f"the stack did not start:\n{log.read_text()}")
        time.sleep(0.02)
    return proc, time.monotonic() - t0, log


def stop_supervisor(proc: subprocess.Popen[bytes]) -> float:
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    return time.monotonic() - t0


def part_pids(root: Path) -> dict[str, int]:
    return {
        p.stem: json.loads(p.read_text())["pid"]
        for p in sorted((root / "run").glob("*.pid"))
        if p.stem != "supervisor"
    }


def sample(pids: dict[str, int], seconds: float) -> dict[str, tuple[float, float]]:
    """{part: (RSS MB at the end, CPU % of one core over the window)}."""
    before = {k: cpu_seconds(p) for k, p in pids.items()}
    time.sleep(seconds)
    return {k: (rss_mb(p), 100 * (cpu_seconds(p) - before[k]) / seconds) for k, p in pids.items()}


def bench_runner(work: Path, load_seconds: float) -> dict[str, Any]:
    root = work / "stack"
    ports = free_ports()
    proc, first, _ = run_supervisor(root, ports)
    stop_first = stop_supervisor(proc)
    proc, again, _ = run_supervisor(root, ports)
    try:
        # warm-up: first scrapes, first rule evaluations, the bridge's first Watchdog
        time.sleep(20)
        loaded = sample(part_pids(root), load_seconds)
    finally:
        stop_supervisor(proc)

    # idle: our two services alone, nobody scraping them
    idle_ports = {"exporter": free_port(), "bridge": free_port()}
    cfg = root / "tradewatch.yaml"
    env = {
        **os.environ,
        "TRADEWATCH_API_TOKEN": (root / "secrets" / "api_token").read_text().strip(),
        "TRADEWATCH_PROMETHEUS_PORT": str(free_port()),
        "TRADEWATCH_ALERTMANAGER_PORT": str(free_port()),
    }
    bin_dir = Path(sys.executable).parent
    procs = {
        "exporter": subprocess.Popen(
            [
                bin_dir / "tradewatch-exporter",
                "--listen",
                f"127.0.0.1:{idle_ports['exporter']}",
                "--config",
                cfg,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        "bridge": subprocess.Popen(
            [
                bin_dir / "tradewatch-bridge",
                "--listen",
                f"127.0.0.1:{idle_ports['bridge']}",
                "--config",
                cfg,
                "--log-level",
                "WARNING",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    }
    try:
        deadline = time.monotonic() + 30
        while not all(
            http_ok(u)
            for u in (
                f"http://127.0.0.1:{idle_ports['exporter']}/metrics",
                f"http://127.0.0.1:{idle_ports['bridge']}/metrics",
            )
        ):
            if time.monotonic() > deadline:
                raise SystemExit("idle exporter/bridge did not start")
            time.sleep(0.1)
        # one scrape each (as Prometheus's first would), then nothing
        time.sleep(10)
        idle = sample({k: p.pid for k, p in procs.items()}, min(load_seconds, 30))
    finally:
        for p in procs.values():
            p.terminate()
            p.wait(20)
    return {
        "first_start": first,
        "restart": again,
        "stop": stop_first,
        "idle": idle,
        "loaded": loaded,
        "load_seconds": load_seconds,
    }


# --------------------------------------------------------------------------- 3: latency


def bench_latency(work: Path, breaches: int) -> dict[str, Any]:
    target = ProbeTarget()
    rows: list[dict[str, float]] = []
    with e2e_stack(work / "latency", {"bench-api": target}) as s:
        wait(lambda: s.query(f'{mn.PROBE_SUCCESS}{{probe="bench-api"}} == 1'), 30)
        db_path = Path(s.data["bridge"]["database"])
        cfg = s.data
        db0 = db_size(db_path)
        for i in range(breaches):
            seen = len(s.emails("firing", "ProbeFailing"))
            time.sleep(0.37 * (i % 3))  # spread breaches across the scrape phase
            t_down = time.time()
            target.down()
            wait(lambda seen=seen: len(s.emails("firing", "ProbeFailing")) > seen, 30, interval=0.01)
            t_mail = time.time()
            samples = s.query(f'{mn.PROBE_SUCCESS}{{probe="bench-api"}}[60s]')[0]["values"]
            t_sample = min(float(ts) for ts, v in samples if float(v) == 0 and float(ts) >= t_down - 0.01)
            # the SMTP server may have the email a moment before the bridge records it as sent
            starts, first_seen, sent = wait(lambda: sent_row(db_path), 10, interval=0.01)
            rows.append(
                {
                    "total": t_mail - t_down,
                    "scrape": t_sample - t_down,
                    "evaluation": starts - t_sample,
                    "alertmanager": first_seen - starts,
                    "bridge_smtp": sent - first_seen,
                    "smtp_seen": t_mail - sent,
                }
            )
            resolved = len(s.emails("resolved", "ProbeFailing"))
            target.up()
            wait(lambda resolved=resolved: len(s.emails("resolved", "ProbeFailing")) > resolved, 30)
        time.sleep(3)
        per_alert = (db_size(db_path) - db0) / breaches
    target.down()
    floor = {
        "scrape": parse_s(cfg["intervals"]["api"]),
        "evaluation": parse_s(cfg["intervals"]["evaluation"]),
        "alertmanager": parse_s(cfg["alerting"]["group_wait_urgent"]),
    }
    return {"rows": rows, "floor": floor, "db_bytes_per_alert": per_alert}


def sent_row(db_path: Path) -> tuple[float, float, float] | None:
    """(alert startsAt, webhook received, email sent) of the latest ProbeFailing, once sent."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT a.starts_at_epoch, a.first_seen, n.sent_at FROM alerts a JOIN notifications n"
            " ON n.alert_id = a.id AND n.kind = 'firing' WHERE a.alertname = 'ProbeFailing'"
            " ORDER BY a.id DESC LIMIT 1"
        ).fetchone()
    conn.close()
    return row if row is not None and row[2] is not None else None


def parse_s(text: str) -> float:
    from tradewatch.duration import parse_duration

    return parse_duration(text)


def wait(check: Any, timeout: float, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception:
            result = None
        if result:
            return result
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout}s")


# --------------------------------------------------------------------------- 4: disk


def own_metric(base_url: str, name: str) -> float:
    """Sum of a metric's samples read straight from a server's /metrics (no scrape delay)."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)


def db_size(db: Path) -> int:
    """The database file's size with its WAL folded in (checkpointed), in bytes."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db.stat().st_size


def db_rows(db: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    conn.close()
    return counts


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_disk(work: Path, seconds: float) -> dict[str, Any]:
    target = ProbeTarget()
    with e2e_stack(
        work / "disk",
        {"disk-api": target},
        alerting={"watchdog_repeat_interval": "2s"},
        prometheus_args=("--web.enable-admin-api",),  # its snapshot writes the head as a real block
    ) as s:
        db = Path(s.data["bridge"]["database"])
        time.sleep(15)  # start-up settles: first scrapes, first Watchdog, nothing else firing
        db0, rows0 = db_size(db), db_rows(db)
        hooks0 = own_metric(s.bridge_url, mn.BRIDGE_WEBHOOKS)
        appended0 = own_metric(s.prom_url, "prometheus_tsdb_head_samples_appended_total")
        time.sleep(seconds)
        appended = own_metric(s.prom_url, "prometheus_tsdb_head_samples_appended_total") - appended0
        db1, rows1 = db_size(db), db_rows(db)
        hooks1 = own_metric(s.bridge_url, mn.BRIDGE_WEBHOOKS)
        per_job = {
            r["metric"]["job"]: float(r["value"][1]) for r in s.query("scrape_samples_post_metric_relabeling")
        }
        rule_series = sum(
            float(r["value"][1])
            for r in s.query('count by (rule_group) ({__name__=~".+:.+"}) or count(ALERTS)')
        )
        req = urllib.request.Request(f"{s.prom_url}/api/v1/admin/tsdb/snapshot", method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            snap = json.load(resp)["data"]["name"]
        snap_dir = s.tmp / "prom" / "data" / "snapshots" / snap
        block_bytes = dir_bytes(snap_dir)
        total_samples = own_metric(s.prom_url, "prometheus_tsdb_head_samples_appended_total")
    target.down()
    bytes_per_sample = block_bytes / total_samples
    # defaults: exporter and bridge scraped every 60 s (intervals.system_metrics), probes every
    # 300 s (none here), Prometheus and Alertmanager self-scrape at the global 60 s, rules every 30 s
    scraped_series = sum(per_job.values())
    samples_day = scraped_series * 86400 / 60 + rule_series * 86400 / 30
    return {
        "seconds": seconds,
        "appended": appended,
        "block_bytes": block_bytes,
        "total_samples": total_samples,
        "bytes_per_sample": bytes_per_sample,
        "per_job": per_job,
        "rule_series": rule_series,
        "samples_day": samples_day,
        "tsdb_mb_day": samples_day * bytes_per_sample / 1e6,
        "db_growth": db1 - db0,
        "hooks": hooks1 - hooks0,
        "rows_added": {t: n - rows0.get(t, 0) for t, n in rows1.items() if n != rows0.get(t, 0)},
        "db_mb_day": (db1 - db0) / seconds * 86400 / 1e6,
    }


# --------------------------------------------------------------------------- report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--breaches", type=int, default=12)
    ap.add_argument("--load-seconds", type=float, default=60.0)
    ap.add_argument("--disk-seconds", type=float, default=150.0)
    ap.add_argument("--skip", action="append", default=[], choices=["runner", "latency", "disk"])
    args = ap.parse_args()
    for prog in ("prometheus", "prometheus-alertmanager"):
        if not shutil.which(prog):
            raise SystemExit(f"{prog} is not installed (Debian package)")
    work = Path(tempfile.mkdtemp(prefix="tw-bench-stack-"))
    print(f"# bench_stack on {os.cpu_count()} cores, {datetime.now().isoformat(timespec='seconds')}")
    try:
        if "runner" not in args.skip:
            r = bench_runner(work, args.load_seconds)
            print("\n## start-up (python -m tradewatch.stack, spawn -> every part healthy)")
            print(f"first start (writes config + token)  {r['first_start']:6.2f} s")
            print(f"restart (reuses config, token, data) {r['restart']:6.2f} s")
            print(f"stop on SIGTERM (all parts)           {r['stop']:6.2f} s")
            print("\n## resources: RSS MB / CPU % of one core")
            print(f"{'process':<14}{'idle RSS':>10}{'idle CPU':>10}{'15s-scrape RSS':>16}{'CPU':>8}")
            for part, (rss, cpu) in r["loaded"].items():
                irss, icpu = r["idle"].get(part, (float("nan"), float("nan")))
                print(f"{part:<14}{irss:>10.1f}{icpu:>9.2f}%{rss:>16.1f}{cpu:>7.2f}%")
            print(
                f"(idle: exporter and bridge alone, nobody scraping; loaded: the stack at its 15 s "
                f"scrape/evaluation, {r['load_seconds']:g} s window)"
            )
        if "latency" not in args.skip:
            lat = bench_latency(work, args.breaches)
            rows, floor = lat["rows"], lat["floor"]
            print(
                f"\n## breach -> email latency over {len(rows)} breaches (HTTP probe down -> email at SMTP)"
            )
            print(f"{'stage':<30}{'p50':>8}{'p99':>8}{'mean':>8}   floor (configured)")
            notes = {
                "scrape": f"probe scrape every {floor['scrape']:g} s (0..{floor['scrape']:g})",
                "evaluation": f"rule evaluation every {floor['evaluation']:g} s (0..{floor['evaluation']:g})",
                "alertmanager": f"group_wait_urgent {floor['alertmanager']:g} s "
                "(group_interval_urgent 2 s when the group exists)",
                "bridge_smtp": "none (webhook -> outbox -> SMTP)",
                "smtp_seen": "(test harness polling)",
                "total": f"max {sum(floor.values()):g} s, mean about "
                f"{floor['scrape'] / 2 + floor['evaluation'] / 2 + floor['alertmanager']:g} s",
            }
            for key in ("scrape", "evaluation", "alertmanager", "bridge_smtp", "smtp_seen", "total"):
                vals = [row[key] for row in rows]
                print(
                    f"{key:<30}{pct(vals, 50):>7.3f}s{pct(vals, 99):>7.3f}s{statistics.mean(vals):>7.3f}s   "
                    f"{notes[key]}"
                )
            print(
                f"bridge DB growth per alert (firing + resolved, two emails): "
                f"{lat['db_bytes_per_alert'] / 1e3:.1f} kB"
            )
        if "disk" not in args.skip:
            d = bench_disk(work, args.disk_seconds)
            print(
                f"\n## disk growth per day at the default intervals (measured over {d['seconds']:g} s at 1 s)"
            )
            print(
                f"TSDB: {d['total_samples']:.0f} samples -> snapshot block {d['block_bytes'] / 1e6:.2f} MB = "
                f"{d['bytes_per_sample']:.2f} bytes/sample"
            )
            print(
                f"      series scraped per job: {json.dumps({k: int(v) for k, v in d['per_job'].items()})}, "
                f"rule series {d['rule_series']:.0f}"
            )
            print(
                f"      at 60 s scrape / 30 s evaluation: {d['samples_day'] / 1e6:.2f} M samples/day -> "
                f"{d['tsdb_mb_day']:.1f} MB/day (+ a WAL of about 2-3 h of samples, bounded)"
            )
            print(
                f"bridge DB at steady state: {d['db_growth'] / 1e3:.1f} kB in {d['seconds']:g} s with "
                f"{d['hooks']:.0f} webhooks (Watchdog every 2 s), rows added {json.dumps(d['rows_added'])} "
                f"-> {d['db_mb_day']:.2f} MB/day; each alert adds its own rows (see the latency run)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
