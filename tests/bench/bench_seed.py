"""Seeding speed: bulk load (COPY / executemany) against ORM objects one at a time."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.bench import BENCH_AS_OF, BENCH_SEED, BenchContext, Measurement, benchmark
from domain.db import Database
from domain.demo.seed import scale_named, seed
from domain.migrate import upgrade

ORM_ROWS = 3_000


def _orm_one_at_a_time(ctx: BenchContext) -> Measurement:
    """The baseline: the same kind of rows as ORM objects, flushed one by one."""
    from domain.billing.models import UsageRecord
    from domain.schema import Subscription

    path = ctx.workdir / "orm-baseline.db"
    path.unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    src = ctx.seeded_database()
    with src.transaction() as s:
        sub_ids = [sid for (sid,) in s.query(Subscription.id).limit(50)]
    # Copy the parents the usage rows need, then time the ORM inserts alone.
    seed(db, scale_named("demo"), seed=BENCH_SEED, as_of=BENCH_AS_OF, reset=True)
    start = datetime(2026, 10, 15, tzinfo=UTC)
    t = time.perf_counter()
    with db.transaction() as s:
        base = 10_000_000
        for i in range(ORM_ROWS):
            s.add(
                UsageRecord(
                    id=base + i,
                    subscription_id=sub_ids[i % len(sub_ids)],
                    started_at=start,
                    service="voice",
                    direction="out",
                    counterpart="919800000000",
                    counterpart_country="IN",
                    duration_s=60,
                    volume_bytes=0,
                    cell_id="MUM-TWR-0001-1",
                    imei="353328110000000",
                    roaming=False,
                    state="received",
                )
            )
            s.flush()
    elapsed = time.perf_counter() - t
    db.dispose()
    path.unlink(missing_ok=True)
    return Measurement(
        "seed: ORM one at a time", ORM_ROWS, throughput=ORM_ROWS / elapsed, unit="rows/s"
    )


@benchmark("seed")
def seed_rate(ctx: BenchContext) -> Measurement:
    """Seed the benchmark database from scratch at this scale; rows loaded per second."""
    path = ctx.database_path()
    path.unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    report = seed(db, scale_named(ctx.scale), seed=BENCH_SEED, as_of=BENCH_AS_OF, reset=True)
    db.dispose()
    baseline = _orm_one_at_a_time(ctx)
    return Measurement(
        f"seed {ctx.scale} (SQLite)",
        report.rows,
        samples=[report.seconds],
        throughput=report.rows / report.seconds,
        unit="rows/s",
        baseline=baseline,
        target="demo < 60 s" if ctx.scale == "demo" else "",
        note=(
            f"{report.counts['usage_records']:,} usage records; generation "
            f"{report.generate_s:.1f} s, loading {report.load_s:.1f} s, the past bill "
            f"cycles through the billing services {report.billing_s:.1f} s"
        ),
    )
