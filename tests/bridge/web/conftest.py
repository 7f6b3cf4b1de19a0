"""Fixtures of the web tests: clients of apps built with other `bridge` settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient


@pytest.fixture
def client_with(make_app: Callable[..., Flask]) -> Callable[..., FlaskClient]:
    """`client_with(api_token=..., read_open=True)`: a test client of an app with those `bridge` keys."""

    def build(**bridge: Any) -> FlaskClient:
        return make_app(bridge=bridge).test_client()

    return build
