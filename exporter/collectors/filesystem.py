"""node_filesystem_*{device,mountpoint,fstype}: size, free, avail, inodes, read-only, errors.

As node_exporter: mounts are filtered by the mount-point and fs-type patterns (pseudo and
container overlay filesystems excluded by default), network filesystems are skipped unless
asked for, and every stat runs in a worker thread bounded by the mount timeout. A mount whose
stat does not answer in time gets node_filesystem_device_error 1 and is not statted again
(still reported with device_error 1) until the hung call returns, so one dead NFS server costs
one thread and never the scrape.

In a container with the host's / mounted at `rootfs` (node_exporter's `--path.rootfs`, e.g.
`/host`), as node_exporter 1.5 does: the mount table is PID 1's (`/proc/1/mounts`: the host's
when the container shares the host's PID namespace, so mount points, devices and options are
the host's own), each mount is reported under its host name and statted under rootfs
(`/boot` at `/host/boot`, `/` at `/host`). When PID 1's table is not the host's (no host PID
namespace; or unreadable, then this process's table is used) the host's mounts show up in it
under rootfs, through the bind: then only those are kept, with the prefix stripped
(`/host/boot` -> `/boot`, `/host` -> `/`), and the container's own mounts are dropped, where
node_exporter would report them too, statted at the wrong place. The filters see the host's
mount point.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, NamedTuple

import psutil

from exporter.families import gauge
from exporter.filters import NameFilter
from exporter.metric import Metric
from exporter.workers import Lane, WorkerPool

log = logging.getLogger(__name__)

NETWORK_FS_TYPES = frozenset({
    "9p", "afpfs", "afs", "beegfs", "ceph", "cifs", "coda", "davfs", "fuse.glusterfs", "fuse.rclone",
    "fuse.s3fs", "fuse.sshfs", "glusterfs", "gpfs", "lustre", "ncpfs", "nfs", "nfs4", "smb", "smb2",
    "smb3", "smbfs", "sshfs", "webdav",
})


LABELS = ("device", "mountpoint", "fstype")
SIZE = gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", LABELS)
FREE = gauge("node_filesystem_free_bytes", "Filesystem free space in bytes.", LABELS)
AVAIL = gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", LABELS)
FILES = gauge("node_filesystem_files", "Filesystem total file nodes.", LABELS)
FILES_FREE = gauge("node_filesystem_files_free", "Filesystem total free file nodes.", LABELS)
READONLY = gauge("node_filesystem_readonly", "Filesystem read-only status.", LABELS)
DEVICE_ERROR = gauge("node_filesystem_device_error",
                     "Whether an error occurred while getting statistics for the given device.", LABELS)
STAT_SPECS = (SIZE, FREE, AVAIL, FILES, FILES_FREE)  # in FsStat's field order


STALL_PATIENCE = 0.1


class Mount(NamedTuple):
    labels: tuple[str, str, str]  # device, mountpoint (as the host sees it), fstype
    readonly: bool
    path: str  # where to stat it: the mount point in this process's view (under rootfs)


class FsStat(NamedTuple):
    size: float
    free: float | None  # None where the OS API does not tell free from avail
    avail: float
    files: float | None
    files_free: float | None


def statvfs(mountpoint: str) -> FsStat:
    st = os.statvfs(mountpoint)
    bs = st.f_frsize or st.f_bsize
    return FsStat(st.f_blocks * bs, st.f_bfree * bs, st.f_bavail * bs, st.f_files, st.f_ffree)


def disk_usage(mountpoint: str) -> FsStat:
    """Windows: no statvfs; psutil's `free` is what the caller may use (avail)."""
    u = psutil.disk_usage(mountpoint)
    return FsStat(u.total, None, u.free, None, None)


def normalize_rootfs(rootfs: str) -> str:
    """`/host/` and `/host` alike; `/` (or empty) means no prefix."""
    return rootfs.rstrip("/") or "/"


