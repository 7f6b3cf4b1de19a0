"""The exporter's light default settings stay equal to the shared config's defaults."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from exporter import __version__
from exporter.settings import COLLECTOR_DEFAULTS, DefaultConfig, config_path, load, with_collector_overrides
from tradewatch.config import EXAMPLE_CONFIG, Collectors, Config, load_config


def test_collector_defaults_equal_the_config_models():
    assert {k: getattr(Collectors(), k) for k in Collectors.model_fields} == COLLECTOR_DEFAULTS
    assert Config().exporter.listen == DefaultConfig().exporter.listen


def test_example_config_exporter_and_probes_are_the_defaults():
    # Why the exporter does not read deploy/tradewatch.example.yaml when no config is given.
    example = load_config(EXAMPLE_CONFIG, env={})
    assert example.exporter == Config().exporter
    assert example.probes == Config().probes


def test_default_config_defers_other_sections_to_the_real_defaults():
    assert DefaultConfig().retention == Config().retention
    assert DefaultConfig().probes.http == []
    assert DefaultConfig().freqtrade == Config().freqtrade == []  # no bots: the collector is not built


def test_config_path_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config_path(None, env={}) is None
    assert config_path(None, env={"TRADEWATCH_CONFIG": "/x.yaml"}) == Path("/x.yaml")
    (tmp_path / "tradewatch.yaml").write_text("{}\n")
    assert config_path(None, env={}) == tmp_path / "tradewatch.yaml"
    assert config_path("other.yaml", env={"TRADEWATCH_CONFIG": "/x.yaml"}) == Path("other.yaml")
    assert isinstance(load(None), DefaultConfig)
    assert isinstance(load(tmp_path / "tradewatch.yaml"), Config)


@pytest.mark.parametrize("cfg", [DefaultConfig(), Config()])
def test_overrides_apply_to_both_config_kinds(cfg):
    out = with_collector_overrides(cfg, {"netdev_device_exclude": "^lo$", "filesystem_timeout": 2.0})
    assert out.exporter.collectors.netdev_device_exclude == "^lo$"
    assert out.exporter.collectors.filesystem_timeout == 2.0
    assert out.exporter.collectors.diskstats_device_exclude == COLLECTOR_DEFAULTS["diskstats_device_exclude"]
    assert with_collector_overrides(cfg, {}) is cfg


def test_version_matches_the_distribution():
    assert __version__ == version("tradewatch-monitor")
