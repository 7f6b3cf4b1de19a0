"""Fixtures shared by every test module.

An area's fixtures live in its conftest.py: tests/bridge/conftest.py (clock, config, db, app,
client, make_app) with tests/bridge/{jobs,notify,reports,sources,web}/conftest.py below it;
tests/e2e (start_stack, and a failed test's stack logs), tests/exporter (exporter, pg),
tests/rules (example, copy, node_exporter, webhook), tests/deploy (compose), tests/tradewatch
(site). `rx` (a JSON receiver for push channels) is here, shared by the bridge and e2e tests.
A fixture that sets up one module's particular scenario (the dashboards' Prometheus stack, an
e2e module's stack) stays in that module; tests/dashboards and tests/docs have no other. Plain
helpers (configs, payloads, servers, processes) are functions in tests/support/, imported where
used; fixtures are never imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.receiver import Receiver, receiver

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture
def artifacts() -> Path:
    """Where tests write screenshots and logs worth keeping (ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def rx() -> Iterator[Receiver]:
    """A JSON receiver on loopback for one test: Apprise's json:// channels post to it (the
    bridge's and the end-to-end channel tests share it)."""
    with receiver() as r:
        yield r
