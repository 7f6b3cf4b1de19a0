"""Record and replay the kernel files the netclass, netdev and diskstats collectors read.

`record(dest)` copies into `dest` /proc/net/dev, /proc/diskstats, every /sys/class/net/<iface>
attribute the netclass collector reads and the rx_nohandler counter the netdev collector reads,
the way the collectors read them: an attribute whose read fails is recorded as a file holding
`!errno NAME` (EINVAL for `speed` on lo, ...), one that does not exist is not recorded.
`replay_raw` replays such a tree: it raises the recorded error, so the collector's error
handling is exercised on recorded data.

    sudo .venv/bin/python -m tests.support.sysfs_fixture tests/fixtures/exporter/sysfs/NAME
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path

from exporter.collectors.netclass import NUMERIC_ATTRIBUTES, STRING_ATTRIBUTES, interfaces

MARK = "!errno "
ATTRIBUTES = (*STRING_ATTRIBUTES, *(a for a, _ in NUMERIC_ATTRIBUTES))


def record(dest: Path, proc: str = "/proc", sys_class_net: str = "/sys/class/net") -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("net/dev", "diskstats"):
        target = dest / "proc" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f"{proc}/{name}", target)
    for iface in interfaces(sys_class_net):
        out = dest / "class" / "net" / iface
        out.mkdir(parents=True, exist_ok=True)
        for attribute in ATTRIBUTES:
            try:
                fd = os.open(f"{sys_class_net}/{iface}/{attribute}", os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                data = os.read(fd, 128)
            except OSError as exc:
                data = f"{MARK}{errno.errorcode[exc.errno]}\n".encode()
            finally:
                os.close(fd)
            (out / attribute).write_bytes(data)
        nohandler = Path(sys_class_net, iface, "statistics", "rx_nohandler")
        if nohandler.exists():  # the netdev collector's one sysfs read
            (out / "statistics").mkdir(exist_ok=True)
            (out / "statistics" / "rx_nohandler").write_bytes(nohandler.read_bytes())


def replay_raw(path: str) -> bytes:
    """A `raw` reader for NetclassCollector over a recorded tree: raises the recorded errors."""
    with open(path, "rb") as fh:
        data = fh.read(128)
    if data.startswith(MARK.encode()):
        code = getattr(errno, data[len(MARK):].decode().strip())
        raise OSError(code, os.strerror(code))
    return data


if __name__ == "__main__":
    record(Path(sys.argv[1]))
