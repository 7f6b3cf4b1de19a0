"""What the local stack keeps on disk, and the files it writes before starting anything.

Everything lives under one folder (default `var/stack/` in the checkout, else in the current
folder): the generated config, the API token, rendered Prometheus / Alertmanager configs and
rules, each part's data, logs and pid files.
Writing is idempotent: an existing config, token or data folder is reused, never overwritten,
so running the stack twice keeps the alerts, the metrics and the token that Alertmanager and any
scripts already use.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tradewatch.config import EXAMPLE_CONFIG, Config
from tradewatch.paths import default_home
from tradewatch.stack_env import ServiceEnv, service_environment, write_secret_file

DEFAULT_DIR = default_home() / "var" / "stack"
HOST = "127.0.0.1"

# part -> (default port, environment variable that overrides it and that the generated config
# interpolates, so a changed port needs no config edit)
PORTS: dict[str, tuple[int, str]] = {
    "exporter": (9184, "TRADEWATCH_EXPORTER_PORT"),
    "bridge": (8080, "TRADEWATCH_BRIDGE_PORT"),
    "prometheus": (9090, "TRADEWATCH_PROMETHEUS_PORT"),
    "alertmanager": (9093, "TRADEWATCH_ALERTMANAGER_PORT"),
    "demo_bot": (9185, "TRADEWATCH_DEMO_BOT_PORT"),
}


def port_var(part: str) -> str:
    return PORTS[part][1]


@dataclass(frozen=True)
class Ports:
    exporter: int = 9184
    bridge: int = 8080
    prometheus: int = 9090
    alertmanager: int = 9093
    demo_bot: int = 9185

    @classmethod
    def from_env(cls, env: Mapping[str, str], **flags: int | None) -> Ports:
        """Flags win over `TRADEWATCH_<PART>_PORT`, which wins over the default."""
        values: dict[str, int] = {}
        for part, (default, var) in PORTS.items():
            flag = flags.get(part)
            if flag is not None:
                values[part] = flag
            elif env.get(var):
                try:
                    values[part] = int(env[var])
                except ValueError:
                    raise ValueError(f"{var}: not a port number: {env[var]!r}") from None
            else:
                values[part] = default
        for part, port in values.items():
            if not 1 <= port <= 65535:
                raise ValueError(f"{part} port {port} is out of range 1-65535")
        if len(set(values.values())) != len(values):
            raise ValueError(f"two parts share a port: {values}")
        return cls(**values)

    def env(self) -> dict[str, str]:
        return {port_var(part): str(getattr(self, part)) for part in PORTS}


@dataclass(frozen=True)
class Layout:
    root: Path = DEFAULT_DIR
    config: Path = field(init=False)
    secrets: Path = field(init=False)
    token_file: Path = field(init=False)
    webhook_token_file: Path = field(init=False)
    logs: Path = field(init=False)
    run: Path = field(init=False)
    prometheus: Path = field(init=False)
    alertmanager: Path = field(init=False)
    generated: Path = field(init=False)
    outbox: Path = field(init=False)

    def __post_init__(self) -> None:
        root = self.root.resolve()
        object.__setattr__(self, "root", root)
        for name, rel in {
            "config": "tradewatch.yaml",
            "secrets": "secrets",
            "token_file": "secrets/api_token",
            "webhook_token_file": "secrets/webhook_token",
            "logs": "logs",
            "run": "run",
            "prometheus": "prometheus",
            "alertmanager": "alertmanager",
            "generated": "generated",
            "outbox": "outbox",
        }.items():
            object.__setattr__(self, name, root / rel)

    def pid_file(self, part: str) -> Path:
        return self.run / f"{part}.pid"

    def log_file(self, part: str) -> Path:
        return self.logs / f"{part}.log"


# --------------------------------------------------------------------------- the config

CONFIG_HEADER = """\
# TradeWatch local stack configuration, written by the stack on its first start and reused
# afterwards: edit it freely (every key is documented in deploy/tradewatch.example.yaml), then
# apply it to the running stack with `{reload}`.
# Ports come from TRADEWATCH_<PART>_PORT, set by the stack runner from its flags; the API token
# from TRADEWATCH_API_TOKEN, which the runner reads from secrets/api_token (mode 0600).
# SMTP settings and the address for links in emails (TRADEWATCH_EXTERNAL_URL) come from .env
# (`{setup}` writes them); without SMTP settings emails are written as .eml files to the outbox
# folder next to this file.
"""


def _url(part: str, path: str = "") -> str:
    default, var = PORTS[part]
    return f"http://{HOST}:${{{var}:-{default}}}{path}"


def stack_config_data(example: Path = EXAMPLE_CONFIG) -> dict[str, Any]:
    """The example config with the stack's paths, URLs and token wired in (still un-interpolated)."""
    data = yaml.safe_load(example.read_text(encoding="utf-8")) or {}
    default, var = PORTS["bridge"]
    data["bridge"] = {
        **(data.get("bridge") or {}),
        "database": "data/tradewatch.db",
        "outbox_dir": "outbox",
        "api_token": "${TRADEWATCH_API_TOKEN:-}",
        "prometheus_url": _url("prometheus"),
        "alertmanager_url": _url("alertmanager"),
        "exporter_url": _url("exporter", "/metrics"),
        "external_url": "${TRADEWATCH_EXTERNAL_URL:-}",
        "listen": f"{HOST}:${{{var}:-{default}}}",
    }
    exp_default, exp_var = PORTS["exporter"]
    data["exporter"] = {**(data.get("exporter") or {}), "listen": f"{HOST}:${{{exp_var}:-{exp_default}}}"}
    # A local stack is for watching this machine now: scrape and evaluate every 15 s, not 60 s.
    data["intervals"] = {**(data.get("intervals") or {}), "system_metrics": "15s", "evaluation": "15s"}
    return data


