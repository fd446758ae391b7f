"""The audit fails closed (#17): while another writer holds the database's write lock,
a read's answer is withheld and a change does not run; a change whose outcome event
cannot be stored is kept in the audit journal and stored into the chain later, and the
trail still verifies. Through the router, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot import metrics
from bot.access import Access
from bot.bootstrap import build_services, load_skills
from bot.router import NOT_RUN, TRY_AGAIN, WITHHELD, Router
from domain import policy
from domain.audit.choices import Outcome
from domain.audit.journal import journal_beside
from domain.audit.models import AuditEvent
from domain.audit.services import anchor_chain, verify_trail
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database
from domain.faults.models import Ticket
from skills.registry import Registry

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
ACCESS = Access(SETTINGS)
CAROL = ACCESS.user("carol")


class WriteLock:
    """Another connection holding the database's write lock, as a long writer would:
    SQLite's `BEGIN IMMEDIATE`, or on PostgreSQL the audit table locked against writes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._release: Any = None

    def take(self) -> None:
        if self.db.dialect == "sqlite":
            conn = sqlite3.connect(sa.make_url(self.db.url).database, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")

            def release() -> None:
                conn.execute("ROLLBACK")
                conn.close()

        else:
            engine = sa.create_engine(self.db.url)
            pg = engine.connect()
            pg.exec_driver_sql("LOCK TABLE audit_events IN EXCLUSIVE MODE")

            def release() -> None:
                pg.rollback()
                pg.close()
                engine.dispose()

        self._release = release

    def release(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None

    @contextmanager
    def held(self) -> Iterator[None]:
        self.take()
        try:
            yield
        finally:
            self.release()


def rows(db: Database) -> list[AuditEvent]:
    with db.read() as s:
        return list(s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def tickets(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(Ticket)) or 0)


def unwritten(command: str, action: str) -> float:
    labels = {"command": command, "action": action}
    return metrics.REGISTRY.get_sample_value("switchboard_audit_unwritten_total", labels) or 0.0


@pytest.fixture
def anchors(tmp_path: Path) -> Path:
    return tmp_path / "audit-anchors.log"


def router_for(db: Database, anchors: Path, registry: Registry | None = None) -> Router:
    """A router whose audit journal is the one the anchor job beside `anchors` drains."""
    services = build_services(SETTINGS, db)
    return Router(registry or load_skills(), services, journal=journal_beside(anchors, db.url))


@pytest.fixture
def router(world: Database, anchors: Path) -> Router:
    return router_for(world, anchors)


def journaled(router: Router) -> list[str]:
    path = router.journal
    return path.read_text().splitlines() if path.exists() else []


def test_a_lookup_under_a_held_write_lock_shows_nothing_and_says_try_again(
    router: Router, world: Database, anchors: Path
) -> None:
    before = unwritten("customer", "withheld")
    with WriteLock(world).held():
        started = time.monotonic()
        routed = router.route(CAROL, "/customer 919876543210")
        waited = time.monotonic() - started
    reply = routed.reply
    assert (reply.ok, reply.text, reply.hint) == (False, WITHHELD, TRY_AGAIN)
    assert "Priya" not in repr(reply) and "9876543210" not in repr(reply)
    assert reply.data is None and not reply.sections and not reply.tables
    assert routed.outcome == Outcome.FAILED
    assert 1.5 < waited < 5, waited  # it tried for its budget (2 s), and no longer
    assert unwritten("customer", "withheld") == before + 1
    assert rows(world) == []
    assert len(journaled(router)) == 1  # who asked, and that the answer was withheld

    again = router.handle(CAROL, "/customer 919876543210")
    assert again.ok and "Priya Nair" in again.text + repr(again.sections)
    events = rows(world)
    assert [(e.command, e.outcome) for e in events] == [
        ("customer", Outcome.FAILED),
        ("customer", Outcome.OK),
    ]
    assert events[0].detail.startswith(WITHHELD) and "[stored late" in events[0].detail
    assert events[1].arguments == "/customer 919876543210"
    assert journaled(router) == []
    assert anchor_chain(world, anchors).result == "written"
    assert verify_trail(world, anchors).intact


def test_a_read_whose_answer_shows_nothing_is_shown_as_it_is_under_the_lock(
    router: Router, world: Database
) -> None:
    """A lookup that found nothing has nothing to withhold: its own words are truer than
    "try again", and its event is journaled (as the database's own trouble is)."""
    router.audit_budget = 0.3
    with WriteLock(world).held():
        reply = router.handle(CAROL, "/customer 919999999999")
    assert not reply.ok and reply.text != WITHHELD
    assert not reply.sections and not reply.tables
    assert len(journaled(router)) == 1


def test_a_change_under_a_held_write_lock_does_nothing_and_says_so(
    router: Router, world: Database, anchors: Path
) -> None:
    before = unwritten("ticket open", "refused")
    opened = tickets(world)
    with WriteLock(world).held():
        routed = router.route(CAROL, '/ticket open 919876543210 "no dial tone"')
    assert (routed.reply.ok, routed.reply.text, routed.reply.hint) == (False, NOT_RUN, TRY_AGAIN)
    assert tickets(world) == opened
    assert rows(world) == []
    assert unwritten("ticket open", "refused") == before + 1

    done = router.handle(CAROL, '/ticket open 919876543210 "no dial tone"')
    assert done.ok and done.text.endswith("opened: no dial tone")
    assert tickets(world) == opened + 1
    assert [(e.command, e.outcome) for e in rows(world)] == [
        ("ticket open", Outcome.FAILED),  # the refused one, from the journal
        ("ticket open", Outcome.REQUESTED),
        ("ticket open", Outcome.OK),
    ]
    assert rows(world)[0].detail.startswith(NOT_RUN)


def test_a_change_whose_outcome_cannot_be_stored_is_journaled_then_chained(
    world: Database, anchors: Path
) -> None:
    """The lock is taken between the change and its outcome event: the change happened,
    so the answer is shown and the event waits in the journal (saying "try again" would
    open a second ticket); the next audit write stores it, and the trail verifies."""
    lock = WriteLock(world)
    registry = Registry(dict(load_skills().commands))
    real = registry.commands[("ticket", "open")]

    def open_then_lock(ctx: Any, args: Any) -> Any:
        reply = real.fn(ctx, args)
        lock.take()
        return reply

    registry.commands[("ticket", "open")] = dataclasses.replace(real, fn=open_then_lock)
    router = router_for(world, anchors, registry)
    router.audit_budget = 0.3
    before = unwritten("ticket open", "journaled")
    try:
        reply = router.handle(CAROL, '/ticket open 919876543210 "no dial tone"')
    finally:
        lock.release()
    assert reply.ok and reply.text.endswith("opened: no dial tone")
    assert tickets(world) == 1
    assert unwritten("ticket open", "journaled") == before + 1
    assert [(e.command, e.outcome) for e in rows(world)] == [("ticket open", Outcome.REQUESTED)]
    (line,) = journaled(router)
    assert '"outcome":"ok"' in line

    assert router.handle(CAROL, "/ops whoami").ok  # the next write stores the journal first
    assert [(e.command, e.outcome) for e in rows(world)] == [
        ("ticket open", Outcome.REQUESTED),
        ("ticket open", Outcome.OK),
        ("ops whoami", Outcome.OK),
    ]
    assert journaled(router) == []
    assert anchor_chain(world, anchors).result == "written"
    check = verify_trail(world, anchors)
    assert check.intact and check.events == 3


def test_the_anchor_job_stores_the_journal_before_it_anchors(
    router: Router, world: Database, anchors: Path
) -> None:
    router.audit_budget = 0.3
    with WriteLock(world).held():
        assert router.handle(CAROL, "/ops whoami").ok  # about the bot: shown, journaled
    assert len(journaled(router)) == 1 and rows(world) == []
    run = anchor_chain(world, anchors)
    assert run.result == "written" and run.anchor is not None and run.anchor.event == 1
    assert [(e.command, e.outcome) for e in rows(world)] == [("ops whoami", Outcome.OK)]
    assert journaled(router) == []
    assert verify_trail(world, anchors).intact


def test_a_secret_typed_while_the_trail_is_locked_does_not_rest_in_the_journal(
    router: Router, world: Database
) -> None:
    router.audit_budget = 0.3
    with WriteLock(world).held():
        router.handle(CAROL, "/ops help password=hunter2")
    (line,) = journaled(router)
    assert "hunter2" not in line and "password=********" in line


#: A read from each skill, with who may run it: each shows data when the trail can be
#: written, and is withheld when it cannot.
READS = [
    ("alice", "/alarm list"),
    ("alice", "/inventory show r1-mum"),
    ("alice", "/network health"),
    ("alice", "/config history r1-mum"),
    ("carol", "/ticket list"),
    ("carol", "/customer 919876543210"),
    ("carol", "/bill 919876543210"),
    ("carol", "/credit list"),
    ("carol", "/order list"),
    ("dave", "/revenue"),
    ("erin", "/fraud cases"),
    ("dave", "/digest list"),
    ("root", "/audit recent"),
]


def test_a_read_from_every_skill_is_withheld_when_the_trail_cannot_be_written(
    router: Router, world: Database
) -> None:
    router.audit_budget = 0.3
    names = []
    for who, text in READS:
        routed = router.route(ACCESS.user(who), text)
        assert routed.command in policy.READS, text
        names.append(routed.command)
        assert routed.reply.ok, (text, routed.reply.text)
        with WriteLock(world).held():
            withheld = router.route(ACCESS.user(who), text)
        assert (withheld.reply.text, withheld.reply.data) == (WITHHELD, None), text
        assert len(journaled(router)) == 1  # the next run stores it
    assert router.handle(ACCESS.user("dave"), "/ops whoami").ok
    kept = [e.command for e in rows(world) if e.detail.startswith(WITHHELD)]
    assert kept == names  # each withheld answer is in the trail, in order


def test_every_command_is_classified_for_the_audit_once() -> None:
    classes = (policy.CHANGES, policy.READS, policy.ABOUT_THE_BOT)
    assert set(policy.COMMANDS) == policy.CHANGES | policy.READS | policy.ABOUT_THE_BOT
    for i, a in enumerate(classes):
        for b in classes[i + 1 :]:
            assert not a & b, a & b
    assert {c.name for c in load_skills().commands.values()} <= set(policy.COMMANDS)


def test_a_long_journal_is_the_anchor_job_s_and_a_command_does_not_wait_for_it(
    router: Router, world: Database, anchors: Path
) -> None:
    """After a long outage the journal holds thousands of events: the first command stores
    its own event at once (it does not hold the chain while thousands are stored), and the
    anchor job stores them all in batches; the trail verifies."""
    from domain.audit import services
    from domain.audit.journal import PendingEvent
    from domain.audit.services import keep_in_journal

    at = router.clock()
    for _ in range(1_200):
        keep_in_journal(
            router.journal,
            PendingEvent(actor="carol", command="ops whoami", outcome=Outcome.OK, at=at),
        )
    assert router.journal.stat().st_size > services.INLINE_JOURNAL_BYTES
    started = time.monotonic()
    assert router.handle(CAROL, "/ops whoami").ok
    assert time.monotonic() - started < 1.0
    assert len(rows(world)) == 1 and len(journaled(router)) == 1_200
    run = anchor_chain(world, anchors)
    assert run.result == "written"
    assert len(rows(world)) == 1_201 and journaled(router) == []
    check = verify_trail(world, anchors)
    assert check.intact and check.events == 1_201


def test_a_command_does_not_wait_while_the_anchor_job_drains_the_journal(
    router: Router, world: Database
) -> None:
    """The journal held by a drain in progress: a command stores its own event alone."""
    from domain.audit import journal
    from domain.audit.journal import PendingEvent
    from domain.audit.services import keep_in_journal

    keep_in_journal(
        router.journal,
        PendingEvent(actor="carol", command="ops whoami", outcome=Outcome.OK, at=router.clock()),
    )
    with journal.draining(router.journal, time.monotonic() + 1):  # another drain holds it
        started = time.monotonic()
        assert router.handle(CAROL, "/ops whoami").ok
        assert time.monotonic() - started < 1.0
    assert len(rows(world)) == 1 and len(journaled(router)) == 1
