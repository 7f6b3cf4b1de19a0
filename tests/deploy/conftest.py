"""Fixtures of the deployment tests: the compose file as data."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support.procs import REPO


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker-compose.yml, parsed."""
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())

