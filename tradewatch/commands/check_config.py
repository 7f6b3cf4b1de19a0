"""`tradewatch check-config`: validate and print the effective config, secrets masked, each value
with where it came from.

The environment is resolved exactly as the services get it (tradewatch.stack_env): the process
environment over `.env`, and for a local stack's config also the stack's ports and its token file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml

from tradewatch import external_url
from tradewatch.config import default_config_path
from tradewatch.config_sources import annotated_yaml, value_sources
from tradewatch.paths import default_home
from tradewatch.stack_env import ServiceEnv, service_environment
from tradewatch.stack_layout import DEFAULT_DIR, Layout, is_stack, stack_environment

HELP = ("validate the config file and print the effective configuration (secrets masked), saying where "
        "each value came from: the file, the environment, .env, the local stack or the default")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help='print JSON instead of YAML: {"config": ..., "sources": ..., "read": ...}')
    parser.add_argument("--env-file", type=Path, default=default_home() / ".env", metavar="FILE",
                        help="the .env the services read (default: .env in the checkout, else in the current "
                        "folder; systemd: /etc/tradewatch/env); the real environment wins over it")
    parser.add_argument("--stack-dir", type=Path, default=None, metavar="DIR",
                        help="resolve as the local stack in DIR does (its ports and token); default: when "
                        "the config is a stack's own (var/stack/tradewatch.yaml)")


def stack_for(config: Path, stack_dir: Path | None) -> Layout | None:
    """The local stack whose services read this config, if any."""
    if stack_dir is not None:
        return Layout(stack_dir)
    for root in (Path(os.environ.get("TRADEWATCH_STACK_DIR") or DEFAULT_DIR), config.resolve().parent):
        layout = Layout(root)
        if is_stack(layout) and layout.config == config.resolve():
            return layout
    return None


def service_env_for(config: Path, env_file: Path, stack: Layout | None = None) -> ServiceEnv:
    """The environment the services that read `config` get: with the local stack's ports and token
    when `stack` (or the stack whose config this is) is given. ValueError: a broken .env."""
    stack = stack or stack_for(config, None)
    return (stack_environment(stack, env_file, os.environ) if stack is not None
            else service_environment(os.environ, env_file))


def run(args: argparse.Namespace) -> int:
    from tradewatch.cli import load_or_exit

    config = Path(args.config) if args.config else default_config_path()
    stack = stack_for(config, args.stack_dir)
    try:
        env = service_env_for(config, args.env_file, stack)
    except ValueError as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return 2
    cfg = load_or_exit(str(config), env=env.values)
    try:
        raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):  # load_or_exit has read it: this cannot fail in practice
        raw = {}
    data = cfg.masked()
    sources = value_sources(raw, data, env)
    read = {"config": str(config), "env_file": str(args.env_file) if args.env_file.exists() else None,
            "stack": str(stack.root) if stack is not None else None}
    if args.json:
        print(json.dumps({"config": data, "sources": sources, "read": read}, indent=2, sort_keys=False))
        return 0
    print(f"# {config}, with the environment the services get: the process environment over "
          + (f".env ({args.env_file})" if read["env_file"] else f"no .env ({args.env_file} does not exist)")
          + (f", and the local stack's ports and token ({stack.root})" if stack is not None else "")
          + ".\n# After each value: where it came from (file, environment, .env, the stack or default). "
          "Secrets are masked.")
    print(annotated_yaml(data, sources))
    link = external_url.resolve(cfg.bridge.external_url, cfg.bridge.listen)
    if link.derived or link.problem:
        print("# bridge.external_url: " + (link.problem or f"links in emails point to {link.url} "
                                           "(derived from the listen address when the bridge starts)"))
    return 0
