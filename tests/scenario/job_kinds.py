"""Job kinds for testing the job worker itself: each leaves a line in a file, then does
what its name says (a job worker process imports this module by name, so it is one)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from automation.scheduler import register_runners


def start(trail: str) -> None:
    """A job worker's initializer: these kinds, writing their trail to `trail`."""
    path = Path(trail)

    def note(what: str) -> None:
        with path.open("a") as f:
            f.write(f"{os.getpid()} {time.monotonic():.3f} {what}\n")

    def pid(_: str) -> str:
        note("pid")
        return "ran"

    def boom(arg: str) -> str:
        note("boom")
        raise ValueError(f"no such thing as {arg!r}")

    def crash(_: str) -> str:
        note("crash")
        os._exit(3)  # as a segfault or the OOM killer would: no exception, no cleanup

    def sleep(arg: str) -> str:
        note("start")
        time.sleep(float(arg))
        note("end")
        return "slept"

    register_runners({"pid": pid, "boom": boom, "crash": crash, "sleep": sleep})


def trail(path: Path) -> list[tuple[int, float, str]]:
    """What the jobs wrote: (process id, monotonic time, what), in order."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        pid, at, what = line.split()
        rows.append((int(pid), float(at), what))
    return rows
