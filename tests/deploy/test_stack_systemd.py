"""deploy/systemd/*.service: valid units (systemd-analyze verify) that run our console scripts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.procs import REPO

UNITS = sorted((REPO / "deploy" / "systemd").glob("*.service"))


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_verifies_and_runs_our_command(unit: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    text = unit.read_text()
    exec_start = next(ln for ln in text.splitlines() if ln.startswith("ExecStart="))
    program = Path(exec_start.split("=", 1)[1].split()[0])
    assert program.name in ("tradewatch-exporter", "tradewatch-bridge")
    assert "--listen 127.0.0.1:" in exec_start and "--config /etc/tradewatch/tradewatch.yaml" in exec_start
    assert "User=tradewatch" in text  # never root
    # the installed venv's script stands in for /opt/tradewatch/.venv/bin
    local = tmp_path / unit.name
    local.write_text(text.replace(str(program.parent), str(Path(sys.executable).parent)))
    res = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    problems = [ln for ln in (res.stdout + res.stderr).splitlines() if unit.name in ln]
    assert res.returncode == 0 and not problems, res.stdout + res.stderr