def ensure_config(layout: Layout) -> bool:
    """Write the stack config when absent. Returns True when it was created."""
    if layout.config.exists():
        return False
    layout.root.mkdir(parents=True, exist_ok=True)
    from tradewatch.operator_command import stack_command, tradewatch_command

    header = CONFIG_HEADER.format(reload=stack_command("reload", layout=layout),
                                  setup=tradewatch_command("setup"))
    text = header + yaml.safe_dump(stack_config_data(), sort_keys=False, width=100)
    tmp = layout.config.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, layout.config)
    return True


def ensure_token(layout: Layout) -> tuple[str, bool]:
    """The API token (created with mode 0600 when absent) and whether it was created now."""
    layout.secrets.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.secrets, 0o700)
    try:
        token = layout.token_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    if token:
        os.chmod(layout.token_file, 0o600)
        return token, False
    token = secrets.token_urlsafe(32)
    write_secret_file(layout.token_file, token + "\n")
    return token, True


def read_token(layout: Layout) -> str:
    """The stack's API token, or '' before its first start (never creates one)."""
    try:
        return layout.token_file.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def stack_environment(layout: Layout, env_file: Path, environ: Mapping[str, str], *,
                      ports: Ports | None = None, token: str | None = None) -> ServiceEnv:
    """The environment the stack's services get (the supervisor starts them with exactly this)."""
    ports = ports or Ports.from_env(environ)
    token = read_token(layout) if token is None else token
    return service_environment(
        environ, env_file, overrides=ports.env(),
        fallbacks={"TRADEWATCH_API_TOKEN": token} if token else {},
        runner=f"the stack in {layout.root} (its ports; the token in {layout.token_file})")


def is_stack(layout: Layout) -> bool:
    """A stack was set up in this folder (its first start writes the config and the token)."""
    return layout.config.is_file()


def webhook_credentials_file(layout: Layout, cfg: Config, token: str) -> Path | None:
    """The file Alertmanager reads the bridge's bearer token from (None: no token configured).

    Normally the generated token file; when a user-supplied config sets its own token, that token
    is written to a separate 0600 file so Alertmanager and the bridge agree.
    """
    effective = cfg.bridge.api_token
    if not effective:
        return None
    if effective == token:
        return layout.token_file
    write_secret_file(layout.webhook_token_file, effective + "\n")
    return layout.webhook_token_file


# --------------------------------------------------------------------------- rendering

def render_stack_configs(layout: Layout, cfg: Config, ports: Ports, *, demo: bool,
                         credentials_file: Path | None) -> tuple[Path, Path]:
    """prometheus.yml, alertmanager.yml, rules/ and targets/ for this stack, through the rules
    renderer (the same code as the committed files), with this stack's ports and token file."""
    from tradewatch.rules.render import render_all

    out = layout.generated
    for stale in (out / "rules").glob("*.yml"):  # a rule removed from the config must go
        stale.unlink()
    render_all(
        cfg, out,
        exporter_targets=[f"{HOST}:{ports.exporter}"],
        bridge_target=f"{HOST}:{ports.bridge}",
        trading_bot_targets=[f"{HOST}:{ports.demo_bot}"] if demo else [],
        prometheus_target=f"{HOST}:{ports.prometheus}",
        alertmanager_target=f"{HOST}:{ports.alertmanager}",
        webhook_url=f"http://{HOST}:{ports.bridge}/api/monitoring/webhook",
        credentials_file=str(credentials_file or layout.token_file),
        source=str(layout.config),
    )
    return out / "prometheus.yml", out / "alertmanager.yml"
