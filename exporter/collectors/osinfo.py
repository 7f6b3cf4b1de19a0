"""The `os` collector: node_boot_time_seconds, node_uname_info, node_os_info, node_os_version.

Boot time comes from psutil on every OS. uname labels are node_exporter's (sysname, release,
version, machine, nodename, domainname); domainname is read where Linux exposes it and is
"(none)" otherwise, as the kernel itself reports an unset one. node_os_info follows
node_exporter's os collector: the os-release file on Linux and the BSDs, and on macOS and
Windows the name and version the platform module reports; labels it cannot fill are empty.
"""

from __future__ import annotations

import contextlib
import os as _os
import platform as _platform
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from exporter.families import gauge
from exporter.metric import Metric

OS_RELEASE_FILES = ("/etc/os-release", "/usr/lib/os-release")
OS_INFO_LABELS = ("build_id", "id", "id_like", "image_id", "image_version", "name", "pretty_name",
                  "variant", "variant_id", "version", "version_codename", "version_id")
UNAME_LABELS = ("sysname", "release", "version", "machine", "nodename", "domainname")
_VERSION = re.compile(r"^(\d+(?:\.\d+)?)")
BOOT_TIME = gauge("node_boot_time_seconds", "Node boot time, in unixtime.")
UNAME_INFO = gauge("node_uname_info", "Labeled system information as provided by the uname system call.",
                   UNAME_LABELS)
OS_INFO = gauge("node_os_info",
                "A metric with a constant '1' value labeled by " + ", ".join(OS_INFO_LABELS) + ".",
                OS_INFO_LABELS)
OS_VERSION = gauge("node_os_version", "Metric containing the major.minor part of the OS version.",
                   ("id", "id_like", "name"))


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines with shell quoting, as os-release(5) specifies."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value]
        out[key.strip().lower()] = " ".join(parts)
    return out


def read_os_release(files: tuple[str, ...] = OS_RELEASE_FILES) -> dict[str, str] | None:
    for f in files:
        try:
            return parse_os_release(Path(f).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return None


def platform_os_release() -> dict[str, str] | None:
    """macOS and Windows have no os-release file: use what the platform module reports."""
    if sys.platform == "darwin":
        version = _platform.mac_ver()[0]
        return {"id": "macos", "name": "macOS", "pretty_name": f"macOS {version}".strip(),
                "version": version, "version_id": version}
    if sys.platform == "win32":
        release, version, _, _ = _platform.win32_ver()
        return {"id": "windows", "name": "Windows", "pretty_name": f"Windows {release}".strip(),
                "version": release, "version_id": version}
    return None


def uname() -> tuple[str, ...]:
    if hasattr(_os, "uname"):
        u = _os.uname()
        sysname, nodename, release, version, machine = u.sysname, u.nodename, u.release, u.version, u.machine
    else:
        u = _platform.uname()
        sysname, nodename, release, version, machine = u.system, u.node, u.release, u.version, u.machine
    domainname = "(none)"
    with contextlib.suppress(OSError):
        domainname = Path("/proc/sys/kernel/domainname").read_text().strip() or "(none)"
    return sysname, release, version, machine, nodename, domainname


class OsCollector:
    name = "os"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, ps: Any = psutil, os_release: dict[str, str] | None = None, uname_fn: Any = uname):
        self.ps = ps
        self.os_release = os_release
        self.uname = uname_fn

    def collect(self) -> Iterator[Metric]:
        yield BOOT_TIME.value(self.ps.boot_time())
        fam = UNAME_INFO.new()
        UNAME_INFO.add(fam, self.uname(), 1.0)
        yield fam
        rel = self.os_release
        if rel is None:
            return
        info = OS_INFO.new()
        OS_INFO.add(info, [rel.get(k, "") for k in OS_INFO_LABELS], 1.0)
        yield info
        m = _VERSION.match(rel.get("version_id", ""))
        if m:
            ver = OS_VERSION.new()
            OS_VERSION.add(ver, [rel.get("id", ""), rel.get("id_like", ""), rel.get("name", "")],
                           float(m.group(1)))
            yield ver


def build(config: Any) -> OsCollector:
    return OsCollector(os_release=read_os_release() or platform_os_release())
