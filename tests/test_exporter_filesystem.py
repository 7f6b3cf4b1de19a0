"""The filesystem collector: labels, exclusions, network filesystems, and a hung mount."""

from __future__ import annotations

import threading
import time
from collections import namedtuple
from types import SimpleNamespace

import pytest

from exporter.collectors.filesystem import FilesystemCollector, FsStat
from exporter.filters import NameFilter
from exporter.settings import COLLECTOR_DEFAULTS

Part = namedtuple("sdiskpart", "device mountpoint fstype opts")

PARTS = [
    Part("/dev/sda1", "/", "ext4", "rw,relatime"),
    Part("/dev/sda2", "/boot", "vfat", "ro,relatime"),
    Part("proc", "/proc", "proc", "rw"),
    Part("tmpfs", "/dev/shm", "tmpfs", "rw"),
    Part("overlay", "/var/lib/docker/overlay2/abc/merged", "overlay", "rw"),
    Part("cgroup2", "/sys/fs/cgroup", "cgroup2", "rw"),
    Part("server:/export", "/mnt/nfs", "nfs4", "rw"),
    Part("/dev/sda1", "/", "ext4", "rw,relatime"),  # listed twice: reported once
    Part("tmpfs", "/run", "tmpfs", "rw"),
]
GIB = 2**30


def make(stat, parts=PARTS, **kw):
    ps = SimpleNamespace(disk_partitions=lambda all: list(parts))
    kw.setdefault("mount_timeout", 0.3)
    return FilesystemCollector(
        mount_filter=NameFilter(exclude=COLLECTOR_DEFAULTS["filesystem_mount_points_exclude"]),
        fstype_filter=NameFilter(exclude=COLLECTOR_DEFAULTS["filesystem_fs_types_exclude"]),
        ps=ps, stat=stat, **kw,
    )


def fake_stat(mountpoint: str) -> FsStat:
    return FsStat(100 * GIB, 40 * GIB, 30 * GIB, 1000, 600)


def series(collector):
    return {(s.name, s.labels["mountpoint"]): s.value for f in collector.collect() for s in f.samples}


def test_values_labels_and_default_exclusions():
    got = series(make(fake_stat))
    mounts = {m for _, m in got}
    assert mounts == {"/", "/boot", "/run"}  # pseudo, /dev, docker overlay and nfs excluded
    assert got[("node_filesystem_size_bytes", "/")] == 100 * GIB
    assert got[("node_filesystem_free_bytes", "/")] == 40 * GIB
    assert got[("node_filesystem_avail_bytes", "/")] == 30 * GIB
    assert got[("node_filesystem_files", "/")] == 1000
    assert got[("node_filesystem_files_free", "/")] == 600
    assert got[("node_filesystem_readonly", "/boot")] == 1
    assert got[("node_filesystem_readonly", "/")] == 0
    assert got[("node_filesystem_device_error", "/")] == 0
    fams = list(make(fake_stat).collect())
    labels = {tuple(sorted(s.labels)) for f in fams for s in f.samples}
    assert labels == {("device", "fstype", "mountpoint")}
    root = [s for f in fams for s in f.samples if s.name == "node_filesystem_size_bytes"
            and s.labels["mountpoint"] == "/"]
    assert len(root) == 1 and root[0].labels == {"device": "/dev/sda1", "mountpoint": "/", "fstype": "ext4"}


def test_network_filesystems_only_when_asked():
    assert "/mnt/nfs" in {m for _, m in series(make(fake_stat, include_network=True))}


def test_include_patterns():
    c = FilesystemCollector(mount_filter=NameFilter(include="^/boot$"), fstype_filter=NameFilter(),
                            ps=SimpleNamespace(disk_partitions=lambda all: PARTS), stat=fake_stat)
    assert {m for _, m in series(c)} == {"/boot"}


def test_stat_error_sets_device_error_and_omits_sizes():
    def stat(mp):
        if mp == "/boot":
            raise PermissionError(13, "denied")
        return fake_stat(mp)

    got = series(make(stat))
    assert got[("node_filesystem_device_error", "/boot")] == 1
    assert ("node_filesystem_size_bytes", "/boot") not in got
    assert got[("node_filesystem_size_bytes", "/")] == 100 * GIB


def test_hung_mount_is_bounded_marked_and_skipped_until_it_answers():
    release = threading.Event()
    calls: list[str] = []

    def stat(mp):
        calls.append(mp)
        if mp == "/boot":
            release.wait(10)
        return fake_stat(mp)

    c = make(stat, mount_timeout=0.3)
    t0 = time.monotonic()
    got = series(c)
    took = time.monotonic() - t0
    assert took < 2.0, "a hung stat must not block the scrape past the mount timeout"
    assert got[("node_filesystem_device_error", "/boot")] == 1
    assert ("node_filesystem_size_bytes", "/boot") not in got
    assert got[("node_filesystem_size_bytes", "/")] == 100 * GIB  # the rest is still served
    assert c.timeout == pytest.approx(1.3)

    # next scrape: the stuck mount is not statted again, still reported as an error, and quick
    calls.clear()
    t0 = time.monotonic()
    got = series(c)
    assert time.monotonic() - t0 < 0.3
    assert "/boot" not in calls
    assert got[("node_filesystem_device_error", "/boot")] == 1

    # the hung call returns: the mount is statted again on the following scrape
    release.set()
    deadline = time.monotonic() + 5
    while "/boot" in c._stuck and time.monotonic() < deadline:
        time.sleep(0.01)
    got = series(c)
    assert got[("node_filesystem_device_error", "/boot")] == 0
    assert got[("node_filesystem_size_bytes", "/boot")] == 100 * GIB


def test_windows_style_stat_omits_what_it_cannot_tell():
    def stat(mp):
        return FsStat(100, None, 30, None, None)

    got = series(make(stat))
    assert ("node_filesystem_free_bytes", "/") not in got and ("node_filesystem_files", "/") not in got
    assert got[("node_filesystem_avail_bytes", "/")] == 30
