"""Seeding: generate the demo data, load it in bulk and replay its past bill cycles.

All in one transaction, so a failed seed leaves nothing behind. In the order things
happened: the network, catalog, customers and operations history are bulk-loaded;
then each past month's usage is loaded, rated and billed by the billing services at
that month's bill run, with payments, disputes, dunning and the suspensions customers
ask for in between (see `domain.demo.billing_history`); last comes the usage month,
left received for `billing rate` and `billing run`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.config import Settings
from domain.db import Database, utcnow
from domain.demo import loader
from domain.demo.billing_history import BillingReplay
from domain.demo.columns import Columns
from domain.demo.generator import SCALES, Generation, Scale
from domain.demo.timeline import Timeline, latest_as_of
from domain.errors import DomainError
from domain.migrate import downgrade_to_base, upgrade
from domain.schema import metadata

#: Tables loaded as generated, parents before children.
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
    "tickets",
    "ticket_events",
    "alarms",
    "change_requests",
    "change_targets",
    "product_orders",
)
#: Every table the seed fills, in the order its report lists them.
REPORTED = (
    *TABLE_ORDER[:10],
    "invoices",
    "invoice_lines",
    "payments",
    "payment_allocations",
    "adjustments",
    *TABLE_ORDER[10:],
    "usage_records",
    "fraud_labels",
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
    #: Rating, bill runs, payments, disputes and dunning of the past bill cycles.
    billing_s: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def seconds(self) -> float:
        return self.generate_s + self.load_s + self.billing_s


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
    settings: Settings | None = None,
    lab_base_port: int | None = None,
    reset: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> SeedReport:
    """Fill an empty database (or, with reset, a wiped one) with generated data.

    `settings` (the defaults when not given) are the rules the past bill cycles are
    replayed under (tax, payment terms, dunning steps and when the job runs) and the
    values the data follows (currency digits, SLA hours, the number block new orders
    use, the device lab's first port, which `lab_base_port` overrides).
    Data whose now (`Timeline.now_at`) is later than `now` is refused: it would hold
    payments, tickets and alarms from the future.
    """
    settings = settings or Settings()
    now = now or utcnow()
    if Timeline(as_of).now_at > now:
        raise DomainError(
            f"data as of {as_of:%Y-%m-%d} reads as of {Timeline(as_of).now_at:%Y-%m-%d %H:%M} UTC,"
            f" which has not come yet (now is {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC)",
            hint=f"seed as of {latest_as_of(now):%Y-%m-%d} or earlier",
        )
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
    gen = Generation(scale, seed, as_of, settings, lab_base_port)
    report.generate_s += time.perf_counter() - started
    with db.transaction() as session:
        conn = session.connection()
        if conn.dialect.name == "sqlite":
            # A big page cache keeps index inserts in memory for the bulk load.
            conn.exec_driver_sql("PRAGMA cache_size = -524288")
        for name in TABLE_ORDER:
            note(name, loader.load(conn, tables[name], gen.tables[name]))
        # The billing services insert their rows with the tables' own ids from here on.
        loader.reset_sequences(conn, tables.values())

        t = time.perf_counter()
        replay = BillingReplay(session, gen.billing_plan, gen.timeline, settings)
        report.billing_s += time.perf_counter() - t
        for cycle, month in enumerate(gen.billing_plan.months):
            t = time.perf_counter()
            replay.advance_to(month.end)
            spans = replay.quiet_spans()
            report.billing_s += time.perf_counter() - t
            _load_usage(conn, gen.usage.past_month(cycle, month, spans), report, note)
            t = time.perf_counter()
            replay.bill(cycle)
            report.billing_s += time.perf_counter() - t
            note("invoices", sum(r.invoices for r in replay.report.billed))
        t = time.perf_counter()
        replay.finish()
        spans = replay.quiet_spans()
        report.billing_s += time.perf_counter() - t
        note("payments", replay.report.payments)

        _load_usage(conn, gen.usage.usage_month(spans), report, note)
        note(
            "fraud_labels", loader.load(conn, tables["fraud_labels"], gen.usage.fraud_label_table())
        )
        changes = gen.usage.imei_changes
        if changes:
            conn.execute(
                sa.text("UPDATE subscriptions SET imei = :imei WHERE id = :id"),
                [{"imei": imei, "id": sid} for imei, sid in changes],
            )
        loader.reset_sequences(conn, tables.values())
        for name in REPORTED:
            report.counts[name] = conn.execute(
                sa.select(sa.func.count()).select_from(tables[name])
            ).scalar_one()
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size = -2000")  # SQLite's default again
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    elapsed = time.perf_counter() - started
    report.load_s = elapsed - report.generate_s - report.billing_s
    return report


def _load_usage(
    conn: Connection, chunks: Iterator[Columns], report: SeedReport, note: Progress
) -> None:
    """Load usage chunks as they are generated, timing the generation apart."""
    usage = metadata.tables["usage_records"]
    loaded = 0
    while True:
        t = time.perf_counter()
        chunk = next(chunks, None)
        report.generate_s += time.perf_counter() - t
        if chunk is None:
            return
        loaded += loader.load(conn, usage, chunk)
        note("usage_records", loaded)


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
