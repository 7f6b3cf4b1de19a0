"""`tradewatch rules --check` on the committed files, and after they drift; docs/alerts.md is current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.procs import REPO
from tradewatch.config import EXAMPLE_CONFIG, load_config
from tradewatch.rules import docs

EXAMPLE = "deploy/tradewatch.example.yaml"


def tradewatch(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradewatch.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=60, cwd=cwd, env={"PATH": "/usr/bin:/bin"})


def test_check_passes_on_committed_files() -> None:
    res = tradewatch("rules", "--config", EXAMPLE, "--out", "prometheus", "--check",
                     "--docs", "docs/alerts.md")
    assert res.returncode == 0, res.stderr
    assert "up to date" in res.stdout


def test_default_config_is_the_example(tmp_path: Path) -> None:
    # from a folder without ./tradewatch.yaml and with $TRADEWATCH_CONFIG unset
    res = tradewatch("rules", "--check", "--out", REPO / "prometheus", cwd=tmp_path)
    assert res.returncode == 0, res.stderr


def test_check_fails_after_a_hand_edit(copy: Path) -> None:
    rules = copy / "rules" / "system.yml"
    rules.write_text(rules.read_text().replace("> 0.8\n", "> 0.75\n", 1))
    res = tradewatch("rules", "--config", EXAMPLE, "--out", copy, "--check")
    assert res.returncode == 1
    assert "differs:" in res.stderr and "system.yml" in res.stderr
    assert "-      instance:node_cpu_utilisation:rate5m > 0.75" in res.stderr
    assert "+      instance:node_cpu_utilisation:rate5m > 0.8" in res.stderr
    assert "run `tradewatch rules" in res.stderr


def test_check_fails_when_the_config_changed(copy: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "site.yaml"
    cfg.write_text((REPO / EXAMPLE).read_text().replace("cpu_percent:          {warning: 80",
                                                         "cpu_percent:          {warning: 70"))
    res = tradewatch("rules", "--config", cfg, "--out", copy, "--check")
    assert res.returncode == 1
    assert "rules/system.yml" in res.stderr and "tests/system.test.yml" in res.stderr
    # rendering fixes it, and the check then passes
    res = tradewatch("rules", "--config", cfg, "--out", copy)
    assert res.returncode == 0, res.stderr
    assert "> 0.7\n" in (copy / "rules" / "system.yml").read_text()
    assert tradewatch("rules", "--config", cfg, "--out", copy, "--check").returncode == 0


def test_check_reports_missing_and_stale_files(copy: Path) -> None:
    (copy / "rules" / "api.yml").unlink()
    shutil.copy(copy / "rules" / "bridge.yml", copy / "rules" / "old.yml")
    res = tradewatch("rules", "--config", EXAMPLE, "--out", copy, "--check")
    assert res.returncode == 1
    assert "missing:" in res.stderr and "api.yml" in res.stderr
    assert "stale" in res.stderr and "old.yml" in res.stderr
    assert tradewatch("rules", "--config", EXAMPLE, "--out", copy).returncode == 0
    assert not (copy / "rules" / "old.yml").exists()
    assert (copy / "rules" / "api.yml").exists()


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("thresholds:\n  memory_percent: {warning: 97, critical: 95}\n")
    res = tradewatch("rules", "--config", cfg, "--out", tmp_path / "out")
    assert res.returncode == 2
    assert f"{cfg}: thresholds.memory_percent: warning (97) must be below critical (95)" in res.stderr
    assert not (tmp_path / "out").exists()


def test_docs_table_is_current() -> None:
    page = (REPO / "docs" / "alerts.md").read_text()
    block = docs.generated_block(load_config(EXAMPLE_CONFIG), EXAMPLE)
    assert block in page, "docs/alerts.md is stale: run tradewatch rules --docs docs/alerts.md"
    for name in ("HostCpuHigh", "HostFilesystemFillingUp", "Watchdog", "TradingDrawdown"):
        assert f"| `{name}` |" in page
