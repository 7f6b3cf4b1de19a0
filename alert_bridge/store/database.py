"""SQLite connections for the bridge: WAL, busy timeout, one persistent connection per thread.

Opening a connection per request costs about 40x in inserts/s, so each thread keeps its own.
Schema changes are numbered SQL files in `alert_bridge/store/migrations/`, applied in order and
recorded in `schema_migrations`; every SQL statement lives in `alert_bridge/store/`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradewatch.config import Config

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
SIDE_FILES = ("", "-wal", "-shm", "-journal")
WAL_AUTOCHECKPOINT_PAGES = 10000
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024
_TRANSIENT = re.compile(
    r"locked|busy|disk I/O error|database or disk is full|unable to open|readonly|read-only", re.I
)
# /health reports the store not ready below this much free space on the database's filesystem:
# SQLite may still fit a tiny probe row while a webhook (up to bridge.max_body_bytes) fails.
MIN_FREE_BYTES = 4 * 1024 * 1024


class StoreUnavailable(Exception):
    """A transient store fault (locked, disk full): callers answer 503 so senders retry."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and bool(_TRANSIENT.search(str(exc)))


def secure_files(path: Path) -> None:
    """Make the database and its side files 0600 (its new folder 0700), whatever the umask.

    The database holds the session signing key: readable by others, it lets anyone on the host
    forge a dashboard session. A new file is created 0600 before SQLite opens it (SQLite gives
    the -wal and -shm files the main file's mode); an existing one that others can read is
    fixed and the fix logged.
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
    for suffix in SIDE_FILES:
        side = Path(f"{path}{suffix}")
        try:
            mode = side.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & 0o077:
            try:
                os.chmod(side, 0o600)
            except OSError as exc:
                log.error("%s is readable by others (mode %o) and could not be fixed (%s): run "
                          "'chmod 600 %s*'", side, mode, exc, path)
                continue
            log.warning("%s was readable by others (mode %o): changed to 0600", side, mode)


class StoreNotWritable(Exception):
    """The database cannot be opened for writing at start-up; the message says how to fix it."""


def open_store(config: Config) -> tuple[Database, list[str]]:
    """Open, migrate and write-probe the configured database for `tradewatch-bridge`.

    A read-only file, folder or filesystem, or a full disk, becomes one StoreNotWritable line
    naming the file and the fix, instead of a traceback from the first write.
    """
    from alert_bridge.store import jobs

    path = Path(config.bridge.database)
    try:
        db = Database.for_config(config)
        applied = db.migrate()
        with db.transaction() as conn:
            jobs.set_state(conn, "start_probe", repr(time.time()))
    except (OSError, sqlite3.Error, StoreUnavailable) as exc:
        raise StoreNotWritable(
            f"cannot write the database {path} ({exc}): make the file, its -wal/-shm files and its "
            f"folder writable by this user, free disk space on that filesystem, or set "
            f"bridge.database to a writable path"
        ) from None
    return db, applied


class Database:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = str(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # One writer at a time inside this process: threads queue on a lock instead of hitting
        # SQLITE_BUSY and sleeping in SQLite's busy handler (up to 100 ms a try), which is what
        # made webhook p99 latency jump under concurrent load. Other processes still use the
        # busy timeout.
        self._write_lock = threading.Lock()
        self._write_wait = busy_timeout_ms / 1000
        if self.path != ":memory:":
            secure_files(Path(self.path))

    @classmethod
    def for_config(cls, config: Config) -> Database:
        """The bridge's database as configured (`bridge.database`, `bridge.busy_timeout`)."""
        return cls(config.bridge.database, busy_timeout_ms=int(config.bridge.busy_timeout * 1000))

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened once (autocommit mode; see `transaction`)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._open()
            except sqlite3.OperationalError as exc:
                if is_transient(exc):  # read-only or full filesystem, file gone: answer 503
                    raise StoreUnavailable(str(exc)) from exc
                raise
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None,
            check_same_thread=False,
        )
        try:
            self._configure(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        """Switch to WAL, retrying within the busy timeout: on a new file, connections opened at
        once race for the exclusive lock the switch needs, and SQLite answers 'database is
        locked' at once there (its busy handler is not used, to avoid a deadlock)."""
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)

    def _configure(self, conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        self._enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Checkpoints are run by the background `wal_checkpoint` job (PASSIVE, never blocking
        # writers); a committing request only checkpoints itself if the WAL grows past ~40 MB
        # (e.g. the workers are not running), instead of every ~4 MB on the request path.
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        # after a checkpoint resets the WAL, shrink the file back to this size: a burst or a
        # disk-full episode must not keep the space it took
        conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; transient faults surface as StoreUnavailable."""
        conn = self.connection()
        if not self._write_lock.acquire(timeout=self._write_wait):
            raise StoreUnavailable("database is locked (another writer in this process)")
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if is_transient(exc):
                    raise StoreUnavailable(str(exc)) from exc
                raise
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if is_transient(exc):
                    raise StoreUnavailable(str(exc)) from exc
                raise
        finally:
            self._write_lock.release()

    def free_bytes(self) -> int | None:
        """Bytes available to this user on the database's filesystem (None: in memory/unknown)."""
        if self.path == ":memory:":
            return None
        try:
            st = os.statvfs(Path(self.path).parent)
        except OSError:
            return None
        return st.f_bavail * st.f_frsize

    def on_read_only_filesystem(self) -> bool:
        """True when the database's folder is on a filesystem mounted read-only."""
        if self.path == ":memory:":
            return False
        try:
            return bool(os.statvfs(Path(self.path).parent).f_flag & os.ST_RDONLY)
        except OSError:
            return False

    def checkpoint_truncate(self) -> tuple[int, int, int]:
        """TRUNCATE checkpoint: copy the whole WAL back and shrink the file to zero bytes, so the
        space a burst (or a disk-full episode) made it take is given back to the filesystem."""
        row = self.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def checkpoint(self) -> tuple[int, int, int]:
        """PASSIVE WAL checkpoint: copy what it can without waiting for or blocking writers.
        Returns SQLite's (busy, wal_frames, checkpointed_frames)."""
        row = self.connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    def migrate(self) -> list[str]:
        """Apply pending migrations in file-name order; returns the names applied."""
        conn = self.connection()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
        applied = []
        for name, sql in migration_files():
            if name in done:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                # another process may have applied it since we looked (two starting at once)
                if conn.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)).fetchone():
                    conn.execute("ROLLBACK")
                    continue
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            applied.append(name)
        return applied


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("alert_bridge.store") / "migrations"
    files = sorted(
        (p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".sql")
    )
    return files


def _statements(sql: str) -> list[str]:
    # sqlite3.complete_statement lets triggers with inner semicolons stay whole.
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
