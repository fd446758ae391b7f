"""Usage by subscriber: the lookup behind /bill, /fraud check and care screens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa

from bot.bench import BENCH_AS_OF, BenchContext, Measurement, benchmark, time_calls
from domain.db import UtcDateTime

LOOKUPS = 1_000
SCANS = 20

QUERY = """
SELECT id, started_at, service, direction, counterpart, duration_s, volume_bytes
FROM usage_records
WHERE {subscription} = :sub AND started_at >= :since
ORDER BY started_at DESC
"""


@benchmark("usage lookup")
def usage_by_subscriber(ctx: BenchContext) -> Measurement:
    """Last 7 days of one subscriber's usage; the baseline reads without the index."""
    db = ctx.seeded_database()
    with db.engine.connect() as conn:
        subs = (
            conn.execute(sa.text("SELECT DISTINCT subscription_id FROM usage_records"))
            .scalars()
            .all()
        )
    picks = iter(np.random.default_rng(7).choice(subs, LOOKUPS + SCANS + 10).tolist())
    since = sa.bindparam("since", type_=UtcDateTime())
    indexed = sa.text(QUERY.format(subscription="subscription_id")).bindparams(since)
    # "+ 0" keeps the planner off the index: what the lookup costs without it.
    scan = sa.text(QUERY.format(subscription="subscription_id + 0")).bindparams(since)
    start = datetime(BENCH_AS_OF.year, BENCH_AS_OF.month, BENCH_AS_OF.day, tzinfo=UTC) - timedelta(
        days=7
    )
    rows: list[int] = []
    with db.engine.connect() as conn:

        def lookup(query: sa.TextClause = indexed) -> None:
            rows.append(len(conn.execute(query, {"sub": next(picks), "since": start}).all()))

        samples = time_calls(lookup, LOOKUPS)
        base = time_calls(lambda: lookup(scan), SCANS, warmup=1)
    db.dispose()
    return Measurement(
        f"usage by subscriber, 7 days ({ctx.scale})",
        LOOKUPS,
        samples=samples,
        throughput=LOOKUPS / sum(samples),
        unit="lookups/s",
        baseline=Measurement("full scan", SCANS, samples=base),
        target="p95 < 30 ms",
        note=f"{np.mean(rows):.0f} rows a lookup on average",
    )
