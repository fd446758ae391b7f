"""Network operations: inventory search latency and alert intake throughput."""

from __future__ import annotations

import os
import time

import numpy as np
import sqlalchemy as sa

from bot.access import Access
from bot.alerts import receive
from bot.bench import BenchContext, Measurement, benchmark, time_calls
from bot.bootstrap import build_services, load_skills
from bot.router import Router
from domain.db import Database
from domain.migrate import upgrade

ALERTS = 5_000
BATCH = 50


@benchmark("inventory search")
def inventory_search(ctx: BenchContext) -> Measurement:
    """`/inventory search <word> role:X` through the router, on this scale's inventory."""
    db = ctx.seeded_database()
    router = Router(load_skills(), build_services(ctx.settings, db))
    alice = Access(ctx.settings).user("alice")
    with db.engine.connect() as conn:
        names = conn.execute(sa.text("SELECT hostname FROM devices")).scalars().all()
        devices = len(names)
    rng = np.random.default_rng(3)
    words = [n.split("-")[1] if "-" in n else n[:3] for n in rng.choice(names, 300)]
    picks = iter(words * 10)
    samples = time_calls(
        lambda: router.handle(alice, f"/inventory search {next(picks)} role:access"), 300
    )
    db.dispose()
    return Measurement(
        f"inventory search ({devices:,} devices)",
        len(samples),
        samples=samples,
        throughput=len(samples) / sum(samples),
        unit="searches/s",
        target="p95 < 20 ms at large scale",
    )


def _intake(db: Database, ctx: BenchContext, label: str) -> Measurement:
    upgrade(db)
    with db.transaction() as s:
        s.execute(sa.text("DELETE FROM alarms WHERE fingerprint LIKE 'bench%'"))
    # Half the alerts repeat an earlier fingerprint: deduplication is part of the work.
    batches = []
    for b in range(ALERTS // BATCH):
        alerts = [
            {
                "status": "firing",
                "fingerprint": f"bench{(b * BATCH + i) % (ALERTS // 2):011d}",
                "labels": {
                    "alertname": "InterfaceErrors",
                    "severity": "warning",
                    "instance": f"host{i}:9100",
                },
                "annotations": {"summary": "errors rising"},
            }
            for i in range(BATCH)
        ]
        batches.append({"version": "4", "status": "firing", "alerts": alerts})
    samples = []
    started = time.perf_counter()
    for body in batches:
        t = time.perf_counter()
        receive(db, ctx.settings.alerts, ctx.settings.tickets, "alertmanager", body)
        samples.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    with db.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT COUNT(*) FROM alarms WHERE fingerprint LIKE 'bench%'")
        ).scalar_one()
    return Measurement(
        f"alert intake, batches of {BATCH} ({label})",
        ALERTS,
        samples=samples,
        throughput=ALERTS / elapsed,
        unit="alerts/s",
        target=">= 500 alerts/s",
        note=f"{stored:,} alarms for {ALERTS:,} alerts ({label})",
    )


@benchmark("alert intake")
def alert_intake(ctx: BenchContext) -> list[Measurement]:
    """Alertmanager batches filed as alarms, on SQLite and (when given) PostgreSQL."""
    path = ctx.workdir / "alerts.db"
    path.unlink(missing_ok=True)
    results = [_intake(Database(f"sqlite:///{path}"), ctx, "SQLite")]
    pg = os.environ.get("BENCH_DATABASE_URL")
    if pg:
        results.append(_intake(Database(pg), ctx, "PostgreSQL"))
    return results
