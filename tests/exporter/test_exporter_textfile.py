"""The textfile collector: node_exporter semantics on the fixture files."""

from __future__ import annotations

import logging
import os
import shutil
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporter.collectors.textfile import TextfileCollector, build
from tests.support.exporter_probes import families, value
from tests.support.procs import binary, free_port, running
from tradewatch import metric_names as names
from tradewatch.config import parse_config

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exporter" / "textfile"
GOOD = ["backup.prom", "backup_files.prom"]
BAD = ["broken.prom", "conflicting_help.prom", "conflicting_type.prom", "repeated_series.prom",
       "timestamped.prom"]


def textdir(tmp_path: Path, files: list[str]) -> Path:
    d = tmp_path / "textfile"
    d.mkdir()
    for i, name in enumerate(files):
        shutil.copy(FIXTURES / name, d / name)
        os.utime(d / name, (1_700_000_000 + i, 1_700_000_000 + i))
    return d


def test_good_files_are_merged_with_mtimes(tmp_path):
    d = textdir(tmp_path, GOOD)
    f = families(TextfileCollector(d).collect())
    ts = "backup_last_success_timestamp_seconds"
    assert f[ts].type == "gauge"
    assert value(f, ts, job="db") == 1.7e9
    assert value(f, ts, job="files") == 1.6e9  # merged from the second file
    assert f["backup_runs"].type == "counter"
    assert value(f, "backup_runs", result="failed") == 2
    assert f["backup_duration_seconds"].type == "histogram"
    assert value(f, names.TEXTFILE_MTIME, file=str(d / "backup.prom")) == 1_700_000_000
    assert value(f, names.TEXTFILE_MTIME, file=str(d / "backup_files.prom")) == 1_700_000_001
    assert value(f, names.TEXTFILE_SCRAPE_ERROR) == 0
    assert value(f, "node_textfile_scrape_error") == 0


def test_bad_files_are_skipped_whole_and_flagged(tmp_path, caplog):
    d = textdir(tmp_path, GOOD + BAD)
    with caplog.at_level(logging.ERROR, "exporter.textfile"):
        f = families(TextfileCollector(d).collect())
    assert value(f, names.TEXTFILE_SCRAPE_ERROR) == 1
    assert value(f, "node_textfile_scrape_error") == 1  # what the node-mixin's alert reads
    assert {s.labels["file"] for s in f[names.TEXTFILE_MTIME].samples} == {str(d / n) for n in GOOD}
    # nothing of a rejected file leaks into the output
    assert "half_written" not in f and "queue_depth" not in f
    ts = "backup_last_success_timestamp_seconds"
    assert {s.labels["job"] for s in f[ts].samples} == {"db", "files"}
    assert f[ts].type == "gauge"
    assert value(f, "backup_runs", result="ok") == 41
    assert {s.labels["result"] for s in f["backup_runs"].samples} == {"ok", "failed"}
    for bad in BAD:
        assert bad in caplog.text, f"no error logged for {bad}"
    assert "client-side timestamps" in caplog.text
    assert "has type counter, but gauge" in caplog.text


def test_exposition_of_merged_files_parses(tmp_path):
    registry = CollectorRegistry()
    registry.register(TextfileCollector(textdir(tmp_path, GOOD + BAD)))
    text = generate_latest(registry).decode()
    names_out = [fam.name for fam in text_string_to_metric_families(text)]
    assert len(names_out) == len(set(names_out)), "a family was written twice"
    assert "backup_runs_total{result=\"ok\"} 41.0" in text


def test_missing_directory_is_an_error_not_a_crash(tmp_path):
    f = families(TextfileCollector(tmp_path / "nope").collect())
    assert value(f, names.TEXTFILE_SCRAPE_ERROR) == 1
    assert f[names.TEXTFILE_MTIME].samples == []


def test_only_prom_files_are_read(tmp_path):
    d = textdir(tmp_path, GOOD)
    (d / "notes.txt").write_text("not_a_metric 1\n")
    (d / "half.prom.tmp").write_text("partial_write 1\n")  # a writer's temp file
    f = families(TextfileCollector(d).collect())
    assert "not_a_metric" not in f and "partial_write" not in f
    assert value(f, names.TEXTFILE_SCRAPE_ERROR) == 0


def test_without_a_directory_only_node_textfile_scrape_error_0_as_node_exporter():
    f = families(TextfileCollector(None).collect())
    assert list(f) == ["node_textfile_scrape_error"]
    assert value(f, "node_textfile_scrape_error") == 0
    assert f["node_textfile_scrape_error"].documentation == (
        "1 if there was an error opening or reading a file, 0 otherwise")


def test_factory_reads_the_config_key(tmp_path):
    empty = build(parse_config({}))
    assert empty.directory is None and empty.inline
    cfg = parse_config({"exporter": {"collectors": {"textfile_directory": str(tmp_path)}}})
    collector = build(cfg)
    assert collector is not None and collector.directory == tmp_path and collector.name == "textfile"


@pytest.mark.integration
def test_same_series_as_node_exporter(tmp_path):
    """Debian's node_exporter reading the same good files exports the same series."""
    d = textdir(tmp_path, GOOD)
    port = free_port()
    args = [binary("prometheus-node-exporter"), "--collector.disable-defaults", "--collector.textfile",
            f"--collector.textfile.directory={d}", f"--web.listen-address=127.0.0.1:{port}"]
    url = f"http://127.0.0.1:{port}/metrics"
    with (running(args, tmp_path / "node_exporter.log", ready_url=url),
          urllib.request.urlopen(url, timeout=5) as resp):
        theirs_text = resp.read().decode()

    def series(text: str, rename: dict[str, str]) -> set:
        out = set()
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                if s.name.startswith(("backup_", "node_textfile_", "tradewatch_textfile_")):
                    out.add((rename.get(s.name, s.name), fam.type, frozenset(s.labels.items()), s.value))
        return out

    registry = CollectorRegistry()
    registry.register(TextfileCollector(d))
    ours = series(generate_latest(registry).decode(), {})
    ours_error = {s for s in ours if s[0] == names.TEXTFILE_SCRAPE_ERROR}
    assert [s[3] for s in ours_error] == [0.0]
    theirs = series(theirs_text, {"node_textfile_mtime_seconds": names.TEXTFILE_MTIME})
    assert len(ours) >= 10
    assert ours - ours_error == theirs
