"""Seeding: generate the demo data and bulk-load it in one transaction."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from domain.db import Database
from domain.demo import loader
from domain.demo.generator import SCALES, Generation, Scale
from domain.errors import DomainError
from domain.migrate import downgrade_to_base, upgrade
from domain.schema import metadata

#: Load order: parents before children.
TABLE_ORDER = (
    "regions",
    "sites",
    "devices",
    "interfaces",
    "product_offerings",
    "tariffs",
    "destinations",
    "customers",
    "billing_accounts",
    "subscriptions",
    "invoices",
    "invoice_lines",
    "payments",
    "payment_allocations",
    "tickets",
    "ticket_events",
    "alarms",
    "change_requests",
    "change_targets",
    "product_orders",
)

Progress = Callable[[str, int], None]


@dataclass
class SeedReport:
    scale: str
    seed: int
    as_of: date
    counts: dict[str, int] = field(default_factory=dict)
    generate_s: float = 0.0
    load_s: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def seconds(self) -> float:
        return self.generate_s + self.load_s


def scale_named(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise DomainError(
            f"unknown scale {name!r}", hint=f"use one of: {', '.join(SCALES)}"
        ) from None


def is_empty(db: Database) -> bool:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM devices")).scalar_one() == 0


def seed(
    db: Database,
    scale: Scale,
    *,
    seed: int = 42,
    as_of: date,
    lab_base_port: int = 6000,
    reset: bool = False,
    progress: Progress | None = None,
) -> SeedReport:
    """Fill an empty database (or, with reset, a wiped one) with generated data."""
    upgrade(db)
    if not is_empty(db):
        if not reset:
            raise DomainError(
                f"{db!r} already holds data",
                hint="pass --reset to replace it, or --database to seed another one",
            )
        downgrade_to_base(db)
        upgrade(db)
    note = progress or (lambda _t, _n: None)
    report = SeedReport(scale=scale.name, seed=seed, as_of=as_of)
    tables = metadata.tables
    started = time.perf_counter()
    gen = Generation(scale, seed, as_of, lab_base_port)
    report.generate_s += time.perf_counter() - started
    with db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # A big page cache keeps index inserts in memory for the bulk load.
            conn.exec_driver_sql("PRAGMA cache_size = -524288")
        for name in TABLE_ORDER:
            report.counts[name] = loader.load(conn, tables[name], gen.tables[name])
            note(name, report.counts[name])
        usage = tables["usage_records"]
        report.counts["usage_records"] = 0
        chunks = gen.usage_chunks()
        while True:
            t = time.perf_counter()
            chunk = next(chunks, None)
            report.generate_s += time.perf_counter() - t
            if chunk is None:
                break
            report.counts["usage_records"] += loader.load(conn, usage, chunk)
            note("usage_records", report.counts["usage_records"])
        report.counts["fraud_labels"] = loader.load(
            conn, tables["fraud_labels"], gen.fraud_labels()
        )
        note("fraud_labels", report.counts["fraud_labels"])
        changes = gen.imei_changes()
        if changes:
            conn.execute(
                sa.text("UPDATE subscriptions SET imei = :imei WHERE id = :id"),
                [{"imei": imei, "id": sid} for imei, sid in changes],
            )
        loader.reset_sequences(conn, tables.values())
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size = -2000")  # SQLite's default again
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    elapsed = time.perf_counter() - started
    report.load_s = elapsed - report.generate_s
    return report


def fingerprint(db: Database) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of every table's contents, ordered by primary key."""
    out: dict[str, tuple[int, str]] = {}
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            digest = hashlib.sha256()
            count = 0
            query = sa.select(table).order_by(*table.primary_key.columns)
            for row in conn.execute(query).yield_per(20_000):
                digest.update(repr(tuple(row)).encode())
                count += 1
            out[table.name] = (count, digest.hexdigest())
    return out