def host_mountpoint(mountpoint: str, rootfs: str) -> str | None:
    """The mount point as the host sees it, or None when it is not under `rootfs` (normalized).

    The prefix is matched on whole path components: under `/host`, `/hostdata` is not the
    host's (node_exporter's plain string prefix would report it as `data`).
    """
    if rootfs == "/":
        return mountpoint
    if mountpoint == rootfs:
        return "/"
    if mountpoint.startswith(rootfs + "/"):
        return mountpoint[len(rootfs):]
    return None


class Part(NamedTuple):
    """A mount table entry: the fields of psutil's `sdiskpart` this collector reads."""

    device: str
    mountpoint: str
    fstype: str
    opts: str


_OCTAL = re.compile(r"\\([0-7]{3})")


def parse_mounts(text: str) -> list[Part]:
    """/proc/PID/mounts (fstab(5) lines; space, tab, newline and backslash octal-escaped)."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            device, mountpoint, fstype, opts = (_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), f)
                                                for f in fields[:4])
            out.append(Part(device, mountpoint, fstype, opts))
    return out


def read_pid1_mounts(procfs: str = "/proc") -> list[Part] | None:
    """PID 1's mount table (the host's with the host's PID namespace), None when unreadable."""
    try:
        with open(os.path.join(procfs, "1", "mounts"), encoding="utf-8", errors="surrogateescape") as fh:
            return parse_mounts(fh.read())
    except OSError as exc:
        log.debug("reading PID 1's mount table: %s", exc)
        return None


def is_network(fstype: str, opts: str) -> bool:
    return fstype.lower() in NETWORK_FS_TYPES or "remote" in opts.split(",")


