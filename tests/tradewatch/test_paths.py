"""Where TradeWatch's files are, in a checkout and in an installed package (tradewatch/paths.py)."""

from __future__ import annotations

from pathlib import Path

from tradewatch import paths
from tradewatch.config import EXAMPLE_CONFIG, load_config
from tradewatch.rules.render import source_label

REPO = Path(__file__).resolve().parents[2]


def test_in_this_checkout_the_example_is_deploys():
    assert paths.CHECKOUT == REPO
    assert EXAMPLE_CONFIG == REPO / "deploy" / "tradewatch.example.yaml"
    assert source_label(EXAMPLE_CONFIG) == "deploy/tradewatch.example.yaml"


def test_installed_layout_uses_the_packaged_example_and_the_current_folder(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    (site / "tradewatch").mkdir(parents=True)
    assert paths.find_checkout(site / "tradewatch") is None  # no pyproject.toml + deploy/ beside it
    assert paths.example_config(None) == paths.EXAMPLE_IN_PACKAGE
    monkeypatch.chdir(tmp_path)
    assert paths.default_home(None) == tmp_path


def test_the_packaged_example_writes_under_the_current_folder(tmp_path, monkeypatch):
    packaged = tmp_path / "site-packages" / "tradewatch" / "examples" / paths.EXAMPLE_NAME
    packaged.parent.mkdir(parents=True)
    packaged.write_text(EXAMPLE_CONFIG.read_text())
    monkeypatch.setattr(paths, "EXAMPLE_IN_PACKAGE", packaged)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    cfg = load_config(packaged, env={})
    assert cfg.bridge.database == work / "var" / "tradewatch.db"  # ../var/ as in a checkout
    assert cfg.bridge.outbox_dir == work / "var" / "outbox"


def test_a_checkout_is_recognised_by_its_project_file_and_example(tmp_path):
    (tmp_path / "tradewatch").mkdir()
    assert paths.find_checkout(tmp_path / "tradewatch") is None
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / paths.EXAMPLE_NAME).write_text("")
    assert paths.find_checkout(tmp_path / "tradewatch") == tmp_path
