"""docs/exporter.md's metric-family table matches exactly what the exporter emits by default."""

from __future__ import annotations

import fnmatch
import os
import re
import sys
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.procs import REPO, Proc, binary, free_port

pytestmark = pytest.mark.integration

DOC = REPO / "docs" / "exporter.md"


def platform_tags() -> set[str]:
    if sys.platform.startswith("linux"):
        return {"all", "linux", "posix", "linux-udev"}
    if sys.platform == "darwin":
        return {"all", "macos", "posix"}
    if sys.platform == "win32":
        return {"all", "windows"}
    return {"all", "bsd", "posix"}


def documented() -> list[dict[str, object]]:
    text = DOC.read_text()
    section = text.split("## Metric families", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        rows.append({
            "name": cells[0].strip("`"),
            "type": "unknown" if cells[1] == "untyped" else cells[1],
            "labels": {c.strip().strip("`") for c in cells[2].split(",") if c.strip()},
            "os": {t.strip() for t in cells[3].split(",")},
        })
    return rows


def emitted(url: str) -> dict[str, tuple[str, set[str]]]:
    with urllib.request.urlopen(url, timeout=15) as resp:
        body = resp.read().decode()
    out = {}
    for fam in text_string_to_metric_families(body):
        name = fam.name + "_total" if fam.type == "counter" else fam.name
        out[name] = (fam.type, {k for s in fam.samples for k in s.labels})
    return out


def test_documented_families_match_default_emission(tmp_path):
    rows = documented()
    assert len(rows) > 40
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    env = {k: v for k, v in os.environ.items() if k != "TRADEWATCH_CONFIG"}
    proc = Proc([binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{port}"], tmp_path / "exp.log",
                env=env, cwd=tmp_path)  # no config file: the defaults
    try:
        proc.wait_http(url)
        got = emitted(url)
    finally:
        proc.stop()
    here = platform_tags()
    exact = {r["name"]: r for r in rows if "*" not in str(r["name"])}
    wild = [r for r in rows if "*" in str(r["name"]) and r["os"] & here]
    # families from udev's data exist only for devices it describes: allowed, not required
    expected = {n for n, r in exact.items() if r["os"] & here and "linux-udev" not in r["os"]}
    missing = expected - set(got)
    assert not missing, f"documented for this OS but not emitted: {sorted(missing)}"
    undocumented = [
        n for n in got
        if not (n in exact and exact[n]["os"] & here)
        and not any(fnmatch.fnmatchcase(n, str(w["name"])) for w in wild)
    ]
    assert not undocumented, f"emitted but not documented for this OS: {sorted(undocumented)}"
    for name, (typ, labels) in got.items():
        row = exact.get(name) or next(w for w in wild if fnmatch.fnmatchcase(name, str(w["name"])))
        assert typ == row["type"], name
        assert labels == row["labels"], name


def test_every_flag_is_documented():
    text = DOC.read_text()
    from exporter.cli import REGEX_FLAGS

    for flag in [*REGEX_FLAGS, "--collector.filesystem.mount-timeout", "--collector.filesystem.network",
                 "--collector.textfile.directory", "--collector.timeout", "--collector.disable-defaults",
                 "--path.rootfs", "--listen", "--config", "--log-level"]:
        assert re.search(re.escape(f"`{flag}"), text), flag


def test_doc_records_bench_figures_with_the_command():
    text = DOC.read_text()
    assert "tests/bench/bench_exporter.py" in text
    assert "BENCH_PLACEHOLDER" not in text
