"""The Prometheus and Alertmanager files docker compose mounts, rendered from the compose config.

`deploy/compose/tradewatch.yaml` is the one file a compose operator edits; this renders the rules,
prometheus.yml (targets are compose service names; the exporter shares the host's network, so it
is host.docker.internal) and alertmanager.yml (webhook to the `bridge` service, token from the
compose secret) next to it, with the same renderer as `tradewatch rules`. The output is committed;
`python -m tradewatch.stack_compose --check` (run by the tests) fails when it is stale.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tradewatch.config import load_config
from tradewatch.paths import default_home

COMPOSE_DIR = default_home() / "deploy" / "compose"
CONFIG = COMPOSE_DIR / "tradewatch.yaml"
SOURCE = "deploy/compose/tradewatch.yaml"
TOKEN_SECRET = "/run/secrets/api_token"  # noqa: S105 - a path, not a secret
DEMO_BOT = {"names": ["demo-bot"], "type": "A", "port": 9185, "refresh_interval": "30s"}


def compose_files() -> dict[str, str]:
    """{path relative to deploy/compose: text}, independent of the caller's environment."""
    from tradewatch.rules.render import Deployment, dump, header, prometheus_config, render_files

    cfg = load_config(CONFIG, env={})
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


def stale(out: Path = COMPOSE_DIR) -> list[str]:
    """Generated files that are missing or differ on disk, and rule files no longer generated."""
    files = compose_files()
    bad = [rel for rel, text in files.items()
           if not (out / rel).exists() or (out / rel).read_text(encoding="utf-8") != text]
    for sub in ("rules", "targets"):
        bad += [f"{sub}/{p.name}" for p in sorted((out / sub).glob("*.yml"))
                if f"{sub}/{p.name}" not in files]
    return bad


def write(out: Path = COMPOSE_DIR) -> list[str]:
    files = compose_files()
    for sub in ("rules", "targets"):
        for path in (out / sub).glob("*.yml"):
            if f"{sub}/{path.name}" not in files:
                path.unlink()
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tradewatch.stack_compose",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed files are stale")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale()
        if bad:
            print("stale in deploy/compose/ (run: python -m tradewatch.stack_compose): " + ", ".join(bad))
            return 1
        print("deploy/compose/ is current")
        return 0
    for rel in write():
        print(f"wrote deploy/compose/{rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
