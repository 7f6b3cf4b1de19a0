"""Fixtures shared by every test module. Area fixtures live in the area's own conftest or module."""

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
