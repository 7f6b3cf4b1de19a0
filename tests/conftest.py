"""Fixtures shared by every test module.

An area's fixtures live in its conftest.py: tests/bridge/conftest.py (clock, config, db, app,
client, make_app) with tests/bridge/{jobs,notify,reports,sources,web}/conftest.py below it, and
tests/e2e/conftest.py (start_stack, logs of a failed test's stack). A fixture that sets up one
module's particular case stays in that module. Plain helpers (configs, payloads, servers,
processes) are functions in tests/support/, imported where used; fixtures are never imported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture
def artifacts() -> Path:
    """Where tests write screenshots and logs worth keeping (ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
