"""The /proc-based collectors' recorded fixtures (tests/fixtures/exporter/<collector>/<source>/)
and Debian's node_exporter 1.5 run over them: the reference our collectors are compared with.

A source directory holds `proc/...` and `sys/...` as recorded (tests/fixtures/exporter/
record_proc.py) and `expected.prom`: what node_exporter serves for that collector's families
over exactly those files (`python3 -m tests.support.proc_fixtures` writes the missing ones;
node_exporter-1.5.0's come from node_exporter's own end-to-end expectation file).
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from tests.support.procs import REPO, Proc, binary, free_port

FIXTURES = REPO / "tests" / "fixtures" / "exporter"

# collector -> the family-name prefixes it serves (the clock and zone move: not compared)
FAMILIES: dict[str, tuple[str, ...]] = {
    "stat": ("node_context_switches_total", "node_intr_total", "node_forks_total", "node_procs_"),
    "vmstat": ("node_vmstat_",),
    "netstat": ("node_netstat_",),
    "udp_queues": ("node_udp_queues",),
    "sockstat": ("node_sockstat_",),
    "softnet": ("node_softnet_",),
    "filefd": ("node_filefd_",),
    "entropy": ("node_entropy_",),
    "pressure": ("node_pressure_",),
    "conntrack": ("node_nf_conntrack_",),
    "arp": ("node_arp_",),
    "time": ("node_time_clocksource",),
}


def sources(collector: str) -> list[Path]:
    """The recorded sources of a collector (malformed-* and absent ones are tested apart)."""
    base = FIXTURES / collector
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(("malformed", "absent")))


def filter_text(text: str, collector: str) -> str:
    """The HELP/TYPE/sample lines of the collector's families, in the order given."""
    prefixes = FAMILIES[collector]
    out, keep = [], False
    for line in text.splitlines():
        if line.startswith("# "):
            keep = line.split()[2].startswith(prefixes)
        if keep:
            out.append(line)
    return "\n".join(out) + "\n"


def node_exporter_over(source: Path, collector: str, log_dir: Path) -> str:
    """Debian's node_exporter 1.5 with only `collector`, reading source/proc and source/sys."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    proc = Proc([binary("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{port}",
                 "--collector.disable-defaults", f"--collector.{collector}",
                 f"--path.procfs={source / 'proc'}", f"--path.sysfs={source / 'sys'}"],
                log_dir / f"node_exporter-{collector}-{source.name}.log")
    try:
        proc.wait_http(url)
        with urllib.request.urlopen(url, timeout=15) as resp:
            return resp.read().decode()
    finally:
        proc.stop()


def record_missing(log_dir: Path) -> None:
    for collector in FAMILIES:
        for source in sources(collector):
            expected = source / "expected.prom"
            if not expected.exists():
                expected.write_text(filter_text(node_exporter_over(source, collector, log_dir), collector))
                print("wrote", expected.relative_to(REPO), file=sys.stderr)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        record_missing(Path(tmp))
