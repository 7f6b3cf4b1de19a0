"""The Prometheus and Alertmanager files docker compose mounts, rendered from the compose config.

`deploy/compose/tradewatch.yaml` is the one file a compose operator edits; this renders the rules,
prometheus.yml (targets are compose service names; the exporter shares the host's network, so it
is host.docker.internal) and alertmanager.yml (webhook to the `bridge` service, token from the
compose secret) next to it, with the same renderer as `tradewatch rules`. The output is committed;
`tradewatch generate --check` (run by the tests) fails when it is stale.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tradewatch.config import load_config
from tradewatch.generated import Files

COMPOSE_DIR = Path("deploy") / "compose"  # in a checkout
CONFIG_NAME = "tradewatch.yaml"
SOURCE = (COMPOSE_DIR / CONFIG_NAME).as_posix()
TOKEN_SECRET = "/run/secrets/api_token"  # noqa: S105 - a path, not a secret
DEMO_BOT = {"names": ["demo-bot"], "type": "A", "port": 9185, "refresh_interval": "30s"}


def compose_files(config: Path) -> dict[str, str]:
    """{path relative to deploy/compose: text} from the compose config, independent of the caller's
    environment."""
    from tradewatch.rules.render import Deployment, dump, header, prometheus_config, render_files

    cfg = load_config(config, env={})
    dep = Deployment(
        exporter_targets=("host.docker.internal:9184",),
        bridge_targets=("bridge:8080",),
        trading_bot_targets=(),
        prometheus_target="prometheus:9090",
        alertmanager_target="alertmanager:9093",
        webhook_url="http://bridge:8080/api/monitoring/webhook",
        credentials_file=TOKEN_SECRET,
    )
    files = render_files(cfg, dep, source=SOURCE, with_tests=False)
    files.pop("targets/trading-bot.yml", None)
    prom: dict[str, Any] = prometheus_config(cfg, dep)
    for job in prom["scrape_configs"]:
        if job["job_name"] == "trading-bot":
            # only with `--profile demo`: DNS discovery finds no target (so no "target down"
            # alert) while the demo bot is not running
            job.pop("file_sd_configs", None)
            job["dns_sd_configs"] = [dict(DEMO_BOT)]
    files["prometheus.yml"] = dump(prom, header(SOURCE, [
        "regenerate: python -m tradewatch.stack_compose (after editing deploy/compose/tradewatch.yaml)",
        "the exporter shares the host's network: Prometheus reaches it at host.docker.internal",
        "targets/*.yml list the hosts: adding a host is adding a line there",
    ]))
    return dict(sorted(files.items()))


def owned_files(compose_dir: Path) -> Files:
    """The rendered files under compose_dir, and the rule / target files it no longer renders."""
    files: Files = {compose_dir / rel: text for rel, text in compose_files(compose_dir / CONFIG_NAME).items()}
    for sub in ("rules", "targets"):
        files.update({path: None for path in sorted((compose_dir / sub).glob("*.yml")) if path not in files})
    return files


def main(argv: Sequence[str] | None = None) -> int:
    """The former entry point, now an alias of `tradewatch generate --only compose`."""
    from tradewatch.cli import main as tradewatch

    parser = argparse.ArgumentParser(prog="python -m tradewatch.stack_compose",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed files are stale")
    args = parser.parse_args(argv)
    return tradewatch(["generate", "--only", "compose", *(["--check"] if args.check else [])])


if __name__ == "__main__":
    sys.exit(main())
