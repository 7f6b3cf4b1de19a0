"""SQL probes from the config's `probes.sql`: connect, run the configured queries, export numbers.

Each query's numeric result column becomes the gauge `tradewatch_sql_<query name>`, one sample
per row, labelled by the configured label columns. A query that fails or returns anything but
numbers (text, NULL, duplicate label sets) exports no samples, sets its success to 0 and logs
why; it never breaks the scrape. SQLite is opened read-only through the standard library and
interrupted at the probe's deadline; PostgreSQL needs the optional extra `tradewatch-monitor[postgres]`
(psycopg), imported only when such a probe is configured, and runs with a statement timeout in
a read-only session.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from exporter.families import FamilySpec, gauge
from exporter.metric import Metric
from exporter.probe_pool import ProbeJob, ProbePool, ProbeResult, probe_families
from tradewatch import metric_names as names

if TYPE_CHECKING:  # the strict config (pydantic) is loaded only when a config file is used
    from tradewatch.config import Config, SqlProbe, SqlQuery

log = logging.getLogger("exporter.probes.sql")

MAX_ROWS = 10_000  # a query is a metric source, not an export


class QueryError(Exception):
    """The query ran but its result cannot be a gauge."""


@dataclass
class QueryResult:
    success: bool
    duration: float | None = None  # None: the query did not run (connect failed, timed out)
    reason: str = ""
    samples: list[tuple[list[str], float]] = field(default_factory=list)


def to_samples(query: SqlQuery, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[
    tuple[list[str], float]
]:
    """Rows -> (label values, value) pairs; raises QueryError when they cannot be a gauge."""
    import decimal  # here: 0.3 MB an exporter without SQL probes does not need

    missing = [c for c in query.labels if c not in columns]
    if missing:
        raise QueryError(f"label column(s) {missing} not in the result columns {list(columns)}")
    if query.value is not None:
        if query.value not in columns:
            raise QueryError(f"value column {query.value!r} not in the result columns {list(columns)}")
        value_col = query.value
    else:
        rest = [c for c in columns if c not in query.labels]
        if len(rest) != 1:
            raise QueryError(
                f"expected exactly one value column besides the labels, got {rest}: set `value`"
            )
        value_col = rest[0]
    vi = list(columns).index(value_col)
    li = [list(columns).index(c) for c in query.labels]
    samples: list[tuple[list[str], float]] = []
    seen: set[tuple[str, ...]] = set()
    for n, row in enumerate(rows, 1):
        value = row[vi]
        if isinstance(value, bool | int | float | decimal.Decimal):
            number = float(value)
        else:
            shown = "NULL" if value is None else f"{type(value).__name__} {str(value)[:40]!r}"
            raise QueryError(f"row {n}: column {value_col!r} is not numeric ({shown})")
        labels = ["" if row[i] is None else str(row[i]) for i in li]
        if tuple(labels) in seen:
            raise QueryError(f"row {n}: labels {dict(zip(query.labels, labels, strict=True))} repeat")
        seen.add(tuple(labels))
        samples.append((labels, number))
    return samples


def _run_queries(cursor_factory: Any, queries: list[SqlQuery], deadline: float) -> dict[str, QueryResult]:
    out: dict[str, QueryResult] = {}
    for q in queries:
        if time.monotonic() >= deadline:
            out[q.name] = QueryResult(False, reason="probe timeout reached before the query ran")
            continue
        start = time.monotonic()
        cur = cursor_factory()
        try:
            cur.execute(q.sql)
            columns = [d[0] for d in cur.description or ()]
            if not columns:
                raise QueryError("the statement returned no result set")
            rows = cur.fetchmany(MAX_ROWS + 1)
            if len(rows) > MAX_ROWS:
                raise QueryError(f"more than {MAX_ROWS} rows")
            samples = to_samples(q, columns, rows)
            out[q.name] = QueryResult(True, time.monotonic() - start, samples=samples)
        except QueryError as exc:
            out[q.name] = QueryResult(False, time.monotonic() - start, str(exc))
        except Exception as exc:  # driver errors: syntax, missing table, interrupted...
            reason = "timed out" if time.monotonic() >= deadline else f"{type(exc).__name__}: {exc}"
            out[q.name] = QueryResult(False, time.monotonic() - start, reason)
        finally:
            cur.close()
    return out


def _finish(cfg: SqlProbe, start: float, queries: dict[str, QueryResult]) -> ProbeResult:
    failed = {n: r.reason for n, r in queries.items() if not r.success}
    reason = "; ".join(f"query {n!r}: {why}" for n, why in failed.items())
    return ProbeResult(not failed, time.monotonic() - start, reason, detail=queries)


def probe_sqlite(cfg: SqlProbe, deadline: float) -> ProbeResult:
    import sqlite3  # lazily: an exporter without SQL probes does not pay for it

    start = time.monotonic()
    uri = "file:" + urllib.parse.quote(cfg.dsn) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=max(0.0, deadline - start), check_same_thread=False)
    except sqlite3.Error as exc:
        return ProbeResult(False, time.monotonic() - start, f"cannot open {cfg.dsn}: {exc}")
    with contextlib.closing(conn):
        # Interrupt a long query at the deadline (checked every 1000 VM instructions).
        conn.set_progress_handler(lambda: int(time.monotonic() >= deadline), 1000)
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # proves it is a database
        except sqlite3.Error as exc:
            return ProbeResult(False, time.monotonic() - start, f"cannot read {cfg.dsn}: {exc}")
        return _finish(cfg, start, _run_queries(conn.cursor, cfg.queries, deadline))


def probe_postgresql(psycopg: Any, cfg: SqlProbe, deadline: float) -> ProbeResult:
    start = time.monotonic()
    remaining = deadline - start
    options = (
        f"-c statement_timeout={max(1, int(remaining * 1000))} -c default_transaction_read_only=on"
    )
    try:
        conn = psycopg.connect(
            cfg.dsn, connect_timeout=max(1, math.ceil(remaining)), autocommit=True, options=options
        )
    except Exception as exc:
        return ProbeResult(False, time.monotonic() - start, f"cannot connect: {type(exc).__name__}: {exc}")
    with contextlib.closing(conn):
        return _finish(cfg, start, _run_queries(conn.cursor, cfg.queries, deadline))


def load_psycopg(config: Config, index: int) -> Any:
    """Import psycopg for a postgresql probe, or say which probe needs which extra."""
    try:
        return importlib.import_module("psycopg")
    except ImportError:
        from tradewatch.config import ConfigError
        from tradewatch.extras import install_hint

        probe = config.probes.sql[index]
        raise ConfigError(config.source, [(
            f"probes.sql[{index}].driver",
            f"probe {probe.name!r} uses postgresql, which needs the optional extra: "
            + install_hint("postgres"),
        )]) from None


QUERY_SUCCESS = gauge(names.SQL_QUERY_SUCCESS, "1 if the SQL query ran and returned numbers, 0 otherwise.",
                      ("probe", "query"))
QUERY_DURATION = gauge(names.SQL_QUERY_DURATION, "How long the SQL query took, in seconds.",
                       ("probe", "query"))


class SqlProbeCollector:
    name = "probe_sql"

    def __init__(self, probes: list[SqlProbe], psycopg: Any = None):
        self.probes = probes
        self.timeout = max(p.timeout for p in probes) + 1.0
        self._psycopg = psycopg
        self._pool = ProbePool("sql", len(probes), log)
        # one spec per query, validated here (start-up) instead of on every scrape
        self._gauges = {
            (p.name, q.name): gauge(names.SQL_GAUGE_PREFIX + q.name,
                                    q.help or f"Result of the SQL query {q.name!r} of probe {p.name!r}.",
                                    tuple(q.labels))
            for p in probes for q in p.queries
        }

    def _fn(self, p: SqlProbe) -> Any:
        if p.driver == "postgresql":
            return partial(probe_postgresql, self._psycopg, p)
        return partial(probe_sqlite, p)

    def collect(self) -> Iterator[Metric]:
        results = self._pool.run([ProbeJob(p.name, p.timeout, self._fn(p)) for p in self.probes])
        yield from probe_families("sql", results)
        success, duration = QUERY_SUCCESS.new(), QUERY_DURATION.new()
        gauges: list[Metric] = []
        for p in self.probes:
            per_query: dict[str, QueryResult] = results[p.name].detail or {}
            for q in p.queries:
                qr = per_query.get(q.name) or QueryResult(False, reason=results[p.name].reason)
                QUERY_SUCCESS.add(success, (p.name, q.name), 1.0 if qr.success else 0.0)
                if qr.duration is not None:
                    QUERY_DURATION.add(duration, (p.name, q.name), qr.duration)
                spec: FamilySpec = self._gauges[(p.name, q.name)]
                family = spec.new()
                for labels, value in qr.samples:
                    spec.add(family, labels, value)
                gauges.append(family)
        yield success
        yield duration
        yield from gauges

    def close(self) -> None:
        self._pool.close()


def build(config: Config) -> SqlProbeCollector | None:
    probes = list(config.probes.sql)
    if not probes:
        return None
    psycopg = None
    for i, p in enumerate(probes):
        if p.driver == "postgresql":
            psycopg = load_psycopg(config, i)
            break
    return SqlProbeCollector(probes, psycopg)
