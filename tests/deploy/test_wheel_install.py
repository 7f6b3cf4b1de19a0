"""The wheel works outside a checkout: built from the project files alone, installed into fresh
venvs in a temporary folder, its commands run with the packaged example config.

The base install must serve the exporter and render the committed rule files byte for byte, and
carry none of the bridge's libraries; the `bridge` extra adds a working `tradewatch-bridge`.
The wheelhouse (this wheel and its dependencies' wheels, from pip's cache or the index) is built
once per session, so the venvs install with --no-index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.procs import REPO, Proc, free_port, wait_until

pytestmark = pytest.mark.integration

PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
# what the build needs: the Dockerfile's build stage copies the same
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "deploy/tradewatch.example.yaml",
           "exporter", "alert_bridge", "tradewatch"]
BRIDGE_ONLY = ("flask", "jinja2", "waitress", "matplotlib", "css_inline")
OWN_CHECKS = ("database", "workers", "sender")


def _run(args: list[str | Path], cwd: Path | None = None, timeout: float = 300,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


def _ok(res: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert res.returncode == 0, f"{res.args}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _clean_env() -> dict[str, str]:
    """No TRADEWATCH_* settings and no PYTHONPATH: the installed package alone decides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TRADEWATCH_") and k != "PYTHONPATH"}


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a clean copy of its sources, and every dependency's wheel."""
    src = tmp_path_factory.mktemp("wheel-src")
    for rel in SOURCES:
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / rel).is_dir():
            shutil.copytree(REPO / rel, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(REPO / rel, target)
    house = tmp_path_factory.mktemp("wheelhouse")
    _ok(_run([*PIP, "wheel", "--quiet", "--no-deps", "--wheel-dir", house, src]))
    (wheel,) = house.glob("tradewatch_monitor-*.whl")
    _ok(_run([*PIP, "wheel", "--quiet", "--wheel-dir", house, f"{wheel}[all]"]))
    return house


def _venv(root: Path, house: Path, requirement: str) -> Path:
    """A fresh venv (no pip of its own: the test's pip installs into it) holding `requirement`."""
    _ok(_run([sys.executable, "-m", "venv", "--without-pip", root]))
    _ok(_run([*PIP, "--python", root / "bin" / "python", "install", "--quiet", "--no-index",
              "--find-links", house, requirement]))
    return root / "bin"


@pytest.fixture(scope="module")
def base_bin(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("venv-base") / "venv", wheelhouse, "tradewatch-monitor")


@pytest.fixture(scope="module")
def bridge_bin(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("venv-bridge") / "venv", wheelhouse, "tradewatch-monitor[bridge]")


def test_the_wheel_carries_every_data_file_and_the_example_config(wheelhouse: Path):
    (wheel,) = wheelhouse.glob("tradewatch_monitor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tradewatch/examples/tradewatch.example.yaml" in names
    data = [p.relative_to(REPO).as_posix() for pkg in ("exporter", "alert_bridge", "tradewatch")
            for p in (REPO / pkg).rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data, "no templates found: the layout changed under this test"
    assert sorted(set(data) - names) == []  # templates, static files, SQL migrations
    assert not [n for n in names if n.split("/")[0] in ("deploy", "tests", "docs", "dashboards")]


def test_base_install_outside_a_checkout(base_bin: Path, tmp_path: Path):
    env = _clean_env()
    python = base_bin / "python"
    found = _ok(_run([python, "-c", "import importlib.util as u, sys; "
                      f"print(','.join(m for m in {BRIDGE_ONLY!r} if u.find_spec(m)))"], env=env))
    assert found.stdout.strip() == "", "the base install pulled in bridge libraries"
    watched = {*BRIDGE_ONLY, "requests", "alert_bridge"}
    imported = _ok(_run([python, "-c", "import sys, exporter.trading; "
                         f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {watched!r}))"], env=env))
    assert imported.stdout.strip() == "[]"

    # the packaged example config: check-config and rules work from any folder
    shown = _ok(_run([base_bin / "tradewatch", "check-config"], cwd=tmp_path, env=env))
    assert "thresholds:" in shown.stdout
    out = tmp_path / "prometheus"
    _ok(_run([base_bin / "tradewatch", "rules", "--out", out], cwd=tmp_path, env=env))
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    prometheus = REPO / "prometheus"
    committed = sorted(p.relative_to(prometheus).as_posix() for p in prometheus.rglob("*.yml"))
    assert written == committed
    for rel in written:
        assert (out / rel).read_text() == (REPO / "prometheus" / rel).read_text(), rel

    # generate refreshes a checkout's files: there is none here, and it says so
    res = _run([base_bin / "tradewatch", "generate", "--check"], cwd=tmp_path, env=env)
    assert res.returncode == 2 and "is not a TradeWatch checkout" in res.stderr, res.stderr

    # the exporter serves /metrics
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    proc = Proc([str(base_bin / "tradewatch-exporter"), "--listen", f"127.0.0.1:{port}"],
                tmp_path / "exporter.log", env=env, cwd=tmp_path)
    try:
        proc.wait_http(url, timeout=30)
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read().decode()
    finally:
        proc.stop()
    assert "\nnode_load1 " in body and "\ntradewatch_exporter_build_info{" in body

    # the bridge, and the commands that need it, name the extra to install
    hint = "pip install 'tradewatch-monitor[bridge]'"
    res = _run([python, "-c", "import alert_bridge"], env=env)
    assert res.returncode == 1 and "MissingExtra" in res.stderr and hint in res.stderr
    for args in (["tradewatch-bridge", "--help"], ["tradewatch", "report"], ["tradewatch", "stack"]):
        res = _run([base_bin / args[0], *args[1:]], cwd=tmp_path, env=env, timeout=60)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert "'bridge' extra" in res.stderr and hint in res.stderr, args
        assert "Traceback" not in res.stderr, args


def _health(url: str) -> dict[str, Any]:
    """/health's checks; 503 too, because Prometheus and Alertmanager do not run here."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.load(resp)["checks"]
    except urllib.error.HTTPError as exc:
        with exc:
            return json.load(exc)["checks"]


def _own_parts_ok(url: str) -> dict[str, Any] | None:
    checks = _health(url)
    return checks if all(checks[k]["ok"] for k in OWN_CHECKS) else None


def test_bridge_extra_serves_the_bridge(bridge_bin: Path, tmp_path: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/health"
    # the packaged example config: its ../var/ resolves against the current folder
    proc = Proc([str(bridge_bin / "tradewatch-bridge"), "--listen", f"127.0.0.1:{port}"],
                tmp_path / "bridge.log", env=_clean_env(), cwd=tmp_path)
    try:
        # its own parts are healthy: the store, the worker lease, the outbox sender
        checks = wait_until(lambda: _own_parts_ok(url), timeout=60,
                            what=f"{url} to report {', '.join(OWN_CHECKS)} ok")
    finally:
        proc.stop()
    assert isinstance(checks, dict) and checks["prometheus"]["ok"] is False  # nothing on :9090 here
    assert (tmp_path / "var" / "tradewatch.db").exists()
    site = next((bridge_bin.parent / "lib").glob("python3*/site-packages"))
    assert not list(site.glob("tradewatch/**/*.db")), "the bridge wrote into the installed package"
