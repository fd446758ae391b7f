"""Bulk reads and writes (domain/bulk.py) on SQLite and PostgreSQL.

A read through the reader process must give exactly what the caller's own connection
gives, must never run when the transaction has written something the reader could not
see, and must fall back when it fails. Writes must reach exactly the rows named, in
each of their shapes (consecutive ids, ids with gaps, scattered ids, many chunks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

from domain import bulk
from domain.db import Database

COLUMNS: dict[str, tuple[str, Any]] = {
    "id": ("id", pl.Int64),
    "n": ("COALESCE(n, -1)", pl.Int64),
    "twice": ("n * 2", pl.Int64),
    "label": ("label", pl.String),
}


def probe(db: Database, rows: list[tuple[int, int | None, str]]) -> None:
    with db.transaction() as s:
        conn = s.connection()
        conn.exec_driver_sql(
            "CREATE TABLE bulk_probe (id BIGINT PRIMARY KEY, n BIGINT, label VARCHAR(40))"
        )
        mark = bulk.placeholder(conn)
        conn.exec_driver_sql(
            f"INSERT INTO bulk_probe (id, n, label) VALUES ({mark}, {mark}, {mark})", rows
        )


def read(db: Database, where: str = "n IS NULL OR n >= 0", params: tuple[Any, ...] = ()):  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        return bulk.read_frame(s.connection(), "bulk_probe", COLUMNS, where, params)


@pytest.fixture
def reader_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Read every table through the reader process, counting its runs."""
    runs: list[int] = []
    real: Callable[..., Any] = bulk._read_in_reader_process

    def counted(*args: Any) -> Any:
        runs.append(1)
        return real(*args)

    monkeypatch.setattr(bulk, "READER_PROCESS_FROM_IDS", 0)
    monkeypatch.setattr(bulk, "_read_in_reader_process", counted)
    return runs


ROWS = [
    (1, 5, "9198"),
    (2, None, ""),
    (4, 0, "Zürich"),
    (7, 123_456_789_012, "971"),
    (8, 3, "x" * 40),
]


def expected() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [1, 2, 4, 7, 8],
            "n": [5, -1, 0, 123_456_789_012, 3],
            "twice": [10, None, 0, 246_913_578_024, 6],
            "label": ["9198", "", "Zürich", "971", "x" * 40],
        },
        schema={"id": pl.Int64, "n": pl.Int64, "twice": pl.Int64, "label": pl.String},
    )


def test_a_read_through_the_reader_process_equals_one_through_the_connection(
    db: Database, reader_runs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    probe(db, ROWS)
    through_reader = read(db)
    assert through_reader.equals(expected())
    # The reader process reads SQLite files only; PostgreSQL is read through the connection.
    assert len(reader_runs) == (1 if db.engine.dialect.name == "sqlite" else 0)
    monkeypatch.setattr(bulk, "READER_PROCESS_FROM_IDS", 10**12)
    assert read(db).equals(expected())
    mark = "?" if db.engine.dialect.name == "sqlite" else "%s"
    assert read(db, f"n > {mark}", (4,)).get_column("id").to_list() == [1, 7]


def test_a_transaction_that_has_written_reads_its_own_rows(
    db: Database, reader_runs: list[int]
) -> None:
    probe(db, ROWS)
    with db.transaction() as s:
        conn = s.connection()
        conn.exec_driver_sql("UPDATE bulk_probe SET n = 99 WHERE id = 1")
        frame = bulk.read_frame(conn, "bulk_probe", COLUMNS, "n >= 0", ())
    # The reader would have seen the committed 5; the transaction sees its own 99.
    assert frame.row(0) == (1, 99, 198, "9198")
    assert reader_runs == []


def test_a_failing_reader_process_falls_back_to_the_connection(
    db: Database, reader_runs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    probe(db, ROWS)
    monkeypatch.setattr(bulk.sys, "executable", "/bin/false")
    assert read(db).equals(expected())


def written(db: Database) -> dict[int, int | None]:
    with db.transaction() as s:
        rows = s.connection().exec_driver_sql("SELECT id, n FROM bulk_probe ORDER BY id").all()
    return {int(i): (None if n is None else int(n)) for i, n in rows}


@pytest.mark.parametrize(
    "ids",
    [
        pytest.param(list(range(1, 101)), id="consecutive"),
        pytest.param(list(range(1, 101, 2)), id="with-gaps"),
        pytest.param([1, 50, 100], id="scattered"),
    ],
)
def test_write_by_id_sets_exactly_the_rows_named(db: Database, ids: list[int]) -> None:
    probe(db, [(i, None, "") for i in range(1, 101)])
    values = [i * 1_000_003 for i in ids]
    with db.transaction() as s:
        count = bulk.write_by_id(
            s.connection(),
            "bulk_probe",
            pl.Series(ids).to_numpy(),
            pl.Series(values).to_numpy(),
            "n = NULLIF({v}, 0), label = 'set'",
        )
    assert count == len(ids)
    after = written(db)
    assert {i: after[i] for i in ids} == dict(zip(ids, values, strict=True))
    assert all(after[i] is None for i in after if i not in ids)


def test_write_by_id_in_many_chunks(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "_WRITE_CHUNK", 7)
    probe(db, [(i, None, "") for i in range(1, 101)])
    ids = [i for i in range(1, 101) if i % 3]
    with db.transaction() as s:
        count = bulk.write_by_id(
            s.connection(),
            "bulk_probe",
            pl.Series(ids).to_numpy(),
            pl.Series([i + 1 for i in ids]).to_numpy(),
            "n = {v} - 1",
        )
    assert count == len(ids)
    assert written(db) == {i: (i if i % 3 else None) for i in range(1, 101)}


def test_write_by_id_refuses_negative_values(db: Database) -> None:
    probe(db, [(1, None, "")])
    with db.transaction() as s, pytest.raises(ValueError):
        bulk.write_by_id(
            s.connection(),
            "bulk_probe",
            pl.Series([1]).to_numpy(),
            pl.Series([-1]).to_numpy(),
            "n = {v}",
        )


@pytest.mark.parametrize(
    ("ids", "values"),
    [
        pytest.param([5, 3, 4], [1, 2, 3], id="out-of-order"),
        pytest.param([1, 1, 2], [1, 2, 3], id="repeated"),
        pytest.param([1, 2], [1], id="one-short"),
        pytest.param([1, 2], [1.5, 2.0], id="not-integers"),
    ],
)
def test_write_by_id_refuses_ids_and_values_that_do_not_pair_up(
    db: Database, ids: list[int], values: list[float]
) -> None:
    probe(db, [(i, None, "") for i in range(1, 6)])
    with db.transaction() as s, pytest.raises(ValueError):
        bulk.write_by_id(
            s.connection(),
            "bulk_probe",
            pl.Series(ids).to_numpy(),
            pl.Series(values).to_numpy(),
            "n = {v}",
        )
    assert set(written(db).values()) == {None}


def test_a_transaction_that_changed_the_schema_reads_for_itself(
    db: Database, reader_runs: list[int]
) -> None:
    probe(db, ROWS)
    with db.transaction() as s:
        conn = s.connection()
        conn.exec_driver_sql("CREATE TABLE bulk_other (id BIGINT PRIMARY KEY)")
        frame = bulk.read_frame(conn, "bulk_probe", COLUMNS, "n >= 0", ())
    assert frame.height == 4 and reader_runs == []
