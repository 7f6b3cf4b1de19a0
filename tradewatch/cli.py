"""`tradewatch`: the operator's command line. Each subcommand lives in `tradewatch/commands/`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Mapping, Sequence

from tradewatch.config import Config, ConfigError, load_config
from tradewatch.extras import MissingExtra

# name -> module under tradewatch.commands exposing HELP, add_arguments(parser), run(args) -> int
COMMANDS = {
    "check-config": "check_config",
    "stack": "stack",
    "setup": "setup",
    "report": "report",
    "notify-test": "notify_test",
    "rules": "rules",
    "generate": "generate",
    "rotate-session-key": "rotate_session_key",
}


def config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="config file (default: $TRADEWATCH_CONFIG, else ./tradewatch.yaml when it exists, "
        "else deploy/tradewatch.example.yaml)",
    )


def load_or_exit(path: str | None, env: Mapping[str, str] | None = None) -> Config:
    """Load the config, or print the problem and exit with status 2 (bad input).

    Also checks what only the rule renderer knows (alert names in `alerting.for_durations`).
    """
    from tradewatch.rules.render import check_alert_names

    try:
        cfg = load_config(path, env=env)
        check_alert_names(cfg)
        return cfg
    except ConfigError as exc:
        print(f"tradewatch: invalid configuration\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradewatch",
        description="TradeWatch operator commands. Every command takes --config FILE.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"tradewatch.commands.{module_name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        config_argument(p)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except MissingExtra as exc:  # a command that needs the bridge, on the base install
        print(f"tradewatch {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
