"""Building the manager digest: every section's numbers and the chart."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.bench import BENCH_AS_OF, BenchContext, Measurement, benchmark, time_calls
from bot.bootstrap import build_services
from skills.digests import build_digest

RUNS = 5


@benchmark("manager digest")
def manager_digest(ctx: BenchContext) -> Measurement:
    """The manager digest as the scheduler builds it at 08:00, chart included."""
    db = ctx.seeded_database()
    now = datetime(BENCH_AS_OF.year, BENCH_AS_OF.month, BENCH_AS_OF.day, 2, 30, tzinfo=UTC)
    sizes: list[int] = []

    def build() -> None:
        reply = build_digest(build_services(ctx.settings, db), "manager-daily", now)
        sizes.append(sum(len(f.content) for f in reply.files))

    samples = time_calls(build, RUNS, warmup=1)
    db.dispose()
    return Measurement(
        f"manager digest with chart ({ctx.scale})",
        RUNS,
        samples=samples,
        target="< 2 s",
        note=f"chart {sizes[-1] // 1024} KiB",
    )
