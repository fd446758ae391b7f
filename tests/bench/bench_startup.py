"""Start-up: one `switchboard chat` command in a fresh process, as a script or an engineer
runs it, against a bare `python -c pass` started the same way.

Each sample is the wall time of one whole process: interpreter start, imports, config,
opening (and checking the schema of) the benchmark database, the command with its audit
write, the reply printed, exit. The difference from the baseline is what Switchboard
itself costs before an answer appears. Bytecode is cached as in any installation (the
warm-up runs write it even where PYTHONDONTWRITEBYTECODE is set), so the figures are
the ones an engineer sees from the second run on.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bot.bench import BenchContext, Measurement, benchmark
from domain.config import PROJECT_ROOT

RUNS = 20
WARMUP = 2
COMMAND = ["chat", "--as", "alice", "/ops whoami"]


def _fresh_processes(argv: list[str], env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of RUNS fresh processes, after WARMUP unmeasured ones."""
    wall: list[float] = []
    cpu: list[float] = []
    for n in range(WARMUP + RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(
            argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr}")
        if n >= WARMUP:
            wall.append(elapsed)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


@benchmark("startup")
def startup(ctx: BenchContext) -> list[Measurement]:
    """`switchboard chat --as alice "/ops whoami"`, fresh processes, vs `python -c pass`."""
    ctx.seeded_database().dispose()
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "SWITCHBOARD_CONFIG": str(ctx.settings.source),
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{ctx.database_path()}",
    }
    wall, cpu = _fresh_processes([sys.executable, "-c", "pass"], env)
    baseline = Measurement("python -c pass (fresh process)", RUNS, samples=wall)
    switchboard = Path(sys.executable).with_name("switchboard")
    wall, cpu = _fresh_processes([str(switchboard), *COMMAND], env)
    chat = Measurement(
        'switchboard chat --as alice "/ops whoami" (fresh process)',
        RUNS,
        samples=wall,
        baseline=baseline,
        target="p50 < 1 s (idle 2-core machine)",
    )
    p50, base = chat.percentile(50) or 0.0, baseline.percentile(50) or 0.0
    # CPU time as well: on a busy machine wall time grows with the load, CPU time much less.
    chat.note = (
        f"{p50 / max(base, 1e-9):,.1f}x the time of a bare interpreter, "
        f"{(p50 - base) * 1000:,.0f} ms of Switchboard's own; "
        f"CPU p50 {statistics.median(cpu) * 1000:,.0f} ms a process"
    )
    return [baseline, chat]
