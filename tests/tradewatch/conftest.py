"""Fixtures of the operator CLI tests: a site config whose paths point into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.procs import REPO


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A config whose file sink lives in tmp_path (the wizard reads it for paths)."""
    cfg = tmp_path / "tradewatch.yaml"
    cfg.write_text((REPO / "deploy" / "tradewatch.example.yaml").read_text()
                   .replace("../var/outbox", str(tmp_path / "outbox"))
                   .replace("../var/tradewatch.db", str(tmp_path / "tw.db")))
    return cfg

