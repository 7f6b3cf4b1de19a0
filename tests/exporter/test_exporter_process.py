"""The real `tradewatch-exporter` process on 127.0.0.1: output checked by promtool, the
node-mixin series with sane values, flags, config errors, index page, negotiation, shutdown."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.exporter_process import exporter_env as _env
from tests.support.exporter_process import start
from tests.support.procs import binary, free_port

pytestmark = pytest.mark.integration

CAMEL_CASE = "metric names should be written in 'snake_case' not 'camelCase'"
BITS = "use base unit \"bytes\" instead of \"bits\""


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=15) as resp:
        return resp.status, dict(resp.headers), resp.read()


def scrape(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    _, _, body = get(f"{url}/metrics")
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def test_promtool_check_metrics(exporter):
    _, _, body = get(f"{exporter}/metrics")
    res = subprocess.run([binary("promtool"), "check", "metrics"], input=body, capture_output=True,
                         timeout=30)
    problems = [line for line in (res.stdout + res.stderr).decode().splitlines() if line.strip()]
    # node_exporter's own names, which a drop-in must keep: meminfo/netstat/sockstat field names
    # in camelCase, and entropy in bits
    camel = ("node_memory_", "node_netstat_", "node_sockstat_")
    other = [p for p in problems
             if not (p.startswith(camel) and p.endswith(CAMEL_CASE))
             and not (p.startswith("node_entropy_") and p.endswith(BITS))]
    assert other == [], "promtool complaints beyond node_exporter's own names"
    assert res.returncode in (0, 3), res  # 3: lint problems (only node_exporter's, checked above)


def test_node_mixin_series_present_and_sane_across_two_scrapes(exporter):
    first = scrape(exporter)
    second = scrape(exporter)
    for name in ("node_cpu_seconds_total", "node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes",
                 "node_memory_MemFree_bytes", "node_memory_Buffers_bytes", "node_memory_Cached_bytes",
                 "node_memory_SwapTotal_bytes", "node_memory_SwapFree_bytes", "node_filesystem_size_bytes",
                 "node_filesystem_avail_bytes", "node_filesystem_free_bytes", "node_filesystem_readonly",
                 "node_filesystem_files", "node_filesystem_files_free", "node_filesystem_device_error",
                 "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
                 "node_network_receive_errs_total", "node_network_transmit_errs_total",
                 "node_network_receive_drop_total", "node_network_transmit_drop_total",
                 "node_network_receive_packets_total", "node_network_transmit_packets_total",
                 "node_load1", "node_load5", "node_load15", "node_boot_time_seconds", "node_uname_info",
                 "node_disk_read_bytes_total", "node_disk_written_bytes_total",
                 "node_disk_io_time_seconds_total", "process_cpu_seconds_total",
                 "process_resident_memory_bytes"):
        assert second.get(name), f"{name} missing"
    mem = {k: next(iter(second[f"node_memory_{k}_bytes"].values()))
           for k in ("MemTotal", "MemAvailable", "MemFree", "SwapFree", "SwapTotal")}
    assert 0 < mem["MemAvailable"] <= mem["MemTotal"]
    assert 0 < mem["MemFree"] <= mem["MemTotal"]
    assert 0 <= mem["SwapFree"] <= mem["SwapTotal"]
    for labels, size in second["node_filesystem_size_bytes"].items():
        avail = second["node_filesystem_avail_bytes"][labels]
        free = second["node_filesystem_free_bytes"][labels]
        assert 0 <= avail <= free <= size, labels
    assert "/" in {dict(lbl)["mountpoint"] for lbl in second["node_filesystem_size_bytes"]}
    modes = {dict(lbl)["mode"] for lbl in second["node_cpu_seconds_total"]}
    assert {"user", "system", "idle"} <= modes
    assert len({dict(lbl)["cpu"] for lbl in second["node_cpu_seconds_total"]}) == os.cpu_count()
    for name, series in first.items():
        if name.endswith("_total") and (name.startswith("node_") or name == "process_cpu_seconds_total"):
            for labels, value in series.items():
                if labels in second.get(name, {}):
                    assert second[name][labels] >= value, (name, labels)
    assert all(v == 1 for v in second["tradewatch_scrape_collector_success"].values())
    assert {dict(k)["collector"] for k in second["tradewatch_scrape_collector_success"]} >= {
        "cpu", "memory", "filesystem", "diskstats", "netdev", "loadavg", "os", "process"}
    # no prometheus_client default collectors duplicating ours
    assert not any(n.startswith(("python_", "process_cpu_seconds_created")) for n in second)


def _loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def test_load_averages_are_the_kernels(exporter):
    """node_load1/5/15 are /proc/loadavg's figures. The kernel refreshes them every 5 s, so the
    scrape's values lie between a reading just before and one just after it (+-0.01: rounding)."""
    before = _loadavg()
    got = scrape(exporter)
    after = _loadavg()
    for i, name in enumerate(("node_load1", "node_load5", "node_load15")):
        low, high = sorted((before[i], after[i]))
        assert low - 0.01 <= got[name][()] <= high + 0.01, (name, got[name][()], before, after)


