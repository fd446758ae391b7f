"""Bulk reads and writes for set-based work (rating, bill runs): columns in, columns out.

Reading millions of rows through the DB-API costs a Python object per value, which is
most of the time a month's rating would take. So on a large SQLite table `read_frame`
reads ranges of ids in parallel in a reader process through ADBC, straight into Arrow
columns, whenever that process sees exactly what the caller's transaction sees (see
`domain.db.sqlite_file_as_seen_here`); otherwise, and on PostgreSQL, it reads through
the caller's connection. `write_by_id` sets columns of many rows from one integer per
row: on SQLite one UPDATE per million rows reads each row's integer from a BLOB of
fixed-width digits; on PostgreSQL the integers are copied into a temporary table
(COPY) and one UPDATE joins it."""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.engine import Connection

from domain.db import sqlite_file_as_seen_here

log = logging.getLogger(__name__)

#: Rows fetched per round trip through the DB-API.
_BATCH = 100_000
#: Tables spanning at least this many ids are read by a reader process (see below),
#: which gets this many seconds before the caller reads for itself instead.
READER_PROCESS_FROM_IDS = 500_000
_READER_PROCESS_TIMEOUT_S = 900
#: A big table is read in about this many ranges of ids, each of at least _MIN_RANGE.
_RANGES = 32
_MIN_RANGE = 250_000
#: Rows per UPDATE statement, and the page cache (KiB) a big write works with.
_WRITE_CHUNK = 1_000_000
_WRITE_CACHE_KIB = 1_048_576


def placeholder(conn: Connection) -> str:
    """The driver's parameter mark: ? for sqlite3, %s for psycopg."""
    return "?" if conn.dialect.name == "sqlite" else "%s"


def driver_cursor(conn: Connection) -> Any:
    """A cursor of the driver itself, in the connection's transaction (bulk work only)."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    return dbapi.cursor()


def fetch_columns(
    conn: Connection, sql: str, params: Sequence[Any], n_cols: int
) -> list[list[Any]]:
    """Run a query on the driver's cursor and return its result as column lists."""
    cur = driver_cursor(conn)
    try:
        cur.execute(sql, tuple(params))
        cols: list[list[Any]] = [[] for _ in range(n_cols)]
        while True:
            rows = cur.fetchmany(_BATCH)
            if not rows:
                break
            for col, values in zip(cols, zip(*rows, strict=True), strict=True):
                col.extend(values)
        return cols
    finally:
        cur.close()


def column_by_id(conn: Connection, table: str, column: str) -> np.ndarray:
    """`column` of every row of `table` at the index of its id (0 where no row has that id).

    A table to look rows up in by gathering: one array index per record, not a query.
    """
    ids, values = fetch_columns(conn, f"SELECT id, {column} FROM {table}", (), 2)
    out = np.zeros(max(ids, default=0) + 1, dtype=np.int64)
    out[np.array(ids, dtype=np.int64)] = np.array(values, dtype=np.int64)
    return out


