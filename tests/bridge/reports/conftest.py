"""Fixtures of the report tests: the bridge with an unreachable Prometheus, on the real clock.

The health-score gauge ages its value with time.time(), so the report app runs on the real
clock (not the bridge tests' settable one); its sender only counts wake-ups.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from flask import Flask

from alert_bridge.store.database import Database
from alert_bridge.web.app import create_app
from tests.support.bridge import make_config
from tests.support.procs import free_port
from tradewatch.config import Config


class QuietSender:
    """Stands in for the OutboxSender: counts wake-ups, sends nothing (nothing leaves the outbox)."""

    def __init__(self) -> None:
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1


@pytest.fixture
def config(tmp_path) -> Config:
    """Nothing listens on the Prometheus port; the report is due at 09:00 London time."""
    return make_config(
        tmp_path,
        bridge={"prometheus_url": f"http://127.0.0.1:{free_port()}"},
        intervals={"daily_report": "09:00"},
        report={"timezone": "Europe/London"},
    )


@pytest.fixture
def app(config: Config) -> Iterator[Flask]:
    application = create_app(config, sender=QuietSender())
    application.config["TESTING"] = True
    yield application
    application.extensions["tradewatch"].db.close()


@pytest.fixture
def conn(db: Database) -> sqlite3.Connection:
    return db.connection()
