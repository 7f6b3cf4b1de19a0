"""A small tmpfs mounted for one test (disk full, read-only): root only, always unmounted."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def can_mount() -> bool:
    return os.geteuid() == 0 and os.path.exists("/proc/mounts")


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` (e.g. "8m") at `path` until the block ends."""
    if not can_mount():
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount(path: Path, *, read_only: bool) -> None:
    subprocess.run(["mount", "-o", f"remount,{'ro' if read_only else 'rw'}", str(path)], check=True)


def fill(path: Path, chunk: int = 64 * 1024, limit: int = 1 << 30) -> Path:
    """Write a filler file in `path` until the filesystem is full (ENOSPC); returns the file."""
    filler = path / "filler"
    written = 0
    with open(filler, "wb") as fh:
        while written < limit:
            try:
                fh.write(b"\0" * chunk)
                fh.flush()
            except OSError:
                break
            written += chunk
    return filler
