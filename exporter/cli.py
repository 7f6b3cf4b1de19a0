"""`tradewatch-exporter`: serve host metrics (node_exporter's names) and TradeWatch's own.

Collectors are enabled by default; `--no-collector.NAME` disables one, `--collector.NAME`
enables one, and `--collector.disable-defaults` starts from none. Flags override the config
file's `exporter.collectors` section.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PROG = "tradewatch-exporter"

# flag -> (config field under exporter.collectors, help)
REGEX_FLAGS = {
    "--collector.filesystem.mount-points-exclude": (
        "filesystem_mount_points_exclude", "regex of mount points to skip"),
    "--collector.filesystem.mount-points-include": (
        "filesystem_mount_points_include", "regex a mount point must match to be reported"),
    "--collector.filesystem.fs-types-exclude": (
        "filesystem_fs_types_exclude", "regex of filesystem types to skip"),
    "--collector.filesystem.fs-types-include": (
        "filesystem_fs_types_include", "regex a filesystem type must match"),
    "--collector.diskstats.device-exclude": (
        "diskstats_device_exclude", "regex of block devices to skip (partitions, loop and ram by default)"),
    "--collector.diskstats.device-include": (
        "diskstats_device_include", "regex a block device must match"),
    "--collector.netdev.device-exclude": (
        "netdev_device_exclude", "regex of network devices to skip"),
    "--collector.netdev.device-include": (
        "netdev_device_include", "regex a network device must match"),
    "--collector.arp.device-exclude": (
        "arp_device_exclude", "regex of devices whose ARP entries to skip"),
    "--collector.arp.device-include": (
        "arp_device_include", "regex a device must match for its ARP entries"),
    "--collector.vmstat.fields": (
        "vmstat_fields", "regex of /proc/vmstat fields to serve as node_vmstat_*"),
    "--collector.netstat.fields": (
        "netstat_fields", "regex of PROTOCOL_FIELD netstat/snmp/snmp6 statistics to serve as node_netstat_*"),
    "--collector.netclass.ignored-devices": (
        "netclass_ignored_devices", "regex of network devices the netclass collector skips"),
}


class UsageError(Exception):
    """A bad flag value, reported like argparse's own errors (exit status 2)."""


def _seconds(value: str) -> float:
    from tradewatch.duration import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser(registrations: dict[str, Any]) -> argparse.ArgumentParser:
    from exporter.settings import COLLECTOR_DEFAULTS, LISTEN_DEFAULT

    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0 after SIGTERM/SIGINT, 2 for bad flags or configuration, "
        "1 when the address cannot be bound.",
    )
    parser.add_argument("--listen", metavar="HOST:PORT", default=None,
                        help=f"address to serve /metrics on (default: the config's exporter.listen, "
                        f"else {LISTEN_DEFAULT}); [::1]:PORT for IPv6, :PORT for all interfaces")
    parser.add_argument("--config", metavar="FILE",
                        help="config file (default: $TRADEWATCH_CONFIG, else ./tradewatch.yaml when it "
                        "exists, else built-in defaults: the exporter runs without any config)")
    parser.add_argument("--log-level", default="warning",
                        choices=("debug", "info", "warning", "error"), help="default: warning")
    group = parser.add_argument_group("collectors")
    group.add_argument("--collector.disable-defaults", dest="disable_defaults", action="store_true",
                       help="disable every collector that is not enabled by a flag or the config")
    for name, reg in sorted(registrations.items()):
        state = "on" if reg.default_enabled else "off"
        # node_exporter's name for it too (--collector.meminfo), so its command lines carry over
        names = [name] + ([reg.node_name] if reg.node_name and reg.node_name != name else [])
        group.add_argument(*(f"--collector.{n}" for n in names), dest=f"collector__{name}",
                           action="store_const", const=True, default=None,
                           help=f"enable the {name} collector: {reg.help} (default: {state})")
        group.add_argument(*(f"--no-collector.{n}" for n in names), dest=f"collector__{name}",
                           action="store_const", const=False, help=f"disable the {name} collector")
    opts = parser.add_argument_group("collector options (override the config's exporter.collectors)")
    for flag, (field, text) in REGEX_FLAGS.items():
        default = COLLECTOR_DEFAULTS[field]
        shown = f"default: {default}" if default else "default: empty, i.e. all"
        opts.add_argument(flag, dest=field, metavar="REGEX", default=None, help=f"{text} ({shown})")
    opts.add_argument("--collector.filesystem.mount-timeout", dest="filesystem_timeout", type=_seconds,
                      metavar="DURATION", default=None,
                      help="how long a filesystem stat may take before the mount is marked "
                      "unresponsive (device_error 1) and skipped until it answers (default: 5s)")
    opts.add_argument("--collector.filesystem.network", dest="filesystem_network", action="store_const",
                      const=True, default=None,
                      help="also report network filesystems (nfs, cifs, sshfs ...; skipped by default)")
    opts.add_argument("--path.rootfs", dest="path_rootfs", metavar="PATH", default=None,
                      help="where the host's / is mounted when running in a container (e.g. /host): "
                      "only mounts under it are reported, as the host names them (/host/boot as "
                      "/boot, /host as /), and statted under it (default: /)")
    opts.add_argument("--path.procfs", dest="path_procfs", metavar="PATH", default=None,
                      help="where the proc filesystem is mounted (default: /proc)")
    opts.add_argument("--path.sysfs", dest="path_sysfs", metavar="PATH", default=None,
                      help="where the sys filesystem is mounted (default: /sys)")
    opts.add_argument("--collector.textfile.directory", dest="textfile_directory", metavar="DIR",
                      type=Path, default=None, help="directory of *.prom files for the textfile collector")
    opts.add_argument("--collector.timeout", dest="collector_timeout", type=_seconds, metavar="DURATION",
                      default=None,
                      help="time limit of each collector per scrape; one that overruns reports "
                      "tradewatch_scrape_collector_success 0 (default: 5s; probes use their own)")
    return parser


