"""/bill as a care agent uses it: the whole command path, audit write included."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from bot.access import Access
from bot.bench import BenchContext, Measurement, benchmark, time_calls
from bot.bootstrap import build_services, load_skills
from bot.router import Router

LOOKUPS = 500


@benchmark("bill lookup")
def bill_lookup(ctx: BenchContext) -> Measurement:
    """`/bill <msisdn>` and `/bill <account>` for random customers, through the router."""
    db = ctx.seeded_database()
    with db.engine.connect() as conn:
        numbers = (
            conn.execute(sa.text("SELECT msisdn FROM subscriptions WHERE msisdn IS NOT NULL"))
            .scalars()
            .all()
        )
        accounts = (
            conn.execute(sa.text("SELECT account_number FROM billing_accounts")).scalars().all()
        )
    rng = np.random.default_rng(11)
    asks = [
        f"/bill {numbers[i][2:]}" if k % 2 else f"/bill {accounts[j]}"
        for k, (i, j) in enumerate(
            zip(
                rng.integers(0, len(numbers), LOOKUPS + 10),
                rng.integers(0, len(accounts), LOOKUPS + 10),
                strict=True,
            )
        )
    ]
    router = Router(load_skills(), build_services(ctx.settings, db))
    carol = Access(ctx.settings).user("carol")
    it = iter(asks)
    failed: list[str] = []

    def ask() -> None:
        reply = router.handle(carol, next(it))
        if not reply.ok:
            failed.append(reply.text)

    samples = time_calls(ask, LOOKUPS)
    db.dispose()
    return Measurement(
        f"/bill by number or account ({ctx.scale})",
        LOOKUPS,
        samples=samples,
        throughput=LOOKUPS / sum(samples),
        unit="lookups/s",
        target="p95 < 30 ms",
        note=f"{len(failed)} failed" if failed else "balance, invoice, payments, unbilled usage",
    )
