"""--path.rootfs against the real thing: / bound read-only at a folder in a private mount
namespace (what docker's `/:/host:ro,rslave` gives the exporter's container), our exporter and
Debian's node_exporter 1.5 both run there with --path.rootfs, and report the same filesystems.

Needs root (or CAP_SYS_ADMIN) for `unshare -m`; skipped where that is not allowed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.procs import Proc, binary, free_port
from tradewatch.quantities import MOUNT_POINTS_EXCLUDE

pytestmark = pytest.mark.integration

# our default mount-point exclusion (upstream node_exporter 1.5's); Debian's build also skips /mnt etc.
EXCLUDE = MOUNT_POINTS_EXCLUDE  # node_exporter 1.5.x default


def _can_unshare() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None or shutil.which("nsenter") is None:
        return False
    res = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True,
                         timeout=10, check=False)
    return res.returncode == 0


Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def filesystem_series(url: str) -> Series:
    with urllib.request.urlopen(url, timeout=15) as resp:
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) if f.name.startswith("node_filesystem_")
            for s in f.samples}


def mountpoints(series: Series) -> set[str]:
    return {dict(labels)["mountpoint"] for _, labels in series}


@pytest.mark.skipif(not _can_unshare(), reason="needs `unshare -m` (root) on Linux")
def test_rootfs_in_a_mount_namespace_matches_node_exporter(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "TRADEWATCH_CONFIG"}
    ours_port, node_port, plain_port = free_port(), free_port(), free_port()
    ours_url = f"http://127.0.0.1:{ours_port}/metrics"
    node_url = f"http://127.0.0.1:{node_port}/metrics"
    plain_url = f"http://127.0.0.1:{plain_port}/metrics"
    # unshare execs sh, which execs the exporter: one pid, whose mount namespace node_exporter joins
    ours = Proc(["unshare", "-m", "--propagation", "private", "sh", "-ec",
                 f'mount --rbind / "{host}"; mount -o remount,bind,ro "{host}"; exec "$@"', "sh",
                 binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{ours_port}",
                 "--path.rootfs", str(host), "--collector.disable-defaults", "--collector.filesystem"],
                tmp_path / "ours.log", env=env, cwd=tmp_path)
    procs = [ours]
    try:
        ours.wait_http(ours_url)
        node = Proc(["nsenter", f"--mount=/proc/{ours.popen.pid}/ns/mnt", binary("prometheus-node-exporter"),
                     f"--web.listen-address=127.0.0.1:{node_port}", f"--path.rootfs={host}",
                     f"--collector.filesystem.mount-points-exclude={EXCLUDE}",
                     "--collector.disable-defaults", "--collector.filesystem"],
                    tmp_path / "node.log", env=env, cwd=tmp_path)
        procs.append(node)
        # ours outside the namespace, without --path.rootfs: the host's view to match
        plain = Proc([binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{plain_port}",
                      "--collector.disable-defaults", "--collector.filesystem"],
                     tmp_path / "plain.log", env=env, cwd=tmp_path)
        procs.append(plain)
        node.wait_http(node_url)
        plain.wait_http(plain_url)
        got, theirs = filesystem_series(ours_url), filesystem_series(node_url)
        direct = filesystem_series(plain_url)
    finally:
        for proc in procs:
            proc.stop()

    assert "/" in mountpoints(got)
    assert not any(m.startswith(str(tmp_path)) for m in mountpoints(got)), mountpoints(got)
    assert set(got) == set(theirs), (sorted(set(got) ^ set(theirs)))
    assert set(got) == set(direct)
    # everything but free space and free inodes (which move between scrapes on a busy machine)
    # is the same, readonly included: it comes from the host's mount options, not the ro bind
    moving = ("node_filesystem_avail_bytes", "node_filesystem_free_bytes", "node_filesystem_files_free")
    steady = {k: v for k, v in got.items() if k[0] not in moving}
    assert steady == {k: theirs[k] for k in steady}
    assert steady == {k: direct[k] for k in steady}
