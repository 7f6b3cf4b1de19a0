"""The exporter's view of the configuration, light enough for the default path.

Importing pydantic and building the shared config models costs about 8 MB of RSS and 130 ms of
start-up, a third of the exporter's budget. So the strict loader (`tradewatch.config`) is only
imported when a config file is actually used; without one the exporter runs on
`DefaultConfig`, which answers the keys collectors read (`exporter.*`, `probes.*`, `freqtrade`) from the
defaults below and defers anything else to the real `Config()` (imported on first use only).
A test keeps these defaults equal to `tradewatch.config`'s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from tradewatch.quantities import FS_TYPES_EXCLUDE, MOUNT_POINTS_EXCLUDE

if TYPE_CHECKING:
    from tradewatch.config import Config

CONFIG_ENV = "TRADEWATCH_CONFIG"

COLLECTOR_DEFAULTS: dict[str, Any] = {
    "enabled": {},
    "filesystem_mount_points_exclude": MOUNT_POINTS_EXCLUDE,
    "filesystem_fs_types_exclude": FS_TYPES_EXCLUDE,
    "filesystem_mount_points_include": "",
    "filesystem_fs_types_include": "",
    "filesystem_timeout": 5.0,
    "filesystem_network": False,
    "diskstats_device_exclude": r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$",
    "diskstats_device_include": "",
    "netdev_device_exclude": "",
    "netdev_device_include": "",
    "arp_device_exclude": "",
    "arp_device_include": "",
    "vmstat_fields": r"^(oom_kill|pgpg|pswp|pg.*fault).*",
    "netstat_fields": (
        r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
        r"TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|"
        r"Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|"
        r"Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
    ),
    "netclass_ignored_devices": "^$",
    "textfile_directory": None,
    "collector_timeout": 5.0,
    "path_rootfs": "/",
    "path_procfs": "/proc",
    "path_sysfs": "/sys",
}
LISTEN_DEFAULT = "127.0.0.1:9184"


class DefaultConfig:
    """Stands in for `tradewatch.config.Config()` when no config file is used."""

    def __init__(self, collectors: Mapping[str, Any] | None = None):
        values = {**COLLECTOR_DEFAULTS, **(collectors or {})}
        self.exporter = SimpleNamespace(listen=LISTEN_DEFAULT, collectors=SimpleNamespace(**values))
        self.probes = SimpleNamespace(http=[], tcp=[], sql=[])
        self.freqtrade: list[Any] = []
        self.source = None

    def __getattr__(self, name: str) -> Any:
        # Only reached for sections the exporter's own collectors never read.
        if name.startswith("__"):
            raise AttributeError(name)
        from tradewatch.config import Config

        return getattr(Config(), name)


def config_path(explicit: str | None, env: Mapping[str, str] | None = None) -> Path | None:
    """--config, else $TRADEWATCH_CONFIG, else ./tradewatch.yaml when it exists, else None.

    Unlike the operator CLI this does not fall back to deploy/tradewatch.example.yaml: its
    `exporter` and `probes` sections are the defaults (a test checks it), so reading it would
    only cost the exporter the config machinery.
    """
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    local = Path.cwd() / "tradewatch.yaml"
    return local if local.exists() else None


def load(path: Path | None) -> Config | DefaultConfig:
    """The strict config from `path` (raises tradewatch.config.ConfigError), or the defaults."""
    if path is None:
        return DefaultConfig()
    from tradewatch.config import load_config

    return load_config(path)


def collector_settings(cfg: Config | DefaultConfig) -> Any:
    return cfg.exporter.collectors


def with_collector_overrides(
    cfg: Config | DefaultConfig, overrides: Mapping[str, Any]
) -> Config | DefaultConfig:
    """The config with `exporter.collectors` fields replaced (command-line flags win)."""
    if not overrides:
        return cfg
    if isinstance(cfg, DefaultConfig):
        return DefaultConfig({**vars(cfg.exporter.collectors), **overrides})
    collectors = cfg.exporter.collectors.model_copy(update=dict(overrides))
    exporter = cfg.exporter.model_copy(update={"collectors": collectors})
    return cfg.model_copy(update={"exporter": exporter})
