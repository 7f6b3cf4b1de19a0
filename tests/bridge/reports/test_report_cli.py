"""`tradewatch report`: text to stdout, --out HTML, --send, bad --date."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.procs import binary, free_port


@pytest.fixture
def config_file(tmp_path) -> Path:
    cfg = tmp_path / "tradewatch.yaml"
    cfg.write_text(
        f"bridge: {{prometheus_url: 'http://127.0.0.1:{free_port()}', database: tw.db, outbox_dir: outbox}}\n"
    )
    return cfg


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary("tradewatch"), "report", *args], capture_output=True, text=True, timeout=60)


def test_text_to_stdout_says_what_is_missing(config_file):
    out = run("--config", str(config_file))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("TradeWatch daily report")
    assert "DATA GAPS" in out.stdout and "could not be queried" in out.stdout


def test_out_writes_html(config_file, tmp_path):
    target = tmp_path / "r.html"
    out = run("--config", str(config_file), "--out", str(target))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(target.resolve())
    assert "<html" in target.read_text() and "TradeWatch daily report" in target.read_text()


@pytest.mark.parametrize("value", ["2026-13-01", "2999-01-01"])
def test_bad_date_is_exit_2(config_file, value):
    out = run("--config", str(config_file), "--date", value)
    assert out.returncode == 2 and "--date" in out.stderr


def test_send_without_recipients_says_so(config_file):
    out = run("--config", str(config_file), "--send")
    assert out.returncode == 1
    assert "email.to is empty" in out.stdout


def test_send_delivers_through_the_file_sink(tmp_path):
    cfg = tmp_path / "tradewatch.yaml"
    cfg.write_text(
        f"bridge: {{prometheus_url: 'http://127.0.0.1:{free_port()}', database: tw.db, outbox_dir: outbox}}\n"
        "email: {smtp_server: '', to: ['ops@example.com']}\n"
    )
    out = run("--config", str(cfg), "--send")
    assert out.returncode == 0, out.stdout + out.stderr
    assert ": sent" in out.stdout
    files = [p for p in (tmp_path / "outbox").rglob("*") if p.is_file()]
    assert files and any(b"Daily report" in p.read_bytes() for p in files)
