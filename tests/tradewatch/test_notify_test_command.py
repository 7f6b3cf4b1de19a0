"""`tradewatch notify-test [--channel NAME]` against a real JSON receiver through real Apprise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.bridge import config_data
from tests.support.receiver import receiver

pytestmark = pytest.mark.integration
SECRET = "Sup3rSecretTokenXYZ"


def run(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "tradewatch.cli", "notify-test", "--config", str(cfg), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_sends_to_each_channel_or_one_and_reports_failures_without_secrets(tmp_path: Path) -> None:
    with receiver() as rx:
        data = config_data(tmp_path)
        data["channels"] = [{"name": "phone", "url": f"json://bot:{SECRET}@127.0.0.1:{rx.port}/phone"},
                            {"name": "desk", "url": rx.url("desk")}]
        cfg = tmp_path / "tw.yaml"
        cfg.write_text(yaml.safe_dump(data))
        out = run(cfg)
        assert out.returncode == 0, out.stderr
        assert "phone (json://bot:****@127.0.0.1" in out.stdout and "desk (" in out.stdout
        assert len(rx.received("/phone")) == 1 and len(rx.received("/desk")) == 1
        out = run(cfg, "--channel", "desk", "--note", "hello")
        assert out.returncode == 0 and "phone" not in out.stdout
        assert "hello" in rx.received("/desk")[1]["message"]
        rx.status = 404
        out = run(cfg, "--channel", "phone")
        assert out.returncode == 1 and "phone" in out.stdout and "failed" in out.stdout
        assert "error=404" in out.stdout and SECRET not in out.stdout + out.stderr
        out = run(cfg, "--channel", "nope")
        assert out.returncode == 2 and "configured: phone, desk" in out.stderr