def test_index_gzip_and_openmetrics(exporter):
    status, headers, body = get(f"{exporter}/")
    assert status == 200 and b'href="metrics"' in body and headers["Content-Type"].startswith("text/html")
    _, headers, body = get(f"{exporter}/metrics", {"Accept-Encoding": "gzip"})
    assert headers.get("Content-Encoding") == "gzip"
    assert b"node_load1 " in gzip.decompress(body)
    _, headers, body = get(f"{exporter}/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"})
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")
    with pytest.raises(urllib.error.HTTPError) as err:
        get(f"{exporter}/nope")
    assert err.value.code == 404
    err.value.close()


def test_no_collector_cpu_removes_cpu_series(tmp_path):
    proc, url = start(tmp_path, "--no-collector.cpu")
    try:
        got = scrape(url)
    finally:
        proc.stop()
    assert "node_cpu_seconds_total" not in got
    assert "cpu" not in {dict(k)["collector"] for k in got["tradewatch_scrape_collector_success"]}
    assert "node_load1" in got


def test_disable_defaults_and_config_file(tmp_path):
    cfg = tmp_path / "tw.yaml"
    cfg.write_text("exporter:\n  collectors:\n    enabled: {memory: true}\n"
                   "    netdev_device_include: '^lo$'\n")
    proc, url = start(tmp_path, "--config", str(cfg), "--collector.disable-defaults", "--collector.netdev")
    try:
        got = scrape(url)
    finally:
        proc.stop()
    assert {dict(k)["collector"] for k in got["tradewatch_scrape_collector_success"]} == {"memory", "netdev"}
    assert {dict(k)["device"] for k in got["node_network_receive_bytes_total"]} == {"lo"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_cleanly(tmp_path, sig):
    proc, url = start(tmp_path)
    scrape(url)
    proc.popen.send_signal(sig)
    try:
        assert proc.popen.wait(10) == 0
        assert "Traceback" not in proc.output()
    finally:
        proc.stop()


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary("tradewatch-exporter"), *args], capture_output=True, text=True,
                          timeout=30, cwd=tmp_path, env=_env())


def test_bad_flags_and_config_exit_2_with_a_clear_message(tmp_path):
    res = run_cli(tmp_path, "--collector.filesystem.mount-points-exclude", "(unclosed")
    assert res.returncode == 2 and "--collector.filesystem.mount-points-exclude" in res.stderr
    assert "invalid regular expression" in res.stderr
    res = run_cli(tmp_path, "--collector.nonexistent")
    assert res.returncode == 2 and "unrecognized arguments" in res.stderr
    res = run_cli(tmp_path, "--listen", "localhost")
    assert res.returncode == 2 and "HOST:PORT" in res.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("exporter:\n  colectors: {}\n")
    res = run_cli(tmp_path, "--config", str(bad))
    assert res.returncode == 2 and "bad.yaml" in res.stderr and "exporter.colectors" in res.stderr
    bad.write_text("exporter:\n  collectors:\n    enabled: {cpux: true}\n")
    res = run_cli(tmp_path, "--config", str(bad))
    assert res.returncode == 2 and "exporter.collectors.enabled.cpux" in res.stderr
    res = run_cli(tmp_path, "--config", str(tmp_path / "missing.yaml"))
    assert res.returncode == 2 and "file not found" in res.stderr


