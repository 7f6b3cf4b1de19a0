"""Fixtures of the background-job tests: the app's Workers on the test clock (not started)."""

from __future__ import annotations

import pytest
from flask import Flask

from alert_bridge.jobs.schedule import build_jobs
from alert_bridge.jobs.workers import Workers
from tests.support.bridge import Clock


@pytest.fixture
def workers(app: Flask, clock: Clock) -> Workers:
    """Every job of build_jobs on the app's database; tests call run_job(job, now) themselves."""
    state = app.extensions["tradewatch"]
    return Workers(state.config, state.db, build_jobs(state.config), clock=clock)
