"""`switchboard bench`: the benchmarks under tests/bench, one table."""

from __future__ import annotations

import argparse

from bot.cli.base import Subcommands, add_command, out
from domain.config import PROJECT_ROOT, Settings

#: Benchmarks live beside the tests in a source checkout; the harness gets them by path.
BENCHMARKS = PROJECT_ROOT / "tests" / "bench"


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bench import run_benchmarks

    return run_benchmarks(settings, BENCHMARKS, scale=args.scale, only=args.only, out=out)


def register(sub: Subcommands) -> None:
    b = add_command(
        sub, "bench", cmd_bench, "run the benchmarks under tests/bench and print one table"
    )
    b.add_argument("--scale", default="demo", choices=("demo", "large"))
    b.add_argument("--only", help="run only benchmarks whose name contains this")
