"""Fixtures of the end-to-end tests: the whole pipeline, started once per module, and its logs
attached to the report of any test that fails with it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.procs import wait_until
from tests.support.stack import E2EStack, ProbeTarget, e2e_stack
from tradewatch import metric_names as mn


@pytest.fixture(scope="module")
def start_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., E2EStack]]:
    """`start_stack(name, probes, **overrides)`: aiosmtpd, exporter, Prometheus, Alertmanager(s)
    and the bridge (tests.support.stack.e2e_stack), returned once Prometheus has seen every probe
    target healthy; everything is stopped after the module."""
    with contextlib.ExitStack() as running:

        def start(name: str, probes: dict[str, ProbeTarget], **overrides: Any) -> E2EStack:
            stack = running.enter_context(e2e_stack(tmp_path_factory.mktemp(name), probes, **overrides))
            for probe in probes:  # scraped and healthy before any test breaks one
                wait_until(lambda p=probe: stack.query(f'{mn.PROBE_SUCCESS}{{probe="{p}"}} == 1'), 30,
                           what=f"probe {probe} to succeed in Prometheus")
            return stack

        yield start


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack, E2EStack):
        report.sections.append(("e2e stack logs (last 3000 characters of each)", stack.logs()))
