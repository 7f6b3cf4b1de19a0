"""The extras in pyproject.toml and tradewatch/extras.py agree, and a missing one is named."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tradewatch import extras

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _import_name(requirement: str) -> str:
    return re.split(r"[\[<>=~! ;]", requirement, maxsplit=1)[0].lower().replace("-", "_")


def test_each_extra_lists_the_modules_its_requirements_provide():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["name"] == extras.DISTRIBUTION
    optional = project["optional-dependencies"]
    for extra, modules in extras.EXTRAS.items():
        assert tuple(_import_name(r) for r in optional[extra]) == modules, extra
    assert optional["all"] == [f"{extras.DISTRIBUTION}[{','.join(extras.EXTRAS)}]"]


def test_the_base_install_carries_none_of_the_bridge_libraries():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    base = {_import_name(r) for r in project["dependencies"]}
    assert base == {"psutil", "prometheus_client", "pyyaml", "pydantic"}
    assert not base & set(extras.EXTRAS["bridge"])


def test_a_missing_extra_names_itself_and_the_pip_command(monkeypatch):
    monkeypatch.setitem(extras.EXTRAS, "bridge", ("flask", "no_such_module_for_tradewatch"))
    assert extras.missing("bridge") == ["no_such_module_for_tradewatch"]
    with pytest.raises(extras.MissingExtra) as err:
        extras.require("bridge", "the alert bridge")
    assert str(err.value) == (
        "the alert bridge needs the 'bridge' extra, which is not installed "
        "(missing: no_such_module_for_tradewatch); install it with: pip install 'tradewatch-monitor[bridge]'"
    )


def test_installed_extras_pass():
    extras.require("bridge", "the alert bridge")  # the test environment installs it
