"""The audit journal: events that happened but could not be stored in the trail yet.

A command that changed something cannot be taken back when its outcome event cannot be
stored (the database is locked or away), and asking the user to try again would run it
twice. Its event is appended here instead: one JSON line per event, written with
fsync to a file (mode 0600) beside the anchor file. The next audit write that succeeds
(and the anchor job) stores the journal's events into the chain, in order, before its
own, and empties the file. Every append and drain holds an exclusive `flock` on the
file, so processes and threads sharing it never interleave.

A crash between the database's commit and the file being emptied stores those events
twice when the journal is next drained: doubled, never lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from domain.audit.choices import Outcome
from domain.db import database_tag

log = logging.getLogger(__name__)


def journal_beside(anchor_file: Path, database_url: str) -> Path:
    """Where the journal of the trail anchored in `anchor_file` lives: in its folder,
    named for the database (its URL's hash, password hidden), so its events are only
    ever stored into the trail they were kept for."""
    return anchor_file.with_name(f"audit-journal.{database_tag(database_url)}.jsonl")


@dataclass(frozen=True)
class PendingEvent:
    """One audit event as `record_event` takes it, not yet in the chain."""

    actor: str
    command: str
    outcome: Outcome
    at: datetime
    roles: tuple[str, ...] = ()
    channel: str = ""
    via: str = ""
    arguments: str = ""
    detail: str = ""
    duration_ms: int = 0
    #: When it was appended to the journal (None: never journaled).
    journaled_at: datetime | None = field(default=None, compare=False)

    def to_line(self) -> str:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        data["at"] = self.at.isoformat()
        data["journaled_at"] = self.journaled_at.isoformat() if self.journaled_at else None
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_line(cls, line: str) -> PendingEvent:
        data = json.loads(line)
        data["outcome"] = Outcome(data["outcome"])
        data["at"] = datetime.fromisoformat(data["at"])
        data["roles"] = tuple(data.get("roles", ()))
        kept = data.get("journaled_at")
        data["journaled_at"] = datetime.fromisoformat(kept) if kept else None
        return cls(**data)


class JournalBusy(TimeoutError):
    """Another writer held the journal for longer than we could wait."""


@contextlib.contextmanager
def _locked(path: Path, deadline: float | None = None) -> Iterator[IO[str]]:
    """The journal opened for appending and reading, under an exclusive flock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a+", encoding="utf-8") as f:
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline else 0))
                break
            except BlockingIOError:
                if deadline is None or time.monotonic() >= deadline:
                    raise JournalBusy(
                        f"the audit journal {path} is held by another writer"
                    ) from None
                time.sleep(0.01)
        try:
            yield f
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def append(path: Path, event: PendingEvent) -> None:
    """Keep `event` durably: appended and fsync'd before this returns (OSError if not)."""
    new = not path.exists()
    with _locked(path) as f:
        f.write(event.to_line())
        f.flush()
        os.fsync(f.fileno())
    if new:  # the file's name must survive a crash too
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def waiting(path: Path | None) -> bool:
    """Whether the journal holds anything (a cheap stat, done before every audit write)."""
    try:
        return path is not None and path.stat().st_size > 0
    except OSError:
        return False


def count(path: Path | None) -> int:
    """How many events the journal holds (lines; `switchboard audit verify` says so)."""
    if not waiting(path):
        return 0
    assert path is not None
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


@dataclass
class Drain:
    """The journal's events, held under its lock until `done()` empties the file."""

    events: list[PendingEvent]
    handle: IO[str] | None = None
    path: Path | None = None
    #: Lines were kept aside as unreadable: the file is emptied even with no event.
    unreadable: bool = False

    def done(self) -> None:
        """The events are stored: empty the file (still under the lock)."""
        if self.handle is None or (not self.events and not self.unreadable):
            return
        self.handle.truncate(0)
        self.handle.flush()
        os.fsync(self.handle.fileno())


@contextlib.contextmanager
def draining(path: Path | None, deadline: float) -> Iterator[Drain]:
    """The journal's events in order, the file locked until the block ends; call
    `done()` once they are stored. A line that cannot be read (a torn write from a crash)
    is kept aside in `<journal>.unreadable` and logged, never dropped silently."""
    if not waiting(path):
        yield Drain([])
        return
    assert path is not None
    with _locked(path, deadline) as f:
        f.seek(0)
        events, bad = [], []
        for number, line in enumerate(f.read().splitlines(), 1):
            if not line.strip():
                continue
            try:
                events.append(PendingEvent.from_line(line))
            except (ValueError, KeyError, TypeError):
                bad.append(line)
                log.error("audit journal %s: line %d cannot be read; kept aside", path, number)
        if bad:
            aside = path.with_name(path.name + ".unreadable")
            fd = os.open(aside, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                out.write("".join(b + "\n" for b in bad))
                out.flush()
                os.fsync(out.fileno())
        yield Drain(events, f, path, unreadable=bool(bad))
