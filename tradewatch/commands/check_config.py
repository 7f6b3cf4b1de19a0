"""`tradewatch check-config`: validate and print the effective config, secrets masked."""

from __future__ import annotations

import argparse
import json

import yaml

HELP = "validate the config file and print the effective configuration with secrets masked"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of YAML")


def run(args: argparse.Namespace) -> int:
    from tradewatch.cli import load_or_exit

    cfg = load_or_exit(args.config)
    data = cfg.masked()
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=False))
    else:
        print(yaml.safe_dump(data, sort_keys=False).rstrip())
    return 0
