"""Benchmark harness: runs the bench_*.py files of a directory the caller names, prints
one table.

A benchmark is a function decorated with `@benchmark(...)` that takes a BenchContext
and returns one Measurement (or several). Latencies are per-call samples in seconds;
throughput is units per second. A measurement may carry its own baseline, and the
table shows the ratio to it.

The harness knows benchmark files only by path (`switchboard bench` names the
checkout's tests/bench); it imports nothing of theirs by name.
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from domain.config import PROJECT_ROOT, Settings
from domain.db import Database
from domain.demo.seed import is_empty, scale_named, seed
from domain.migrate import upgrade

#: The data's "today" for benchmark databases, so runs compare like with like.
BENCH_AS_OF = date(2026, 11, 1)
BENCH_SEED = 42


@dataclass
class Measurement:
    name: str
    n: int
    samples: list[float] = field(default_factory=list)
    throughput: float | None = None
    unit: str = "ops/s"
    baseline: Measurement | None = None
    target: str = ""
    note: str = ""

    def percentile(self, q: float) -> float | None:
        if not self.samples:
            return None
        if len(self.samples) == 1:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=100, method="inclusive")[int(q) - 1]

    @property
    def ratio(self) -> float | None:
        """How many times better than the baseline (faster, or more per second)."""
        b = self.baseline
        if b is None:
            return None
        if self.throughput and b.throughput:
            return self.throughput / b.throughput
        mine, theirs = self.percentile(50), b.percentile(50)
        if mine and theirs:
            return theirs / mine
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n": self.n,
            "p50_s": self.percentile(50),
            "p95_s": self.percentile(95),
            "p99_s": self.percentile(99),
            "throughput": self.throughput,
            "unit": self.unit,
            "ratio_to_baseline": self.ratio,
            "baseline": self.baseline.as_dict() if self.baseline else None,
            "target": self.target,
            "note": self.note,
        }


def time_calls(fn: Callable[[], Any], n: int, warmup: int = 3) -> list[float]:
    """Per-call wall times in seconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return samples


@dataclass
class BenchContext:
    settings: Settings
    scale: str
    workdir: Path

    def database_path(self) -> Path:
        return self.workdir / f"{self.scale}.db"

    def seeded_database(self) -> Database:
        """The benchmark database at this scale, seeded on first use."""
        db = Database(f"sqlite:///{self.database_path()}")
        upgrade(db)
        if is_empty(db):
            seed(db, scale_named(self.scale), seed=BENCH_SEED, as_of=BENCH_AS_OF)
        return db


BenchFn = Callable[[BenchContext], "Measurement | list[Measurement]"]
_REGISTRY: dict[str, BenchFn] = {}


def benchmark(name: str) -> Callable[[BenchFn], BenchFn]:
    """Register a benchmark under `name`; only records it."""

    def register(fn: BenchFn) -> BenchFn:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"benchmark {name!r} registered twice")
        _REGISTRY[name] = fn
        return fn

    return register


def _module_name(path: Path) -> tuple[Path, str]:
    """(the directory above the file's packages, its dotted name), as pytest finds them."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return folder, ".".join(parts)


def discover(directory: Path) -> dict[str, BenchFn]:
    """Import every bench_*.py in `directory`, so its benchmarks register."""
    for path in sorted(directory.resolve().glob("bench_*.py")):
        # Imported as the module it is in its own tree, so it can import its neighbours
        # (a benchmark may use the test suite's fakes) without the harness naming them.
        root, name = _module_name(path)
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        importlib.import_module(name)
    return dict(_REGISTRY)


def _fmt_s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.2f} ms" if value < 1 else f"{value:.2f} s"


def _fmt_ratio(value: float | None) -> str:
    if not value:
        return "-"
    # Below 1 (slower than the baseline), two significant digits: 0.03x, not 0.0x.
    return f"{value:,.1f}x" if value >= 1 else f"{value:.2g}x"


def render(results: list[Measurement], console: Console, title: str) -> None:
    table = Table(title=title)
    for col in ("benchmark", "n", "p50", "p95", "p99", "throughput", "vs baseline", "target"):
        table.add_column(col, justify="left" if col in ("benchmark", "target") else "right")
    for m in results:
        ratio = m.ratio
        table.add_row(
            m.name,
            f"{m.n:,}",
            _fmt_s(m.percentile(50)),
            _fmt_s(m.percentile(95)),
            _fmt_s(m.percentile(99)),
            f"{m.throughput:,.0f} {m.unit}" if m.throughput else "-",
            _fmt_ratio(ratio),
            m.target,
        )
    console.print(table)
    for m in results:
        if m.note:
            console.print(f"  {m.name}: {m.note}")


def run_benchmarks(
    settings: Settings, directory: Path, *, scale: str, only: str | None, out: Console
) -> int:
    """Run every benchmark in `directory` (or those matching `only`); write bench-results.json."""
    if not directory.is_dir():
        out.print(f"no benchmarks: {directory} is missing (run from a source checkout)")
        return 1
    found = discover(directory)
    chosen = {k: v for k, v in found.items() if not only or only in k}
    if not chosen:
        out.print(f"no benchmark matches {only!r}; there are: {', '.join(sorted(found))}")
        return 1
    ctx = BenchContext(settings, scale, settings.resolve_path("var/bench"))
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    results: list[Measurement] = []
    failed = 0
    for name, fn in chosen.items():
        out.print(f"running {name} at {scale} scale ...")
        try:
            got = fn(ctx)
        except Exception:  # a broken benchmark must not hide the others' figures
            failed += 1
            out.print(f"[red]{name} failed[/red]\n{traceback.format_exc()}")
            continue
        results.extend(got if isinstance(got, list) else [got])
    # Wide enough for the whole table even when output goes to a file or a CI log.
    wide = Console(width=max(out.width, 160), highlight=False)
    render(results, wide, f"Switchboard benchmarks, scale {scale}")
    path = PROJECT_ROOT / "bench-results.json"
    path.write_text(
        json.dumps({"scale": scale, "results": [m.as_dict() for m in results]}, indent=2)
    )
    out.print(f"wrote {path}")
    return 1 if failed else 0
