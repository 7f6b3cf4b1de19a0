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
from hypothesis import HealthCheck, settings

from tests.support.receiver import Receiver, receiver

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"

# Property tests check logic, never speed (speed is the benchmarks' business): no per-example
# deadline and no "input generation is slow" health check, both of which fail on a loaded machine.
settings.register_profile("tradewatch", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tradewatch")

# The longest files (20 s to 150 s each, mostly waiting on real servers), started first: on the
# test workers (tests/run.sh) they then overlap with the many short files instead of running
# alone at the end. Order only: every test runs on its own.
LONG_FILES_FIRST = ("tests/e2e/test_e2e_first_hour.py", "tests/e2e/", "tests/rules/test_rules_cpu_start.py",
                    "tests/bridge/web/test_bridge_schemathesis.py", "tests/deploy/test_stack_runner.py",
                    "tests/bridge/reports/test_report_integration.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def long_first(item: pytest.Item) -> int:
        path = Path(str(item.path)).resolve().relative_to(REPO).as_posix()
        return next((i for i, prefix in enumerate(LONG_FILES_FIRST) if path.startswith(prefix)),
                    len(LONG_FILES_FIRST))

    items.sort(key=long_first)  # stable: the order within each group stays


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
