"""File modes (issue 13.2): the database and its side files 0600, a new folder 0700, whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from alert_bridge.store.database import Database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_a_new_database_and_its_wal_and_shm_are_private(tmp_path, umask):
    path = tmp_path / "new" / "tradewatch.db"
    db = Database(path)
    try:
        db.migrate()
        with db.transaction() as conn:
            conn.execute("INSERT INTO state (key, value) VALUES ('x', 'y')")
        files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
        assert len(files) == 3
        assert {p.name: oct(mode(p)) for p in files} == {p.name: oct(0o600) for p in files}
        assert mode(path.parent) == 0o700
    finally:
        db.close()


def test_an_existing_world_readable_database_is_fixed_and_the_fix_logged(tmp_path, caplog):
    path = tmp_path / "tradewatch.db"
    Database(path).close()
    for suffix in ("", "-wal"):
        Path(f"{path}{suffix}").touch()
        os.chmod(f"{path}{suffix}", 0o644)
    with caplog.at_level(logging.WARNING, logger="alert_bridge.store.database"):
        Database(path).close()
    assert mode(path) == 0o600 and mode(Path(f"{path}-wal")) == 0o600
    assert "was readable by others (mode 644): changed to 0600" in caplog.text
