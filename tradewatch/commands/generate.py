"""`tradewatch generate [--check]`: refresh (or verify) every generated file of the checkout.

The generators are listed once, in GENERATORS, in the order they run (the docs come last because
README.md includes docs/alerts.md, whose alert table the rules generator writes). Each is one
function from the checkout's root to the files it owns (`tradewatch.generated.Files`); comparing
and writing are shared, so every stale file is named the same way. The per-generator commands
(`tradewatch rules`, `python dashboards/build.py`, `python -m tradewatch.stack_compose`,
`python docs/build_readme.py`) still work.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from tradewatch.config import ConfigError, load_config
from tradewatch.generated import Files, describe, on_disk, stale, write
from tradewatch.paths import CHECKOUT, EXAMPLE_IN_CHECKOUT, is_checkout

HELP = (
    "refresh every generated file of the checkout (rules and Prometheus/Alertmanager configs, Grafana "
    "dashboards, the compose configs, README.md); --check writes nothing and fails naming each stale file"
)


# --------------------------------------------------------------------------- the generators

def rule_files(root: Path) -> Files:
    """prometheus/ and the alert table of docs/alerts.md, from the example config."""
    from tradewatch.commands.rules import owned_files

    cfg = load_config(root / EXAMPLE_IN_CHECKOUT, env={})
    return owned_files(cfg, EXAMPLE_IN_CHECKOUT.as_posix(), root / "prometheus", root / "docs" / "alerts.md")


def compose_files(root: Path) -> Files:
    """deploy/compose/: what docker compose mounts, from deploy/compose/tradewatch.yaml."""
    from tradewatch.stack_compose import COMPOSE_DIR, owned_files

    return owned_files(root / COMPOSE_DIR)


def dashboard_files(root: Path) -> Files:
    """dashboards/*.json and Grafana's datasource file, from the example config's thresholds."""
    build = _checkout_package(root, "dashboards.build")
    files: Files = dict(build.rendered(load_config(root / EXAMPLE_IN_CHECKOUT, env={}), root))
    folder = root / "dashboards"
    files.update({path: None for path in sorted(folder.glob("*.json")) if path not in files})
    return files


def docs_files(root: Path) -> Files:
    """README.md, the front page, from docs/index.md (the documentation site's home page)."""
    readme = _checkout_script(root / "docs" / "build_readme.py")
    return {readme.README: readme.readme_text()}


@dataclass(frozen=True)
class Generator:
    name: str
    makes: str
    files: Callable[[Path], Files]


GENERATORS: tuple[Generator, ...] = (
    Generator("rules", "prometheus/ and docs/alerts.md's alert table", rule_files),
    Generator("compose", "deploy/compose/ rules and configs", compose_files),
    Generator("dashboards", "dashboards/*.json and the Grafana datasource", dashboard_files),
    Generator("docs", "README.md from docs/index.md", docs_files),
)


# --------------------------------------------------------------------------- loading checkout code

def _checkout_package(root: Path, name: str) -> ModuleType:
    """A module of a package that lives in the checkout but not in the wheel (dashboards)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(name)


def _checkout_script(path: Path) -> ModuleType:
    """A standalone script of the checkout, loaded from its file so that its paths are that checkout's."""
    spec = importlib.util.spec_from_file_location(f"_tradewatch_generator_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- the command

def add_arguments(parser: argparse.ArgumentParser) -> None:
    names = [g.name for g in GENERATORS]
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 naming every generated file that is missing, differs "
                        "or is no longer generated")
    parser.add_argument("--only", action="append", choices=names, metavar="NAME",
                        help="run only this generator (repeatable): "
                        + "; ".join(f"{g.name} = {g.makes}" for g in GENERATORS))
    parser.add_argument("--root", type=Path, metavar="DIR",
                        help="the checkout to work on (default: the one this command runs from)")


def checkout_root(given: Path | None) -> Path | None:
    """--root, else the checkout the package is imported from, else the current folder if it is one."""
    if given is not None:
        return given.resolve() if is_checkout(given) else None
    if CHECKOUT is not None:
        return CHECKOUT
    return Path.cwd() if is_checkout(Path.cwd()) else None


def run(args: argparse.Namespace) -> int:
    if args.config:
        print("tradewatch generate: --config does not apply: the generated files come from the configs "
              "committed in the checkout", file=sys.stderr)
        return 2
    root = checkout_root(args.root)
    if root is None:
        where = args.root or Path.cwd()
        print(f"tradewatch generate: {where} is not a TradeWatch checkout (no pyproject.toml and "
              f"{EXAMPLE_IN_CHECKOUT}); generated files are refreshed in a clone of the repository",
              file=sys.stderr)
        return 2
    chosen = [g for g in GENERATORS if not args.only or g.name in args.only]
    problems, changed = [], 0
    for gen in chosen:
        try:
            files = gen.files(root)
        except ConfigError as exc:
            print(f"tradewatch generate: {gen.name}: invalid configuration\n{exc}", file=sys.stderr)
            return 2
        if args.check:
            problems += [f"  {gen.name}: {describe(_shown(root, path), on_disk(path), files[path])}"
                         for path in stale(files)]
            continue
        for path in write(files):
            changed += 1
            print(f"{gen.name}: {'removed' if files[path] is None else 'wrote'} {_shown(root, path)}")
    names = ", ".join(g.name for g in chosen)
    if problems:
        print(f"tradewatch generate: {len(problems)} generated file(s) are stale:\n" + "\n".join(problems)
              + "\nrun `tradewatch generate` and commit the result", file=sys.stderr)
        return 1
    if args.check:
        print(f"tradewatch generate: every generated file is current ({names})")
    else:
        print(f"tradewatch generate: {changed} file(s) updated ({names})" if changed
              else f"tradewatch generate: every generated file was already current ({names})")
    return 0


def _shown(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
