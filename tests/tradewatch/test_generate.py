"""`tradewatch generate [--check]`: every generator through one entry point, on the checkout and on
a copy whose generated files drift."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.procs import REPO
from tradewatch.commands.generate import GENERATORS

# what the generators read and write; the code comes from the installed package (and the copy's
# dashboards/ and docs/ scripts)
CHECKOUT_PARTS = ("pyproject.toml", "README.md", "prometheus", "deploy", "dashboards", "docs")


def generate(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradewatch.cli", "generate", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd, env={"PATH": "/usr/bin:/bin"})


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    for part in CHECKOUT_PARTS:
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / part, root / part)
    return root


def test_the_generators_are_the_documented_four():
    assert [g.name for g in GENERATORS] == ["rules", "compose", "dashboards", "docs"]


def test_check_passes_on_the_checkout(tmp_path: Path):
    res = generate("--check", cwd=tmp_path)  # from any folder: the checkout the package runs from
    assert res.returncode == 0, res.stderr
    assert "every generated file is current (rules, compose, dashboards, docs)" in res.stdout


def test_check_names_each_stale_file_and_generate_fixes_them(copy: Path):
    assert generate("--check", "--root", copy).returncode == 0
    system = copy / "prometheus" / "rules" / "system.yml"
    system.write_text(system.read_text().replace("> 0.8\n", "> 0.75\n", 1))
    (copy / "deploy" / "compose" / "alertmanager.yml").unlink()
    trading = copy / "dashboards" / "trading.json"
    trading.write_text(json.dumps({**json.loads(trading.read_text()), "title": "edited"}, indent=2) + "\n")
    (copy / "dashboards" / "hand-made.json").write_text("{}\n")
    readme = copy / "README.md"
    readme.write_text(readme.read_text() + "a hand edit\n")
    edited = {p: p.read_text() for p in (system, trading, readme)}

    res = generate("--check", "--root", copy)
    assert res.returncode == 1
    err = res.stderr
    assert "tradewatch generate: 5 generated file(s) are stale:" in err
    assert "  rules: differs: prometheus/rules/system.yml (2 lines)" in err
    assert "+      instance:node_cpu_utilisation:rate5m > 0.8" in err
    assert "  compose: missing: deploy/compose/alertmanager.yml" in err
    assert "  dashboards: differs: dashboards/trading.json" in err
    assert "  dashboards: not generated any more (stale): dashboards/hand-made.json" in err
    assert "  docs: differs: README.md" in err
    assert "run `tradewatch generate`" in err
    assert {p: p.read_text() for p in edited} == edited  # --check writes nothing
    # one generator at a time sees only its own files
    assert generate("--check", "--only", "docs", "--root", copy).returncode == 1
    assert generate("--check", "--only", "compose", "--only", "rules", "--root", copy).returncode == 1

    res = generate("--root", copy)
    assert res.returncode == 0, res.stderr
    assert "rules: wrote prometheus/rules/system.yml" in res.stdout
    assert "dashboards: removed dashboards/hand-made.json" in res.stdout
    assert "tradewatch generate: 5 file(s) updated" in res.stdout
    assert generate("--check", "--root", copy).returncode == 0
    for rel in ("prometheus/rules/system.yml", "deploy/compose/alertmanager.yml", "dashboards/trading.json",
                "README.md"):
        assert (copy / rel).read_text() == (REPO / rel).read_text(), rel
    assert not (copy / "dashboards" / "hand-made.json").exists()


def test_a_changed_source_is_rendered_into_every_generated_file(copy: Path):
    example = copy / "deploy" / "tradewatch.example.yaml"
    example.write_text(example.read_text().replace("cpu_percent:          {warning: 80",
                                                   "cpu_percent:          {warning: 70"))
    res = generate("--check", "--root", copy)
    assert res.returncode == 1
    for rel in ("prometheus/rules/system.yml", "docs/alerts.md", "dashboards/host-overview.json"):
        assert f": differs: {rel}" in res.stderr, rel
    assert generate("--root", copy).returncode == 0
    assert "> 0.7\n" in (copy / "prometheus" / "rules" / "system.yml").read_text()
    assert generate("--check", "--root", copy).returncode == 0


def test_outside_a_checkout_it_says_so(tmp_path: Path):
    res = generate("--check", "--root", tmp_path)
    assert res.returncode == 2
    assert f"{tmp_path} is not a TradeWatch checkout" in res.stderr


def test_config_does_not_apply(tmp_path: Path):
    res = generate("--check", "--config", tmp_path / "x.yaml")
    assert res.returncode == 2 and "--config does not apply" in res.stderr