def bulk_insert(
    conn: Connection, table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert rows fast: COPY on PostgreSQL, executemany on SQLite."""
    if conn.dialect.name == "postgresql":
        cols = ", ".join(names)
        cur = driver_cursor(conn)
        try:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cur.close()
        return
    marks = ", ".join("?" for _ in names)
    cur = driver_cursor(conn)
    try:
        cur.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
    finally:
        cur.close()


def temp_table(conn: Connection, name: str, columns: str) -> None:
    """A fresh temporary table for this transaction's bulk work."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns})")


# -- reading ----------------------------------------------------------------------------


def read_frame(
    conn: Connection,
    table: str,
    columns: Mapping[str, tuple[str, pl.DataType]],
    where: str,
    params: Sequence[Any],
) -> pl.DataFrame:
    """The rows of `table` (with an integer primary key `id`) matching `where`, in id order.

    `columns` maps each output name to its SQL expression and type; `where` uses the
    connection's placeholders for `params`.
    """
    schema = {name: dtype for name, (_, dtype) in columns.items()}
    select = ", ".join(f"{expr} AS {name}" for name, (expr, _) in columns.items())
    path = sqlite_file_as_seen_here(conn)
    if path is not None:
        # Two subqueries: SQLite finds MIN or MAX of a key at once, but not both in one.
        low, high = conn.exec_driver_sql(
            f"SELECT (SELECT MIN(id) FROM {table}), (SELECT MAX(id) FROM {table})"
        ).one()
        if low is not None and high - low + 1 >= READER_PROCESS_FROM_IDS:
            step = max(_MIN_RANGE, math.ceil((high - low + 1) / _RANGES))
            ranges = [(start, start + step) for start in range(low, high + 1, step)]
            sql = f"SELECT {select} FROM {table} WHERE id >= ? AND id < ? AND {where} ORDER BY id"
            frame = _read_in_reader_process(path, sql, ranges, params, schema)
            if frame is not None:
                return frame
    sql = f"SELECT {select} FROM {table} WHERE {where} ORDER BY id"
    return _read_here(conn, sql, params, schema)


def _read_in_reader_process(
    path: str,
    sql: str,
    ranges: list[tuple[int, int]],
    params: Sequence[Any],
    schema: Mapping[str, pl.DataType],
) -> pl.DataFrame | None:
    """Read id ranges of a SQLite file in a reader process, in parallel, into Arrow.

    The ADBC driver carries its own copy of SQLite. Two copies of SQLite in one process
    break each other's file locks (closing one's file handle drops the other's POSIX
    locks, and the WAL can be checkpointed away under a live connection), so the
    driver only ever runs in a process of its own. None if that process failed.
    """
    # In memory where there is a tmpfs: a month is over a gigabyte the disk need not see.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="switchboard-read-", dir=shm) as tmp:
        out = os.path.join(tmp, "frame.arrow")
        job = {
            "path": os.path.abspath(path),
            "sql": sql,
            "ranges": ranges,
            "params": list(params),
            "schema": {name: str(dtype) for name, dtype in schema.items()},
            "out": out,
        }
        try:
            done = subprocess.run(
                [sys.executable, "-c", "from domain.bulk import reader_process_main as m; m()"],
                input=json.dumps(job),
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
                timeout=_READER_PROCESS_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            log.warning("the reader process took too long; reading in this process")
            return None
        if done.returncode != 0:
            log.warning(
                "the reader process failed; reading in this process: %s", done.stderr[-2000:]
            )
            return None
        return pl.read_ipc(out)


def reader_process_main() -> None:
    """The reader process: read the ranges of a job on stdin (two at a time) to one file."""
    import adbc_driver_sqlite.dbapi as adbc

    job = json.load(sys.stdin)
    schema = {name: getattr(pl, dtype) for name, dtype in job["schema"].items()}
    ranges = job["ranges"]
    parts: list[pl.DataFrame] = [pl.DataFrame(schema=schema)] * len(ranges)
    todo = iter(range(len(ranges)))
    lock = threading.Lock()

    failures: list[BaseException] = []

    def work() -> None:
        try:
            read_ranges()
        except BaseException as exc:  # re-raised below: the parent must not get a partial frame
            failures.append(exc)

    def read_ranges() -> None:
        with adbc.connect(job["path"], autocommit=True) as db, db.cursor() as cur:
            cur.execute("PRAGMA busy_timeout = 30000")
            pl.DataFrame(cur.fetch_arrow())
            # Big batches: the driver's default of 1,024 rows makes 20,000 of them a month.
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
            while True:
                with lock:
                    i = next(todo, None)
                if i is None:
                    return
                cur.execute(job["sql"], (*ranges[i], *job["params"]))
                frame = pl.DataFrame(cur.fetch_arrow())
                # An empty result carries no types; a column of NULLs may come back untyped.
                if frame.width:
                    parts[i] = frame.cast(schema)

    workers = [threading.Thread(target=work) for _ in range(min(2, len(ranges)))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if failures:
        raise failures[0]
    pl.concat(parts, how="vertical").write_ipc(job["out"])


def _read_here(
    conn: Connection, sql: str, params: Sequence[Any], schema: Mapping[str, pl.DataType]
) -> pl.DataFrame:
    cur = driver_cursor(conn)
    parts: list[pl.DataFrame] = []
    try:
        cur.execute(sql, tuple(params))
        while rows := cur.fetchmany(_BATCH):
            parts.append(pl.DataFrame(rows, schema=dict(schema), orient="row"))
    finally:
        cur.close()
    return pl.concat(parts, how="vertical") if parts else pl.DataFrame(schema=dict(schema))


# -- writing ----------------------------------------------------------------------------


def write_by_id(
    conn: Connection, table: str, ids: np.ndarray, values: np.ndarray, assignments: str
) -> int:
    """UPDATE `table` SET `assignments` for the rows `ids`, each given one integer >= 0.

    `assignments` reads the row's integer as `{v}` (e.g. "charge_minor = {v} - 1").
    `ids` must be ascending and unique. Returns the number of rows written.
    """
    if ids.shape != values.shape or ids.ndim != 1:
        raise ValueError("write_by_id takes one value per id")
    if not (np.issubdtype(ids.dtype, np.integer) and np.issubdtype(values.dtype, np.integer)):
        raise ValueError("write_by_id takes integer ids and values")
    ids = ids.astype(np.int64, copy=False)
    values = values.astype(np.int64, copy=False)
    if ids.size == 0:
        return 0
    if values.min() < 0:
        raise ValueError("write_by_id takes integers >= 0")
    if ids.size > 1 and not (ids[1:] > ids[:-1]).all():
        # Out of order or repeated ids would put values on the wrong rows.
        raise ValueError("write_by_id takes ascending, unique ids")
    if conn.dialect.name == "postgresql":
        return _write_postgres(conn, table, ids, values, assignments)
    written = 0
    cur = driver_cursor(conn)
    (cache,) = cur.execute("PRAGMA cache_size").fetchone()
    # A big rewrite keeps its pages in memory instead of spilling them mid-statement.
    cur.execute(f"PRAGMA cache_size = {-_WRITE_CACHE_KIB}")
    try:
        # SQLite lets go of the GIL while it runs a statement: the next chunk's values
        # are made ready while the last one is written (never two statements at once).
        with ThreadPoolExecutor(1, thread_name_prefix="bulk-write") as writer:
            running: Future[int] | None = None
            for lo in range(0, ids.size, _WRITE_CHUNK):
                sql, params = _sqlite_update(
                    table, ids[lo : lo + _WRITE_CHUNK], values[lo : lo + _WRITE_CHUNK], assignments
                )
                if running is not None:
                    written += running.result()
                running = writer.submit(_execute, cur, sql, params)
            if running is not None:
                written += running.result()
    finally:
        cur.execute(f"PRAGMA cache_size = {int(cache)}")
        cur.close()
    return written


def _execute(cur: Any, sql: str, params: tuple[Any, ...]) -> int:
    cur.execute(sql, params)
    return int(cur.rowcount)


def _sqlite_update(
    table: str, ids: np.ndarray, values: np.ndarray, assignments: str
) -> tuple[str, tuple[Any, ...]]:
    """One UPDATE statement and its parameters for a chunk of rows."""
    first, span = int(ids[0]), int(ids[-1] - ids[0]) + 1
    if span > 2 * ids.size:
        # Scattered rows: a JSON object from id to value, joined on the id.
        sets = assignments.replace("{v}", "j.value")
        return (
            f"UPDATE {table} SET {sets} FROM json_each(?) j "
            f"WHERE {table}.id = CAST(j.key AS INTEGER)",
            (_json_object(ids, values),),
        )
    # Mostly consecutive rows: each id's value as fixed-width digits at its place in one
    # BLOB, read by the UPDATE as it walks the ids, with no join (CAST reads a BLOB as
    # text); a row not to write is spaces.
    width = len(str(int(values.max())))
    text = pl.Series(values).cast(pl.String).str.zfill(width).str.join("").item()
    blob = str(text).encode("ascii")
    if span > ids.size:
        digits = np.full((span, width), ord(" "), dtype=np.uint8)
        digits[ids - first] = np.frombuffer(blob, dtype=np.uint8).reshape(ids.size, width)
        blob = digits.tobytes()
    at = f"({table}.id - ?2) * {width} + 1"
    sets = assignments.replace("{v}", f"CAST(substr(?1, {at}, {width}) AS INTEGER)")
    gaps = f" AND substr(?1, {at}, 1) != X'20'" if span > ids.size else ""
    return (
        f"UPDATE {table} SET {sets} WHERE {table}.id >= ?2 AND {table}.id < ?2 + ?3{gaps}",
        (blob, first, span),
    )


def _json_object(ids: np.ndarray, values: np.ndarray) -> str:
    pairs = pl.select(
        pl.concat_str(
            pl.lit('"'),
            pl.Series(ids).cast(pl.String),
            pl.lit('":'),
            pl.Series(values).cast(pl.String),
        )
    ).to_series()
    return "{" + str(pairs.str.join(",").item()) + "}"


def _write_postgres(
    conn: Connection, table: str, ids: np.ndarray, values: np.ndarray, assignments: str
) -> int:
    temp_table(conn, "bulk_values", "id BIGINT PRIMARY KEY, value BIGINT")
    bulk_insert(
        conn, "bulk_values", ("id", "value"), zip(ids.tolist(), values.tolist(), strict=True)
    )
    cur = driver_cursor(conn)
    try:
        cur.execute(
            f"UPDATE {table} SET {assignments.replace('{v}', 'j.value')} "
            f"FROM bulk_values j WHERE {table}.id = j.id"
        )
        written = int(cur.rowcount)
    finally:
        cur.close()
    conn.exec_driver_sql("DROP TABLE bulk_values")
    return written
