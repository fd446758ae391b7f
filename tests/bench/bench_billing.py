"""Rating throughput and the bill run over every account, on a copy of the seeded data."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from bot.bench import BENCH_AS_OF, BENCH_SEED, BenchContext, Measurement, benchmark
from domain.billing.billrun import run_bill
from domain.billing.rating import Period, rate_usage
from domain.config import BillingSettings
from domain.db import Database
from domain.demo.seed import is_empty, scale_named, seed
from domain.migrate import upgrade

#: The seeded usage lies in the month before the benchmark's "today".
PERIOD = Period.of(BENCH_AS_OF - timedelta(days=1))
T = TypeVar("T")


def _working_copy(ctx: BenchContext) -> Database:
    """A copy of the benchmark database: rating and billing change what others read.

    A benchmark database seeded before the invoice history moved out of the usage month
    already has that month's invoices; then a database of our own is seeded once and
    copied instead.
    """
    path = ctx.workdir / f"billing-{ctx.scale}.db"
    _remove(path)
    src = ctx.seeded_database()
    source = ctx.database_path()
    if _has_invoices_for_the_period(src):
        src.dispose()
        source = ctx.workdir / f"billing-{ctx.scale}-seeded.db"
        src = Database(f"sqlite:///{source}")
        upgrade(src)
        if is_empty(src):
            seed(src, scale_named(ctx.scale), seed=BENCH_SEED, as_of=BENCH_AS_OF)
    with src.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    src.dispose()
    shutil.copyfile(source, path)
    # The copy's writeback is setup, not part of the figures measured after it.
    os.sync()
    return Database(f"sqlite:///{path}")


def _has_invoices_for_the_period(db: Database) -> bool:
    with db.engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT COUNT(*) FROM invoices WHERE period_start = ?",
                (PERIOD.first_day.isoformat(),),
            ).scalar_one()
        )


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _to_commit(db: Database, work: Callable[[Session], T]) -> tuple[T, float]:
    """The work's result and its seconds up to and including the commit.

    SQLite checkpoints at commit, copying the rewritten pages into the database file:
    that is part of the work, so every figure here runs to the commit.
    """
    started = time.perf_counter()
    with db.transaction() as s:
        result = work(s)
    return result, time.perf_counter() - started


@benchmark("billing")
def billing(ctx: BenchContext) -> list[Measurement]:
    """Rate the seeded month's usage, re-rate it, then bill every account for it."""
    db = _working_copy(ctx)
    now = datetime(BENCH_AS_OF.year, BENCH_AS_OF.month, BENCH_AS_OF.day, 6, tzinfo=UTC)
    try:
        first, first_s = _to_commit(db, lambda s: rate_usage(s, PERIOD))
        again, again_s = _to_commit(db, lambda s: rate_usage(s, PERIOD))
        run, run_s = _to_commit(db, lambda s: run_bill(s, PERIOD, BillingSettings(), now=now))
    finally:
        db.dispose()
        _remove(ctx.workdir / f"billing-{ctx.scale}.db")
    return [
        Measurement(
            f"rating {PERIOD} ({ctx.scale}, SQLite)",
            first.records,
            samples=[first_s],
            throughput=first.records / first_s,
            unit="records/s",
            baseline=Measurement(
                "re-rating, nothing changed", again.records, throughput=again.records / again_s
            ),
            target=">= 300,000 records/s (large)",
            note=(
                f"{first.rated:,} rated, {first.no_tariff:,} without a tariff: read "
                f"{first.reading_s:.1f} s, priced "
                f"{first.seconds - first.reading_s - first.writing_s:.1f} s, written "
                f"{first.writing_s:.1f} s, committed {first_s - first.seconds:.1f} s; "
                f"re-rating changed {again.changed:,} in {again_s:.1f} s"
            ),
        ),
        Measurement(
            f"bill run {PERIOD}, every account ({ctx.scale}, SQLite)",
            run.invoices,
            samples=[run_s],
            throughput=run.invoices / run_s,
            unit="invoices/s",
            target="< 120 s (large)",
            note=(
                f"{run.invoices:,} invoices, {run.lines:,} lines, {run.usage_records:,} usage "
                f"records billed: usage read {run.reading_s:.1f} s, marked billed "
                f"{run.marking_s:.1f} s, the rest "
                f"{run.seconds - run.reading_s - run.marking_s:.1f} s, committed "
                f"{run_s - run.seconds:.1f} s"
            ),
        ),
    ]
