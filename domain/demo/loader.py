"""Bulk loading of column data: COPY on PostgreSQL, executemany on SQLite.

Rows never become ORM objects. Each column is converted once, as a whole, into what
the driver takes (timestamps into SQLAlchemy's storage format, sentinels into NULL).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.db import UtcDateTime
from domain.demo.columns import NULL_ID, NULL_TIME, Columns

CHUNK_ROWS = 50_000


def _timestamps(values: Any) -> list[str | None]:
    arr = np.asarray(values, dtype=np.int64)
    missing = arr == NULL_TIME
    safe = np.where(missing, 0, arr).astype("datetime64[s]").astype("datetime64[us]")
    text = np.datetime_as_string(safe, unit="us")  # 2026-10-01T12:34:56.000000
    # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff"; patch the T in place.
    chars = text.view(np.uint32).reshape(text.size, -1)
    chars[:, 10] = ord(" ")
    out: list[str | None] = text.tolist()
    if missing.any():
        for i in np.flatnonzero(missing):
            out[i] = None
    return out


def _convert(column: sa.Column[Any], values: Any) -> list[Any]:
    ctype = column.type
    if isinstance(ctype, UtcDateTime):
        return _timestamps(values)
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "iu" and column.nullable and column.foreign_keys:
            out: list[Any] = values.tolist()
            if (values == NULL_ID).any():
                for i in np.flatnonzero(values == NULL_ID):
                    out[i] = None
            return out
        if values.dtype.kind == "b":
            return values.tolist()
        values = values.tolist()
    values = list(values)
    if isinstance(ctype, sa.JSON):
        return [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
    if isinstance(ctype, sa.Date):
        return [v.isoformat() if isinstance(v, date) else v for v in values]
    if isinstance(ctype, sa.Boolean):
        return [None if v is None else bool(v) for v in values]
    return values


def _rows(table: sa.Table, columns: Columns) -> tuple[list[str], list[list[Any]], int]:
    unknown = set(columns) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name}: no such columns {sorted(unknown)}")
    names = [c.name for c in table.c if c.name in columns]
    missing = [
        c.name
        for c in table.c
        if c.name not in columns
        and not c.nullable
        and not (c.primary_key and c.autoincrement is True)
    ]
    if missing:
        raise ValueError(f"{table.name}: values needed for {missing}")
    converted = [_convert(table.c[n], columns[n]) for n in names]
    lengths = {len(c) for c in converted}
    if len(lengths) > 1:
        raise ValueError(f"{table.name}: columns of different lengths {sorted(lengths)}")
    return names, converted, lengths.pop() if lengths else 0


def load(conn: Connection, table: sa.Table, columns: Columns) -> int:
    """Insert the rows given as columns; returns the number of rows."""
    names, converted, n = _rows(table, columns)
    if n == 0:
        return 0
    rows: Iterable[Sequence[Any]] = zip(*converted, strict=True)
    if conn.dialect.name == "postgresql":
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        cols = ", ".join(f'"{c}"' for c in names)
        with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in names)
        sql = f'INSERT INTO "{table.name}" ({", ".join(names)}) VALUES ({marks})'
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK_ROWS:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
        cursor.close()
    return n


def reset_sequences(conn: Connection, tables: Iterable[sa.Table]) -> None:
    """After explicit ids on PostgreSQL, move each id sequence past the largest id."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer):
            continue
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
            f'COALESCE(MAX("{pk[0].name}"), 1), MAX("{pk[0].name}") IS NOT NULL) '
            f'FROM "{table.name}"'
        )
