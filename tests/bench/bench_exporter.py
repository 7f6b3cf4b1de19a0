"""Benchmark: tradewatch-exporter against Debian's node_exporter, like-for-like or default collectors.

Not a test (pytest does not collect it). Run from the repository root:

    .venv/bin/python tests/bench/bench_exporter.py [--scrapes 300] [--collectors defaults]

`--collectors like-for-like` (default): both exporters run the same collectors (cpu,
meminfo/memory, filesystem, netdev, loadavg). `--collectors defaults`: each runs its own default
collector set, node_exporter with upstream 1.5's defaults restored (Debian's build compiles in
other defaults: see tests/support/node_compat.py), which is what a user replacing node_exporter
compares. Both run on free 127.0.0.1 ports; scrapes alternate between them, one new connection
each (`--keepalive`: one persistent connection per exporter, as Prometheus scrapes), with gzip
accepted. `--accept prometheus` (default) sends Prometheus 2.42's Accept header: our exporter
then answers OpenMetrics, node_exporter answers the text format (it does not enable
OpenMetrics). `--accept text` asks both for the text format 0.0.4, the format-for-format
comparison. Prints series count, scrape latency p50/p90/p99, CPU seconds per scrape and per
1,000 series (utime+stime from /proc/PID/stat over the measured scrapes), RSS after the run and
start-to-first-scrape time, side by side with the ratios, and the targets of issue 12.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.support.node_compat import NODE_UPSTREAM_DEFAULTS  # noqa: E402

ACCEPTS = {
    "prometheus": ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                   "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
    "text": "text/plain;version=0.0.4",
}
ACCEPT = ACCEPTS["prometheus"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
LIKE_FOR_LIKE_NODE = ["--collector.disable-defaults", "--collector.cpu", "--collector.meminfo",
                      "--collector.filesystem", "--collector.netdev", "--collector.loadavg"]
LIKE_FOR_LIKE_OURS = ["--collector.disable-defaults", "--collector.cpu", "--collector.memory",
                      "--collector.filesystem", "--collector.netdev", "--collector.loadavg"]
# --collectors NAME -> (our flags, node_exporter's flags, description)
COLLECTOR_SETS = {
    "like-for-like": (LIKE_FOR_LIKE_OURS, LIKE_FOR_LIKE_NODE,
                      "like-for-like collectors (cpu, memory, filesystem, netdev, loadavg)"),
    "defaults": ([], NODE_UPSTREAM_DEFAULTS,
                 "default collectors (node_exporter with upstream 1.5's defaults)"),
}
CONNECTIONS: dict[int, http.client.HTTPConnection] = {}  # port -> persistent connection (--keepalive)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int, keepalive: bool = False) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    conn = CONNECTIONS.get(port) if keepalive else None
    if conn is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        if keepalive:
            CONNECTIONS[port] = conn
    try:
        conn.request("GET", "/metrics", headers={"Accept": ACCEPT, "Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"port {port}: HTTP {resp.status}")
        encoding = resp.getheader("Content-Encoding")
    except Exception:
        conn.close()
        CONNECTIONS.pop(port, None)
        raise
    finally:
        if not keepalive:
            conn.close()
    elapsed = time.perf_counter() - t0
    return elapsed, gzip.decompress(body) if encoding == "gzip" else body


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def series(text: bytes) -> int:
    return sum(1 for line in text.decode().splitlines() if line and not line.startswith("#"))


class Exporter:
    def __init__(self, label: str, args: list[str], port: int):
        self.label, self.port = label, port
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = self.t0 + 20
        while True:
            try:
                _, body = scrape(port)
                break
            except OSError:
                if self.proc.poll() is not None or time.perf_counter() > deadline:
                    raise RuntimeError(f"{label} did not start") from None
                time.sleep(0.002)
        self.start_s = time.perf_counter() - self.t0
        self.latencies: list[float] = []
        self.series = series(body)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def breakdown(collector_set: str, rounds: int = 20, per_round: int = 30) -> None:
    """In-process CPU per scrape of each stage (median of rounds), for the like-for-like
    collectors or our default set."""
    from prometheus_client.exposition import generate_latest
    from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

    from exporter.collectors import REGISTRY
    from exporter.exposition import encode, negotiate
    from exporter.scrape import ScrapeCollector, build_collectors, enabled_names
    from exporter.server import GZIP_LEVEL, make_app
    from exporter.settings import DefaultConfig

    if collector_set == "defaults":
        names = enabled_names(REGISTRY, {}, {})
    else:
        names = ["cpu", "memory", "filesystem", "netdev", "loadavg"]
    collectors = build_collectors(DefaultConfig(), names)
    scrape_collector = ScrapeCollector(collectors)
    app = make_app(scrape_collector, b"")
    families = list(scrape_collector.collect())

    class Fixed:
        def collect(self):
            return families

    text = generate_latest(Fixed())

    def request(accept: str):
        env = {"PATH_INFO": "/metrics", "REQUEST_METHOD": "GET", "HTTP_ACCEPT": accept,
               "HTTP_ACCEPT_ENCODING": "gzip", "QUERY_STRING": ""}
        return lambda: app(dict(env), lambda status, headers: None)

    stages = {f"collector {c.name}": (lambda c=c: list(c.collect())) for c in collectors}
    stages.update({
        "all collectors, direct": lambda: [list(c.collect()) for c in collectors],
        "all collectors, runner": lambda: list(scrape_collector.collect()),
        "prometheus_client text encoder": lambda: generate_latest(Fixed()),
        "prometheus_client OpenMetrics": lambda: generate_openmetrics(Fixed()),
        "our text encoder": lambda: encode(families, negotiate(ACCEPTS["text"])),
        "our OpenMetrics encoder": lambda: encode(families, negotiate(ACCEPTS["prometheus"])),
        "gzip (level 9, the client's)": lambda: gzip.compress(text),
        f"gzip (level {GZIP_LEVEL}, ours)": lambda: gzip.compress(text, compresslevel=GZIP_LEVEL),
        "WSGI app, text": request(ACCEPTS["text"]),
        "WSGI app, Prometheus Accept": request(ACCEPTS["prometheus"]),
    })
    results: dict[str, list[float]] = {k: [] for k in stages}
    for _ in range(rounds):
        for label, fn in stages.items():
            t0 = time.process_time()
            for _ in range(per_round):
                fn()
            results[label].append((time.process_time() - t0) / per_round * 1000)
    print(f"in-process CPU per call, {collector_set} collectors, "
          f"median of {rounds} rounds of {per_round} (ms)")
    for label, values in results.items():
        print(f"  {label:36}{statistics.median(values):8.3f}")
    scrape_collector.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=300, help="measured scrapes per exporter (<= 5000)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--accept", choices=sorted(ACCEPTS), default="prometheus",
                        help="Accept header: Prometheus 2.42's (default) or the text format only")
    parser.add_argument("--config", metavar="FILE",
                        help="also pass --config FILE to our exporter (what the stack does; loads pydantic)")
    parser.add_argument("--collectors", choices=sorted(COLLECTOR_SETS), default="like-for-like",
                        help="the same collectors on both (default) or each exporter's default set")
    parser.add_argument("--keepalive", action="store_true",
                        help="one persistent connection per exporter, as Prometheus scrapes")
    parser.add_argument("--breakdown", action="store_true",
                        help="instead: in-process CPU of each stage of a scrape (collectors, encoders, gzip)")
    args = parser.parse_args()
    global ACCEPT
    ACCEPT = ACCEPTS[args.accept]
    if args.breakdown:
        breakdown(args.collectors)
        return 0
    n = max(10, min(args.scrapes, 5000))
    node_bin = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    ours_cmd = [str(Path(sys.executable).parent / "tradewatch-exporter")]
    if args.config:
        ours_cmd += ["--config", str(Path(args.config).resolve())]
    if not node_bin:
        print("prometheus-node-exporter is not installed (apt-get install prometheus-node-exporter)")
        return 1
    p1, p2 = free_port(), free_port()
    exporters: list[Exporter] = []
    try:
        ours_flags, node_flags, described = COLLECTOR_SETS[args.collectors]
        ours = Exporter("tradewatch", [*ours_cmd, "--listen", f"127.0.0.1:{p1}", *ours_flags], p1)
        exporters.append(ours)
        node = Exporter("node_exporter", [node_bin, f"--web.listen-address=127.0.0.1:{p2}", *node_flags], p2)
        exporters.append(node)
        for _ in range(args.warmup):
            for e in exporters:
                scrape(e.port, args.keepalive)
        cpu0 = {e.label: cpu_seconds(e.proc.pid) for e in exporters}
        for _ in range(n):
            for e in exporters:
                e.latencies.append(scrape(e.port, args.keepalive)[0])
        cpu = {e.label: (cpu_seconds(e.proc.pid) - cpu0[e.label]) / n for e in exporters}
        rss = {e.label: rss_mb(e.proc.pid) for e in exporters}
    finally:
        for conn in CONNECTIONS.values():
            conn.close()
        for e in exporters:
            e.stop()

    rows = [
        ("series", "{:.0f}", lambda e: e.series),
        ("latency p50 (ms)", "{:.2f}", lambda e: pct(e.latencies, 50) * 1000),
        ("latency p90 (ms)", "{:.2f}", lambda e: pct(e.latencies, 90) * 1000),
        ("latency p99 (ms)", "{:.2f}", lambda e: pct(e.latencies, 99) * 1000),
        ("CPU per scrape (ms)", "{:.3f}", lambda e: cpu[e.label] * 1000),
        ("CPU per 1,000 series (ms)", "{:.3f}", lambda e: cpu[e.label] * 1000 / e.series * 1000),
        ("RSS after run (MB)", "{:.1f}", lambda e: rss[e.label]),
        ("start to first scrape (s)", "{:.3f}", lambda e: e.start_s),
    ]
    print(f"{n} scrapes each, alternating, {described}, Accept: {args.accept}, "
          f"{'keep-alive' if args.keepalive else 'a connection per scrape'}, {os.cpu_count()} CPUs")
    print(f"{'':28}{'tradewatch':>14}{'node_exporter':>16}{'ratio':>9}")
    for label, fmt, get in rows:
        a, b = get(ours), get(node)
        ratio = f"{a / b:.2f}" if b else "-"
        print(f"{label:28}{fmt.format(a):>14}{fmt.format(b):>16}{ratio:>9}")
    cpu_ratio = cpu[ours.label] / cpu[node.label]
    p99_ratio = pct(ours.latencies, 99) / pct(node.latencies, 99)
    targets = [
        ("CPU per scrape <= 0.8x node_exporter's", f"{cpu_ratio:.2f}x", cpu_ratio <= 0.8),
        ("p99 latency <= node_exporter's", f"{p99_ratio:.2f}x", p99_ratio <= 1.0),
        ("RSS <= 26 MB", f"{rss[ours.label]:.1f} MB", rss[ours.label] <= 26),
        ("start to first scrape < 0.5 s", f"{ours.start_s:.3f} s", ours.start_s < 0.5),
    ]
    print("targets (issue 12):")
    for label, value, met in targets:
        print(f"  {label:40}{value:>10}  {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
