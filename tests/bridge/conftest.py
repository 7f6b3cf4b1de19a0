"""Fixtures of every bridge test: a settable clock, a hermetic config, its database, the app.

`config` is the bridge with no Prometheus, Alertmanager or exporter and a file-sink email
(tests.support.bridge.config_data); `db` is that config's database, migrated; `app` and
`client` serve it with Flask's test client on `clock`. A test changes config sections with
indirect parametrisation of `config` (see its docstring). Areas below override them where they
need something else (tests/bridge/reports: a real clock and a quiet sender).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from alert_bridge.store.database import Database
from alert_bridge.web.app import create_app
from tests.support.bridge import Clock, make_config
from tradewatch.config import Config


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def config(tmp_path, request: pytest.FixtureRequest) -> Config:
    """Sections to change come from indirect parametrisation:
    `@pytest.mark.parametrize("config", [{"retention": {"alerts_days": 2}}], indirect=True)`."""
    return make_config(tmp_path, **getattr(request, "param", {}))


@pytest.fixture
def db(config: Config) -> Iterator[Database]:
    """The configured database (bridge.database), migrated; closed after the test."""
    database = Database.for_config(config)
    database.migrate()
    yield database
    database.close()


@pytest.fixture
def app(config: Config, clock: Clock) -> Iterator[Flask]:
    application = create_app(config, clock=clock)
    application.config["TESTING"] = True
    yield application
    application.extensions["tradewatch"].db.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_app(tmp_path, clock: Clock) -> Iterator[Callable[..., Flask]]:
    """More apps in one test: `make_app(bridge={...}, sender=...)` takes config sections and
    create_app's keywords; each gets its own folder under tmp_path; all are closed after the test."""
    apps: list[Flask] = []

    def build(*, sender: Any = None, **sections: dict[str, Any]) -> Flask:
        application = create_app(make_config(tmp_path / f"app{len(apps)}", **sections), clock=clock,
                                 sender=sender)
        application.config["TESTING"] = True
        apps.append(application)
        return application

    yield build
    for application in apps:
        application.extensions["tradewatch"].db.close()
