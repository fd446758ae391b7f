"""The audit journal keeps events durably, in order, private, and never drops a line."""

from __future__ import annotations

import stat
import time
from datetime import UTC, datetime
from pathlib import Path

from domain.audit.choices import Outcome
from domain.audit.journal import PendingEvent, append, draining, journal_beside, waiting

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def event(n: int) -> PendingEvent:
    return PendingEvent(
        actor="carol",
        command="ticket open",
        outcome=Outcome.OK,
        at=AT,
        roles=("care_agent",),
        arguments=f'/ticket open 919876543210 "call {n}"',
        journaled_at=AT,
    )


def test_events_come_back_in_order_and_the_file_is_private(tmp_path: Path) -> None:
    path = journal_beside(tmp_path / "audit-anchors.log", "sqlite:///x.db")
    assert path.parent == tmp_path and not waiting(path)
    for n in range(3):
        append(path, event(n))
    assert waiting(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with draining(path, time.monotonic() + 1) as kept:
        assert kept.events == [event(0), event(1), event(2)]
        kept.done()
    assert not waiting(path)


def test_a_torn_line_is_kept_aside_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "audit-journal.jsonl"
    append(path, event(1))
    with path.open("a") as f:
        f.write('{"actor":"carol","comm')  # a crash in the middle of a write
    with draining(path, time.monotonic() + 1) as kept:
        assert kept.events == [event(1)]
        kept.done()
    assert (tmp_path / "audit-journal.jsonl.unreadable").read_text() == '{"actor":"carol","comm\n'
    assert not waiting(path)


def test_each_database_has_its_own_journal_and_no_password_in_its_name(tmp_path: Path) -> None:
    anchors = tmp_path / "audit-anchors.log"
    one = journal_beside(anchors, "postgresql+psycopg://sb:secret@db1/sb")
    other = journal_beside(anchors, "postgresql+psycopg://sb:secret@db2/sb")
    assert one != other and "secret" not in str(one)
    assert one == journal_beside(anchors, "postgresql+psycopg://sb:other@db1/sb")
