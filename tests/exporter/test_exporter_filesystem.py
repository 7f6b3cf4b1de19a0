"""The filesystem collector: labels, exclusions, network filesystems, and a hung mount."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

import pytest

from exporter.collectors.filesystem import FilesystemCollector, FsStat, Part, parse_mounts, read_pid1_mounts
from exporter.filters import NameFilter
from exporter.settings import COLLECTOR_DEFAULTS

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
    got = series(c)  # without the bound: /boot answers after 10 s, with no device error
    assert got[("node_filesystem_device_error", "/boot")] == 1
    assert ("node_filesystem_size_bytes", "/boot") not in got
    assert got[("node_filesystem_size_bytes", "/")] == 100 * GIB  # the rest is still served
    assert c.timeout == pytest.approx(1.3)

    # next scrape: the stuck mount is not statted again (so nothing waits), still an error
    calls.clear()
    got = series(c)
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


# --path.rootfs: the exporter in a container with the host's / mounted read-only at /host.
# PID 1's mount table with the host's PID namespace: the host's own mount points and options.
HOST_PARTS = [
    Part("/dev/sda1", "/", "ext4", "rw,relatime"),
    Part("/dev/sda2", "/boot", "vfat", "rw,relatime"),
    Part("proc", "/proc", "proc", "rw"),
    Part("tmpfs", "/run", "tmpfs", "rw,nosuid"),
    Part("overlay", "/var/lib/docker/overlay2/abc/merged", "overlay", "rw"),
    Part("/dev/sdb1", "/srv/archive", "ext4", "ro,relatime"),
    Part("/dev/sda1", "/", "ext4", "rw,relatime"),
]
# The container's own table (without the host's PID namespace, PID 1's is this one too): the
# host's mounts appear under /host through the recursive bind, read-only like the bind.
CONTAINER_PARTS = [
    Part("overlay", "/", "overlay", "rw,relatime"),  # the container's own root
    Part("proc", "/proc", "proc", "rw"),
    Part("/dev/vda1", "/etc/hosts", "ext4", "rw"),  # container files bind-mounted by Docker
    Part("/dev/vda1", "/etc/tradewatch/tradewatch.yaml", "ext4", "ro"),
    Part("/dev/sda1", "/host", "ext4", "ro,relatime"),
    Part("/dev/sda2", "/host/boot", "vfat", "ro,relatime"),
    Part("proc", "/host/proc", "proc", "rw"),
    Part("tmpfs", "/host/run", "tmpfs", "rw,nosuid"),
    Part("/dev/sdc1", "/host/var/lib/docker/volumes", "ext4", "rw"),  # excluded by its host name
    Part("/dev/sdb1", "/hostdata", "ext4", "rw"),  # a sibling, not under /host
    Part("/dev/sda1", "/host", "ext4", "ro,relatime"),  # listed twice: reported once
]


def recording_stat(calls: list[str]):
    def stat(path: str) -> FsStat:
        calls.append(path)
        return FsStat(len(path) * GIB, GIB, GIB, 10, 5)  # values tell which path was statted

    return stat


def labelsets(collector, family="node_filesystem_size_bytes"):
    return sorted(tuple(s.labels[k] for k in ("device", "mountpoint", "fstype"))
                  for f in collector.collect() for s in f.samples if s.name == family)


@pytest.mark.parametrize("rootfs", ["/host", "/host/"])
def test_rootfs_reports_pid1s_host_table_statted_under_rootfs(rootfs):
    calls: list[str] = []
    # psutil (this process's table) must not be what is reported: PID 1's is the host's
    c = make(recording_stat(calls), parts=CONTAINER_PARTS, rootfs=rootfs, host_table=lambda: HOST_PARTS)
    assert labelsets(c) == [
        ("/dev/sda1", "/", "ext4"),
        ("/dev/sda2", "/boot", "vfat"),
        ("/dev/sdb1", "/srv/archive", "ext4"),
        ("tmpfs", "/run", "tmpfs"),
    ]
    assert sorted(calls) == ["/host", "/host/boot", "/host/run", "/host/srv/archive"]
    got = series(c)
    assert got[("node_filesystem_size_bytes", "/boot")] == len("/host/boot") * GIB
    # the host's mount options, not the read-only bind's
    assert got[("node_filesystem_readonly", "/")] == 0
    assert got[("node_filesystem_readonly", "/srv/archive")] == 1


@pytest.mark.parametrize("pid1", [lambda: CONTAINER_PARTS, lambda: None],
                         ids=["own-pid-namespace", "unreadable"])
def test_rootfs_through_the_bind_strips_the_prefix_and_drops_the_containers_mounts(pid1):
    # PID 1's table is the container's (no host PID namespace), or unreadable and psutil's is used
    calls: list[str] = []
    c = make(recording_stat(calls), parts=CONTAINER_PARTS, rootfs="/host", host_table=pid1)
    assert labelsets(c) == [
        ("/dev/sda1", "/", "ext4"),
        ("/dev/sda2", "/boot", "vfat"),
        ("tmpfs", "/run", "tmpfs"),
    ]
    # statted where they are mounted; /etc/hosts, the config file, the overlay root and the
    # sibling /hostdata are not reported, nor /host/proc and /host/var/lib/docker/... (excluded)
    assert sorted(calls) == ["/host", "/host/boot", "/host/run"]
    assert series(c)[("node_filesystem_size_bytes", "/boot")] == len("/host/boot") * GIB


def test_rootfs_filters_see_the_host_mount_point():
    for table in (HOST_PARTS, CONTAINER_PARTS):
        c = FilesystemCollector(mount_filter=NameFilter(include="^/boot$"), fstype_filter=NameFilter(),
                                ps=SimpleNamespace(disk_partitions=lambda all: CONTAINER_PARTS),
                                stat=fake_stat, rootfs="/host", host_table=lambda t=table: t)
        assert {m for _, m in series(c)} == {"/boot"}


def test_default_rootfs_reports_every_mount_as_listed():
    calls: list[str] = []

    def pid1():
        raise AssertionError("PID 1's table is only read with a rootfs")

    c = make(recording_stat(calls), parts=CONTAINER_PARTS, host_table=pid1)
    assert c.rootfs == "/"
    # the exclusions see the names as listed: /host/var/lib/docker/... is not /var/lib/docker/...
    assert {m for _, m in series(c)} == {
        "/etc/hosts", "/etc/tradewatch/tradewatch.yaml", "/host", "/host/boot", "/host/run",
        "/host/var/lib/docker/volumes", "/hostdata",
    }
    assert set(calls) == {m for _, m in series(c)}  # each statted where it is listed
    assert make(fake_stat, rootfs="/").rootfs == "/"


def test_parse_and_read_pid1_mounts(tmp_path):
    text = ("/dev/sda1 / ext4 rw,relatime 0 0\n"
            "/dev/sdb1 /mnt/my\\040disk\\011x ext4 ro 0 0\n"
            "server:/a\\134b /mnt/nfs nfs4 rw,addr=10.0.0.1 0 0\n"
            "bad line\n")
    assert parse_mounts(text) == [
        Part("/dev/sda1", "/", "ext4", "rw,relatime"),
        Part("/dev/sdb1", "/mnt/my disk\tx", "ext4", "ro"),
        Part("server:/a\\b", "/mnt/nfs", "nfs4", "rw,addr=10.0.0.1"),
    ]
    assert read_pid1_mounts(str(tmp_path)) is None  # no such file: None, the caller falls back
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "mounts").write_text(text)
    assert read_pid1_mounts(str(tmp_path))[1].mountpoint == "/mnt/my disk\tx"
    # the collector reads it from psutil's procfs path
    ps = SimpleNamespace(PROCFS_PATH=str(tmp_path), disk_partitions=lambda all: [])
    calls: list[str] = []
    c = FilesystemCollector(mount_filter=NameFilter(), fstype_filter=NameFilter(), ps=ps,
                            stat=recording_stat(calls), rootfs="/host")
    assert {m for _, m in series(c)} == {"/", "/mnt/my disk\tx"}  # nfs4 skipped as a network fs
    assert set(calls) == {"/host", "/host/mnt/my disk\tx"}


def test_rootfs_statvfs_runs_on_the_prefixed_path(tmp_path):
    # the real statvfs: a host mount point is statted under rootfs
    host = tmp_path / "host"
    (host / "data").mkdir(parents=True)
    c = FilesystemCollector(mount_filter=NameFilter(), fstype_filter=NameFilter(), rootfs=str(host),
                            ps=SimpleNamespace(disk_partitions=lambda all: []),
                            host_table=lambda: [Part("/dev/sda1", "/", "ext4", "rw"),
                                                Part("/dev/sda3", "/data", "ext4", "rw"),
                                                Part("/dev/sda9", "/missing", "ext4", "rw")])
    got = series(c)
    st = os.statvfs(host)
    assert got[("node_filesystem_size_bytes", "/")] == st.f_blocks * (st.f_frsize or st.f_bsize)
    assert got[("node_filesystem_device_error", "/data")] == 0
    assert got[("node_filesystem_device_error", "/missing")] == 1  # statted at host/missing: absent


def test_path_rootfs_flag_config_key_and_bad_values(tmp_path, capsys):
    from exporter import cli
    from exporter.collectors import REGISTRY, filesystem
    from exporter.settings import DefaultConfig, with_collector_overrides

    parser = cli.build_parser(REGISTRY)
    overrides = cli.collector_overrides(parser.parse_args(["--path.rootfs", "/host"]))
    assert overrides == {"path_rootfs": "/host"}
    assert filesystem.build(with_collector_overrides(DefaultConfig(), overrides)).rootfs == "/host"
    assert filesystem.build(DefaultConfig()).rootfs == "/"
    assert "path_rootfs" not in cli.collector_overrides(parser.parse_args([]))
    with pytest.raises(cli.UsageError, match=r"--path\.rootfs: must be an absolute path"):
        cli.collector_overrides(parser.parse_args(["--path.rootfs", "host"]))

    from tradewatch.config import load_config

    good = tmp_path / "good.yaml"
    good.write_text("exporter:\n  collectors:\n    path_rootfs: /host\n")
    assert filesystem.build(load_config(good, env={})).rootfs == "/host"
    bad = tmp_path / "bad.yaml"
    bad.write_text("exporter:\n  collectors:\n    path_rootfs: host\n")
    assert cli.main(["--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "exporter.collectors.path_rootfs" in err and "absolute path" in err