def collector_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """exporter.collectors fields set on the command line; regexes are checked here."""
    out: dict[str, Any] = {}
    for flag, (field, _) in REGEX_FLAGS.items():
        value = getattr(args, field)
        if value is None:
            continue
        try:
            re.compile(value)
        except re.error as exc:
            raise UsageError(f"{flag}: invalid regular expression {value!r}: {exc}") from None
        out[field] = value
    for field in ("filesystem_timeout", "filesystem_network", "textfile_directory", "collector_timeout"):
        value = getattr(args, field)
        if value is not None:
            out[field] = value
    for flag, field in (("--path.rootfs", "path_rootfs"), ("--path.procfs", "path_procfs"),
                        ("--path.sysfs", "path_sysfs")):
        value = getattr(args, field)
        if value is None:
            continue
        if not value.startswith("/"):
            raise UsageError(f"{flag}: must be an absolute path, got {value!r}")
        out[field] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    t_start = time.monotonic()
    from exporter import settings
    from exporter.collectors import REGISTRY

    parser = build_parser(REGISTRY)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format=f"{PROG}: %(levelname)s: %(message)s")
    log = logging.getLogger(PROG)

    try:
        overrides = collector_overrides(args)
        path = settings.config_path(args.config)
        cfg = settings.load(path)
        cfg = settings.with_collector_overrides(cfg, overrides)
        collectors_cfg = cfg.exporter.collectors
        unknown = sorted(set(collectors_cfg.enabled) - set(REGISTRY))
        if unknown:
            from tradewatch.config import ConfigError

            raise ConfigError(path, [(f"exporter.collectors.enabled.{n}",
                                      f"unknown collector (known: {', '.join(sorted(REGISTRY))})")
                                     for n in unknown])
        listen = args.listen or cfg.exporter.listen
        host, port = _parse_listen(listen)
    except UsageError as exc:
        parser.error(str(exc))
    except Exception as exc:
        if not _is_config_error(exc):
            raise
        print(f"{PROG}: invalid configuration\n{exc}", file=sys.stderr)
        return 2

    from exporter.httpd import PooledHTTPServer
    from exporter.scrape import ScrapeCollector, build_collectors, enabled_names
    from exporter.server import index_page, make_app

    flags = {n: getattr(args, f"collector__{n}") for n in REGISTRY
             if getattr(args, f"collector__{n}") is not None}
    names = enabled_names(REGISTRY, collectors_cfg.enabled, flags, disable_defaults=args.disable_defaults)
    try:
        collectors = build_collectors(cfg, names)
    except Exception as exc:
        if not _is_config_error(exc):
            raise
        print(f"{PROG}: invalid configuration\n{exc}", file=sys.stderr)
        return 2
    scrape = ScrapeCollector(collectors, default_timeout=collectors_cfg.collector_timeout)
    app = make_app(scrape, index_page([c.name for c in collectors], scrape.version))
    try:
        server = PooledHTTPServer((host, port), app)
    except OSError as exc:
        print(f"{PROG}: cannot listen on {listen}: {exc.strerror or exc}", file=sys.stderr)
        scrape.close()
        return 1
    return serve(server, scrape, log, t_start, listen, [c.name for c in collectors])


def _is_config_error(exc: BaseException) -> bool:
    """ConfigError without importing the config machinery: if one was raised, it is loaded."""
    config_module = sys.modules.get("tradewatch.config")
    error_type = getattr(config_module, "ConfigError", None)
    return error_type is not None and isinstance(exc, error_type)


class _Stop(Exception):
    pass


def _on_signal(signum: int, frame: Any) -> None:
    raise _Stop(signum)


def serve(server: Any, scrape: Any, log: logging.Logger, t_start: float, listen: str,
          names: list[str]) -> int:
    """Serve until SIGTERM or SIGINT, then close the socket and return 0."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    log.info("listening on http://%s/metrics with collectors %s (ready in %.0f ms)",
             listen, ", ".join(names), (time.monotonic() - t_start) * 1000)
    try:
        server.serve_forever(poll_interval=3600)
    except _Stop as stop:
        log.info("signal %s: shutting down", stop.args[0])
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        server.server_close()
        scrape.close()
    return 0


def _parse_listen(value: str) -> tuple[str, int]:
    from exporter.server import parse_listen

    try:
        return parse_listen(value)
    except ValueError as exc:
        raise UsageError(f"--listen: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