def test_help_lists_every_collector_flag(tmp_path):
    res = run_cli(tmp_path, "--help")
    assert res.returncode == 0
    for name in ("cpu", "memory", "filesystem", "diskstats", "netdev", "loadavg", "os", "process"):
        assert f"--collector.{name}" in res.stdout and f"--no-collector.{name}" in res.stdout
    assert "--collector.netdev.device-exclude" in res.stdout


def test_port_in_use_exits_1(tmp_path, exporter):
    res = run_cli(tmp_path, "--listen", exporter.removeprefix("http://"))
    assert res.returncode == 1 and "cannot listen" in res.stderr


# What `tradewatch-exporter` (its console script calls exporter.cli:main) has imported once it
# has served a scrape without any config: a thread scrapes it, records sys.modules, then stops it.
# The scrape goes over a raw socket: an HTTP client library would load the modules checked for.
_RUN_AND_LIST_MODULES = """
import os, signal, socket, sys, threading, time
from exporter.cli import main

port, out = sys.argv[1], sys.argv[2]

def scrape_then_stop():
    deadline = time.monotonic() + 30
    response = b""
    while True:
        try:
            with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as conn:
                conn.sendall(b"GET /metrics HTTP/1.1\\r\\nHost: x\\r\\nAccept: application/openmetrics-text;"
                             b"version=1.0.0\\r\\nAccept-Encoding: gzip\\r\\nConnection: close\\r\\n\\r\\n")
                while chunk := conn.recv(65536):
                    response += chunk
            break
        except OSError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
    with open(out, "w") as fh:  # the response's head, then the modules
        fh.write(response.split(b"\\r\\n\\r\\n")[0].decode() + "\\r\\n\\r\\n")
        fh.write("\\n".join(sorted(sys.modules)))
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=scrape_then_stop, daemon=True).start()
sys.exit(main(["--listen", f"127.0.0.1:{port}"]))
"""

# The bridge's libraries, the strict config loader, what only configured probes need, and what
# would cost the exporter its memory target (RSS <= 26 MB): the prometheus_client package
# (~10 MB) and the standard library's HTTP modules, which load ssl and email (~5 MB).
NOT_IMPORTED = ("pydantic", "pydantic_core", "yaml", "sqlite3", "_sqlite3", "flask", "jinja2", "requests",
                "matplotlib", "waitress", "css_inline", "alert_bridge", "tradewatch.config", "psycopg",
                "prometheus_client", "ssl", "_ssl", "http.client", "http.server", "wsgiref", "email",
                "urllib.request", "html.entities")


def test_exporter_without_config_imports_nothing_heavy(tmp_path):
    out = tmp_path / "modules.txt"
    res = subprocess.run([sys.executable, "-c", _RUN_AND_LIST_MODULES, str(free_port()), str(out)],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path, env=_env())
    assert res.returncode == 0, res.stderr
    head, _, listing = out.read_bytes().decode().partition("\r\n\r\n")
    modules = listing.split("\n")
    assert "exporter.collectors.probe_http" in modules  # every collector module was loaded
    # and it served a gzipped OpenMetrics scrape
    assert head.startswith("HTTP/1.") and " 200 " in head.splitlines()[0], head
    assert "Content-Encoding: gzip" in head and "application/openmetrics-text" in head, head
    loaded = sorted(m for m in modules if m in NOT_IMPORTED or m.split(".")[0] in NOT_IMPORTED)
    assert loaded == []


def test_idle_connections_do_not_block_scrapes(exporter):
    import socket

    host, port = exporter.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port)), timeout=5) for _ in range(12)]
    try:
        got = scrape(exporter)  # more idle clients than HTTP workers: still served
        assert got["node_load1"][()] >= 0
    finally:
        for s in idle:
            s.close()