class FilesystemCollector:
    name = "filesystem"
    # runs in the request thread (see exporter.scrape): the stats, the one call that can hang,
    # run on this collector's own threads, each waited for at most mount_timeout
    inline = True

    def __init__(self, *, mount_filter: NameFilter, fstype_filter: NameFilter, mount_timeout: float = 5.0,
                 include_network: bool = False, rootfs: str = "/", ps: Any = psutil,
                 stat: Callable[[str], FsStat] | None = None, pool: WorkerPool | None = None,
                 host_table: Callable[[], list[Part] | None] | None = None):
        self.ps = ps
        self.mount_filter = mount_filter
        self.fstype_filter = fstype_filter
        self.mount_timeout = mount_timeout
        self.include_network = include_network
        self.rootfs = normalize_rootfs(rootfs)
        # only consulted with a rootfs other than /
        self.host_table = host_table or (lambda: read_pid1_mounts(getattr(ps, "PROCFS_PATH", "/proc")))
        self.stat = stat or (statvfs if hasattr(os, "statvfs") else disk_usage)
        self.pool = pool or WorkerPool("fs-stat", min_workers=1, max_workers=8)
        # the runner's limit: the stats share one mount_timeout deadline, plus listing time;
        # collect() itself never blocks on a mount (the stats run on self.pool)
        self.timeout = mount_timeout + 1.0
        self.blocking = False
        self._keep: dict[tuple[bool, str, str, str, str], Mount | None] = {}
        self._stuck: set[str] = set()
        self._lock = threading.Lock()

    def _unstick(self, mountpoint: str) -> Callable[[Future[FsStat]], None]:
        def done(_: Future[FsStat]) -> None:
            with self._lock:
                self._stuck.discard(mountpoint)
            log.info("filesystem %s answers again", mountpoint)

        return done

    def mounts(self) -> list[Mount]:
        """The mounts to report, deduplicated by their labels."""
        seen = set()
        out = []
        parts, through_bind = self._table()
        if len(self._keep) > 4 * len(parts) + 64:  # mounts come and go: bound the memo
            self._keep.clear()
        for p in parts:
            key = (through_bind, p.device, p.mountpoint, p.fstype, p.opts)
            if key not in self._keep:
                self._keep[key] = self._decide(p.device, p.mountpoint, p.fstype, p.opts, through_bind)
            kept = self._keep[key]
            if kept is None or kept.labels in seen:
                continue
            seen.add(kept.labels)
            out.append(kept)
        return out

    def _table(self) -> tuple[Any, bool]:
        """The mount table, and whether the host's mounts appear in it under rootfs (a bind)."""
        if self.rootfs == "/":
            return self.ps.disk_partitions(all=True), False
        parts = self.host_table()
        if parts is None:
            parts = self.ps.disk_partitions(all=True)
        # the host's own table never lists the container's bind of /; a container's table does
        through_bind = any(host_mountpoint(p.mountpoint, self.rootfs) is not None for p in parts)
        return parts, through_bind

    def _decide(self, device: str, mountpoint: str, fstype: str, opts: str,
                through_bind: bool = False) -> Mount | None:
        if through_bind or self.rootfs == "/":
            label, path = host_mountpoint(mountpoint, self.rootfs), mountpoint
            if label is None:
                return None
        else:  # a host mount point: stat it under rootfs
            label, path = mountpoint, self.rootfs + mountpoint.rstrip("/")
        if not self.mount_filter(label) or not self.fstype_filter(fstype):
            return None
        if not self.include_network and is_network(fstype, opts):
            return None
        return Mount((device, label, fstype), "ro" in opts.split(","), path)

    def collect(self) -> Iterator[Metric]:
        fams = [spec.new() for spec in STAT_SPECS]
        readonly_fam = READONLY.new()
        error = DEVICE_ERROR.new()
        pending: list[tuple[tuple[str, str, str], bool, Future[FsStat]]] = []
        jobs: list[tuple[Future[FsStat], Callable[[str], FsStat], tuple[str]]] = []
        for mount in self.mounts():
            lv, readonly = mount.labels, mount.readonly
            with self._lock:
                stuck = lv[1] in self._stuck
            if stuck:
                DEVICE_ERROR.add(error, lv, 1.0)
                continue
            fut: Future[FsStat] = Future()
            pending.append((lv, readonly, fut))
            jobs.append((fut, self.stat, (mount.path,)))
        deadline = time.monotonic() + self.mount_timeout
        # Stats take microseconds: one pool task runs them in turn, and hands the rest to
        # tasks of their own if one stalls, so each mount still gets the whole mount timeout.
        lane = Lane(self.pool, jobs)
        for fut, _, _ in jobs:
            if not lane.wait(fut, min(STALL_PATIENCE, deadline - time.monotonic())):
                break
        for lv, readonly, fut in pending:
            try:
                st = fut.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                log.warning("filesystem %s did not answer within %gs: marked unresponsive",
                            lv[1], self.mount_timeout)
                with self._lock:
                    self._stuck.add(lv[1])
                fut.add_done_callback(self._unstick(lv[1]))
                DEVICE_ERROR.add(error, lv, 1.0)
                continue
            except OSError as exc:
                log.debug("statfs %s: %s", lv[1], exc)
                DEVICE_ERROR.add(error, lv, 1.0)
                continue
            DEVICE_ERROR.add(error, lv, 0.0)
            for spec, fam, value in zip(STAT_SPECS, fams, st, strict=True):
                if value is not None:
                    spec.add(fam, lv, value)
            READONLY.add(readonly_fam, lv, 1.0 if readonly else 0.0)
        yield error
        yield from (f for f in (*fams, readonly_fam) if f.samples)


def build(config: Any) -> FilesystemCollector:
    s = config.exporter.collectors
    if s.path_rootfs != "/" and not os.path.isdir(s.path_rootfs):
        log.warning("path.rootfs %s is not a directory: every filesystem will report an error", s.path_rootfs)
    return FilesystemCollector(
        mount_filter=NameFilter(s.filesystem_mount_points_include, s.filesystem_mount_points_exclude),
        fstype_filter=NameFilter(s.filesystem_fs_types_include, s.filesystem_fs_types_exclude),
        mount_timeout=s.filesystem_timeout,
        include_network=s.filesystem_network,
        rootfs=s.path_rootfs,
    )
