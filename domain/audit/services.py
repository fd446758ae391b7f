"""Audit services: append-only, HMAC-chained events and their anchors; redaction; the
idempotency ledger.

Each event's seal is an HMAC-SHA256, with an audit key kept outside the database
(domain/audit/keys.py), over the previous event's seal and the event's own content and
id; the row records the key's id. A writer with database access but not the key can
neither edit, insert nor recompute a row unnoticed; cutting off the newest rows is
noticed through the anchor file (domain/audit/anchors.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domain.audit import journal
from domain.audit.anchors import Anchor, append_anchor, read_anchors
from domain.audit.choices import Outcome
from domain.audit.journal import JournalBusy, PendingEvent
from domain.audit.keys import AuditKey, AuditKeyError, Keyring, keyring, sealing_keyring
from domain.audit.models import AuditEvent, ProcessedRequest
from domain.audit.queries import chain_head
from domain.config import AuditSettings
from domain.db import Database, utcnow
from domain.errors import DatabaseUnavailable, DomainError
from domain.privacy import AUDIT_KEEPS, mask_text

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_CHAIN_LOCK = 0x5357_4155  # "SWAU": one writer extends the chain at a time


def _content(event: AuditEvent) -> list[object]:
    return [
        event.at.isoformat(),
        event.actor,
        event.roles,
        event.channel,
        event.command,
        event.arguments,
        str(event.outcome),
        event.detail,
        event.duration_ms,
    ]


def _digest(prev_hash: str, event: AuditEvent) -> str:
    """The unkeyed SHA-256 seal of rows written before audit keys (key_id "")."""
    fields: list[object] = [prev_hash, *_content(event)]
    # `via` came with revision 0002; rows from before it carry "" and keep their seals.
    if event.via:
        fields.append(event.via)
    body = json.dumps(
        fields,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _seal(prev_hash: str, event: AuditEvent, key: AuditKey) -> str:
    """HMAC-SHA256 over the previous seal, the event's id, content and the key's id."""
    fields = ["v2", key.id, event.id, prev_hash, *_content(event), event.via]
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return key.mac(body.encode())


def record_event(
    session: Session,
    *,
    actor: str,
    command: str,
    outcome: Outcome,
    roles: Iterable[str] = (),
    channel: str = "",
    via: str = "",
    arguments: str = "",
    detail: str = "",
    duration_ms: int = 0,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event, sealed with an HMAC over the seal of the one before it."""
    key = sealing_keyring().sealing  # from memory; the key file is read when it changes
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    # (On SQLite the write transaction already holds the database's single write lock.)
    # Under the chain lock the next id is the head's plus one, so the seal can cover it.
    head = chain_head(session)
    event = AuditEvent(
        id=head.event + 1 if head else 1,
        at=at or utcnow(),
        actor=actor[:64],
        roles=",".join(sorted(str(r) for r in roles))[:120],
        channel=channel[:64],
        via=via[:20],
        command=command[:120],
        arguments=visible(redact(arguments))[:4000],
        outcome=outcome,
        detail=visible(redact(detail))[:4000],
        duration_ms=duration_ms,
        prev_hash=head.seal if head else GENESIS,
        hash="",
        key_id=key.id,
    )
    event.hash = _seal(event.prev_hash, event, key)
    session.add(event)
    session.flush()
    return event


def audit(
    db: Database,
    *,
    actor: str,
    command: str,
    outcome: Outcome,
    roles: Iterable[str] = (),
    channel: str = "",
    via: str = "",
    arguments: str = "",
    detail: str = "",
    duration_ms: int = 0,
    at: datetime | None = None,
) -> None:
    """`record_event` in its own transaction: one command, click or refusal, kept."""
    with db.transaction() as s:
        record_event(
            s,
            actor=actor,
            command=command,
            outcome=outcome,
            roles=roles,
            channel=channel,
            via=via,
            arguments=arguments,
            detail=detail,
            duration_ms=duration_ms,
            at=at,
        )


# -- storing within a budget, or keeping in the journal ----------------------------------

#: How long a command waits for its audit event to be stored (retrying while the
#: database is locked or away) before it is refused or its answer withheld.
STORE_BUDGET_S = 2.0


class AuditUnwritten(DomainError):
    """The audit event could not be stored within its budget."""


class _QueueBusy(Exception):
    """This process's own writers kept the database for the whole budget."""


#: Errors that mean "not now" (locked, lock timeout, connection lost), worth a retry.
_TRANSIENT = (
    _QueueBusy,
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
    DatabaseUnavailable,
    JournalBusy,
)


@contextmanager
def _bounded_transaction(db: Database, seconds: float) -> Iterator[Session]:
    """A write transaction that waits at most `seconds` for the database's locks.

    SQLite waits for its write lock as long as the connection's busy timeout (30 s for
    every other writer), so this connection's is cut to the budget while it writes;
    PostgreSQL's lock_timeout bounds the chain lock and any table lock the same way.
    """
    ms = max(1, int(seconds * 1000))
    if db.dialect == "sqlite":
        # This process's writers take SQLite's lock in turn through the database's own
        # queue (domain/db.py); wait there within the budget too, then for other processes.
        deadline = time.monotonic() + seconds
        queue = db._write_lock
        acquire = getattr(queue, "acquire", None)
        if acquire is not None and not acquire(timeout=seconds):
            raise _QueueBusy("this process's other writers held the database throughout")
        try:
            left = max(1, int((deadline - time.monotonic()) * 1000))
            with db.engine.connect() as conn:
                raw = conn.connection.driver_connection
                assert raw is not None
                raw.execute(f"PRAGMA busy_timeout={left}")
                try:
                    conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
                    with Session(bind=conn) as s, s.begin():
                        yield s
                finally:
                    raw.execute("PRAGMA busy_timeout=30000")
        finally:
            if acquire is not None:
                queue.release()  # type: ignore[attr-defined]  # an RLock on SQLite
        return
    with db.transaction() as s:
        s.execute(sa.text(f"SET LOCAL lock_timeout = '{ms}ms'"))
        s.execute(sa.text(f"SET LOCAL statement_timeout = '{ms}ms'"))
        yield s


def _record(s: Session, event: PendingEvent, note: str = "") -> AuditEvent:
    return record_event(
        s,
        actor=event.actor,
        command=event.command,
        outcome=event.outcome,
        roles=event.roles,
        channel=event.channel,
        via=event.via,
        arguments=event.arguments,
        detail=f"{event.detail} {note}".strip() if note else event.detail,
        duration_ms=event.duration_ms,
        at=event.at,
    )


def _late_note(event: PendingEvent) -> str:
    kept = event.journaled_at.isoformat(timespec="seconds") if event.journaled_at else "?"
    return f"[stored late: kept in the audit journal at {kept}]"


#: A command stores what the journal holds with its own event only while the journal is
#: this small (a few hundred events); a longer one is the anchor job's, in batches, so the
#: first command after an outage does not hold the chain for seconds.
INLINE_JOURNAL_BYTES = 64 * 1024
#: Journaled events stored per transaction when the anchor job drains the journal.
DRAIN_BATCH = 500


def store_events(
    db: Database,
    events: Sequence[PendingEvent],
    *,
    journal_file: Path | None = None,
    budget: float = STORE_BUDGET_S,
) -> int:
    """Store `events` in the chain within `budget` seconds (retrying while the database
    is locked or away); AuditUnwritten if not.

    A short journal is stored first, in the same transaction; a long one, or one another
    writer holds (the anchor job draining it), is left to `drain_journal`, and `events`
    are stored alone. Returns how many journaled events were stored with them.
    """
    deadline = time.monotonic() + budget
    last: BaseException | None = None
    inline = journal_file if _short(journal_file) else None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            with contextlib.ExitStack() as stack:
                try:
                    # Wait for the journal only briefly: a drain holding it runs on its own.
                    soon = min(deadline, time.monotonic() + 0.05)
                    kept = stack.enter_context(journal.draining(inline, soon))
                except JournalBusy:
                    kept = journal.Drain([])
                with _bounded_transaction(db, left) as s:
                    for pending in kept.events:
                        _record(s, pending, _late_note(pending))
                    for event in events:
                        _record(s, event)
                kept.done()
                return len(kept.events)
        except _TRANSIENT as exc:
            last = exc
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    reason = str(getattr(last, "orig", None) or last or "no time left").splitlines()[0]
    raise AuditUnwritten(
        f"the audit event could not be stored within {budget:g} s ({reason})",
        "the database is locked or away; try again in a moment",
    )


def _short(journal_file: Path | None) -> bool:
    try:
        return journal_file is not None and journal_file.stat().st_size <= INLINE_JOURNAL_BYTES
    except OSError:
        return False


def redacted(event: PendingEvent) -> PendingEvent:
    """The event with its arguments and detail redacted as a stored row's are, so no
    secret typed into a command rests in the journal or the log either."""
    return replace(
        event,
        arguments=visible(redact(event.arguments)),
        detail=visible(redact(event.detail)),
    )


def keep_in_journal(journal_file: Path, event: PendingEvent, at: datetime | None = None) -> None:
    """Append `event` (redacted) to the journal, fsync'd, for the next audit write to
    store; OSError when the file cannot take it."""
    journal.append(journal_file, replace(redacted(event), journaled_at=at or utcnow()))


def drain_journal(db: Database, journal_file: Path, budget: float = STORE_BUDGET_S) -> int:
    """Store all the journal's events in the chain (the anchor job calls this), in
    transactions of DRAIN_BATCH events, each within `budget`; how many.

    The journal stays locked until every batch is stored, then is emptied; commands in
    the meantime store their own events without waiting for it. A crash part way stores
    the earlier batches again on the next drain (events are never lost, possibly twice).
    """
    if not journal.waiting(journal_file):
        return 0
    with journal.draining(journal_file, time.monotonic() + budget) as kept:
        for start in range(0, len(kept.events), DRAIN_BATCH):
            batch = kept.events[start : start + DRAIN_BATCH]
            deadline = time.monotonic() + budget
            while True:
                try:
                    with _bounded_transaction(db, max(deadline - time.monotonic(), 0.05)) as s:
                        for pending in batch:
                            _record(s, pending, _late_note(pending))
                    break
                except _TRANSIENT as exc:
                    if time.monotonic() >= deadline:
                        raise AuditUnwritten(
                            f"{start:,} of {len(kept.events):,} journaled audit events stored; "
                            f"the rest could not be within {budget:g} s ({exc})",
                            "the anchor job tries again at its next run",
                        ) from None
                    time.sleep(0.05)
        kept.done()
        return len(kept.events)


# -- verifying and anchoring ------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the trail, naming the first event it concerns."""

    event: int
    reason: str
    #: How the event is wrong: "is broken" (its row) or "is missing" (cut off).
    state: str = "is broken"
    #: What the finding is about when that is not an event (an anchor line, the file).
    subject: str = ""

    def describe(self) -> str:
        if self.subject:
            return f"{self.subject}: {self.reason}" if self.reason else self.subject
        return f"audit event {self.event} {self.state}: {self.reason}"


@dataclass(frozen=True)
class ChainCheck:
    events: int
    first_broken: int | None = None
    reason: str = ""
    findings: tuple[Finding, ...] = ()
    #: The newest event, and the newest one a signed anchor vouches for.
    last_event: int = 0
    anchored_through: int = 0
    anchored_at: str = ""
    #: Events newer than the last anchor (fine, but not yet protected against truncation).
    unanchored: int = 0
    #: Events sealed with plain SHA-256 before audit keys, vouched for by the first keyed one.
    unkeyed: int = 0
    key_ids: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        return not self.findings


def _check_row(event: AuditEvent, prev: str, keys: Keyring | None, keyed_yet: bool) -> str:
    """Why `event` is not what was sealed, or ""."""
    if event.prev_hash != prev:
        return "it does not point at the row before it (a row was removed or inserted)"
    if not event.key_id:
        if keyed_yet:
            return (
                "it is sealed without a key after events sealed with one "
                "(the chain was recomputed without the key)"
            )
        if _digest(prev, event) != event.hash:
            return "its contents do not match its seal (the row was changed)"
        return ""
    key = keys.get(event.key_id) if keys else None
    if key is None:
        return (
            f"it names audit key {event.key_id}, which is not among the keys here "
            "(sealed with another key, or a rotated key is missing)"
        )
    if _seal(prev, event, key) != event.hash:
        return "its contents do not match its seal (the row was changed)"
    return ""


def _age(keys: Keyring, kid: str) -> int:
    """A key's place in the key file (oldest 0); -1 for no key."""
    return next((i for i, k in enumerate(keys.keys) if k.id == kid), -1)


def _key_went_back(event: AuditEvent, newest: tuple[str, int], keys: Keyring | None) -> str:
    """Why `event` is sealed with a key older than one that already sealed an earlier
    event, or "". Keys only move forward (the key file's order), so an older key sealing
    after a newer one is a rotated-out, perhaps leaked, key still in use."""
    if not event.key_id or keys is None or not newest[0]:
        return ""
    if _age(keys, event.key_id) >= _age(keys, newest[0]):
        return ""
    return (
        f"it is sealed with audit key {event.key_id}, older than key {newest[0]} that "
        f"already sealed event {newest[1]} (keys only move forward: a rotated-out key "
        "sealed it)"
    )


def seal_matches(session: Session, event_id: int, keys: Keyring) -> bool:
    """Whether one event's seal checks with the key it names (or is a pre-key row)."""
    event = session.get(AuditEvent, event_id)
    if event is None:
        return False
    return not _check_row(event, event.prev_hash, keys, keyed_yet=bool(event.key_id))


def _anchor_keys_went_back(
    anchors: Sequence[Anchor], anchor_file: str, keys: Keyring | None
) -> list[Finding]:
    """The first anchor line signed with a key older than an earlier line's (keys only
    move forward, so a rotated-out key signed it)."""
    newest: Anchor | None = None
    for a in anchors:
        if not a.signed or keys is None:
            continue
        if newest is not None and _age(keys, a.key_id) < _age(keys, newest.key_id):
            return [
                Finding(
                    a.event,
                    f"it is signed with audit key {a.key_id}, older than key {newest.key_id} "
                    f"of line {newest.line} (keys only move forward: a rotated-out key "
                    "signed it)",
                    subject=f"anchor line {a.line} of {anchor_file}",
                )
            ]
        if newest is None or _age(keys, a.key_id) > _age(keys, newest.key_id):
            newest = a
    return []


def verify_chain(
    session: Session,
    keys: Keyring | None = None,
    anchors: Sequence[Anchor] = (),
    anchor_file: str = "the anchor file",
) -> ChainCheck:
    """Recompute every seal in order and hold the chain against the anchors.

    The first row that does not match is named; a signed anchor naming an event that is
    gone, or a seal that differs, shows the newest rows were cut off or rewritten.
    """
    keys = keys or keyring()
    findings: list[Finding] = []
    anchored = {a.event for a in anchors if a.signed}
    seals: dict[int, str] = {}
    prev = GENESIS
    count = unkeyed = last = 0
    keyed_yet = False
    used: dict[str, None] = {}
    #: The newest key that sealed an event so far, and the first event it sealed.
    newest: tuple[str, int] = ("", 0)
    query = sa.select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=5000)
    for event in session.execute(query).scalars():
        count += 1
        last = event.id
        if event.id in anchored:
            seals[event.id] = event.hash
        if findings:
            continue  # rows after a break cannot be trusted; count them and keep their seals
        if event.key_id and keys is None:
            raise AuditKeyError(
                "no audit key here: the seals cannot be checked",
                "set SWITCHBOARD_AUDIT_KEY or restore the key file (audit.key_file)",
            )
        why = _check_row(event, prev, keys, keyed_yet) or _key_went_back(event, newest, keys)
        if why:
            findings.append(Finding(event.id, why))
            continue
        if event.key_id:
            keyed_yet = True
            used[event.key_id] = None
            if keys is not None and _age(keys, event.key_id) > _age(keys, newest[0]):
                newest = (event.key_id, event.id)
        else:
            unkeyed += 1
        prev = event.hash

    anchored_through, anchored_at = 0, ""
    unreadable = [a for a in anchors if not a.readable]
    if unreadable:
        findings.append(
            Finding(
                0,
                "",
                subject=f"anchor line {unreadable[0].line} of {anchor_file} is not an anchor "
                "(unreadable)",
            )
        )
    findings.extend(_anchor_keys_went_back(anchors, anchor_file, keys))
    bad = [a for a in anchors if a.readable and not a.signed]
    if bad:
        a = bad[0]
        findings.append(
            Finding(
                a.event,
                f"anchor line {a.line} naming it is not signed by an audit key here "
                "(the line was edited or forged, or its key is missing)",
                "is unconfirmed",
            )
        )
    cut = [a for a in anchors if a.signed and a.event > last]
    if cut:
        a = max(cut, key=lambda x: x.event)
        findings.append(
            Finding(
                last + 1,
                f"the anchor of {a.at} names event {a.event}, the trail ends at "
                f"{last or 'nothing'} (the newest events were cut off)",
                "is missing",
            )
        )
    for a in anchors:
        if not a.signed or a.event > last:
            continue
        if a.event not in seals:
            findings.append(
                Finding(a.event, f"the anchor of {a.at} names it (it was deleted)", "is missing")
            )
            break
        if seals[a.event] != a.seal:
            findings.append(
                Finding(
                    a.event,
                    f"its seal differs from the one anchored at {a.at} "
                    "(the events up to it were rewritten)",
                )
            )
            break
        if a.event >= anchored_through:
            anchored_through, anchored_at = a.event, a.at
    if count and not keyed_yet and not anchored_through and not findings:
        findings.append(
            Finding(
                1,
                f"none of the {count:,} events is sealed with a key or anchored "
                "(plain SHA-256 seals anyone with database access can recompute)",
            )
        )
    first = findings[0] if findings else None
    return ChainCheck(
        events=count,
        first_broken=first.event if first else None,
        reason=first.reason if first else "",
        findings=tuple(findings),
        last_event=last,
        anchored_through=anchored_through,
        anchored_at=anchored_at,
        unanchored=_count_after(session, anchored_through) if count else 0,
        unkeyed=unkeyed,
        key_ids=tuple(used),
    )


def _count_after(session: Session, event_id: int) -> int:
    query = sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.id > event_id)
    return int(session.scalar(query) or 0)


def _anchors_expected(
    session: Session, anchors: Sequence[Anchor], anchor_file: Path, due_before: datetime
) -> list[Finding]:
    """No signed anchor at all, although events are older than two anchor intervals:
    the scheduler would have anchored them, so the anchor file was removed or emptied
    (or nothing anchors this trail). A trail younger than that is fine (a fresh install)."""
    if any(a.signed for a in anchors):
        return []
    row = session.execute(
        sa.select(sa.func.min(AuditEvent.id), sa.func.max(AuditEvent.id)).where(
            AuditEvent.at < due_before
        )
    ).first()
    if row is None or row[1] is None:
        return []
    where = "no anchor file" if not anchor_file.exists() else "no anchor in"
    return [
        Finding(
            int(row[0]),
            f"events up to {row[1]} are older than two anchor intervals, so anchors were "
            "expected (the file was removed or emptied, or nothing anchors this trail: "
            "`serve` runs the anchor job)",
            subject=f"{where} {anchor_file}",
        )
    ]


#: Ledger keys (bot/slack/edge.py delivery_key) of deliveries the router runs, each
#: writing an audit event: slash commands, clicks, form submissions (not Slack events such
#: as App Home opened, which write none).
_AUDITED_DELIVERIES = ("command:", "action:", "view:")


def _empty_with_activity(session: Session, check: ChainCheck) -> list[Finding]:
    """An empty trail on a database that ran Slack commands, clicks or forms: each wrote
    an audit event, so the events were deleted."""
    if check.events:
        return []
    key = ProcessedRequest.key
    query = sa.select(sa.func.count()).where(
        sa.or_(*(key.startswith(p, autoescape=True) for p in _AUDITED_DELIVERIES))
    )
    handled = int(session.scalar(query) or 0)
    if not handled:
        return []
    return [
        Finding(
            1,
            f"the database ran {handled:,} Slack commands, clicks or forms "
            "(processed_requests), each of which writes one, but holds no audit event "
            "(the events were deleted)",
            subject="the audit trail is empty",
        )
    ]


def verify_trail(
    db: Database,
    anchor_file: Path,
    anchor_every: timedelta | None = None,
    now: datetime | None = None,
) -> ChainCheck:
    """`switchboard audit verify`: the chain, held against the anchor file; an anchor
    file missing or empty for a trail older than two anchor intervals (`anchor_every`),
    and an empty trail on a database with activity, are findings too."""
    keys = keyring()
    if keys is None:
        raise AuditKeyError(
            "no audit key here: the seals cannot be checked",
            "set SWITCHBOARD_AUDIT_KEY or restore the key file (audit.key_file); "
            "`switchboard audit init` is for a new installation only",
        )
    every = anchor_every or timedelta(minutes=AuditSettings().anchor_every_minutes)
    anchors = read_anchors(anchor_file, keys)
    with db.read() as s:
        check = verify_chain(s, keys, anchors, str(anchor_file))
        more = _anchors_expected(s, anchors, anchor_file, (now or utcnow()) - 2 * every)
        more += _empty_with_activity(s, check)
    if not more:
        return check
    findings = (*check.findings, *more)
    return replace(
        check, findings=findings, first_broken=findings[0].event, reason=findings[0].reason
    )


@dataclass(frozen=True)
class AnchorRun:
    """What `anchor_chain` did: the anchor written or already there, or none."""

    anchor: Anchor | None
    #: "written", "unchanged" (the newest anchor already names the head), or "empty".
    result: str


def anchor_chain(db: Database, anchor_file: Path, now: datetime | None = None) -> AnchorRun:
    """Write the chain head to the anchor file, unless the newest anchor names it already.

    The head's own seal is checked with its key first: a forged last row is refused, not
    vouched for.
    """
    keys = sealing_keyring()
    # Events kept in the journal while the database could not take them go into the
    # chain first, so the anchor vouches for them too.
    try:
        drain_journal(db, journal.journal_beside(anchor_file, db.url))
    except AuditUnwritten as exc:  # anchor what is stored; the journal waits its turn
        log.warning("audit journal not stored yet: %s", exc)
    with db.read() as s:
        head = chain_head(s)
        if head is None:
            return AnchorRun(None, "empty")
        if not seal_matches(s, head.event, keys):
            raise DomainError(
                f"audit event {head.event} does not match its seal, so it is not anchored",
                "run `switchboard audit verify` to see what was changed",
            )
    signed = [a for a in read_anchors(anchor_file, keys) if a.signed]
    if signed and (signed[-1].event, signed[-1].seal) == (head.event, head.seal):
        return AnchorRun(signed[-1], "unchanged")
    return AnchorRun(append_anchor(anchor_file, head, keys.sealing, now or utcnow()), "written")


# -- redaction ---------------------------------------------------------------------------


def visible(text: str) -> str:
    """Control characters and line separators spelled out (`\\r`, `\\u2028`): an audit row
    reads as what was typed, and no typed character can fake a second line in it."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def redact(text: str) -> str:
    """Secrets, identity and card numbers and e-mail addresses masked as everywhere else
    (domain/privacy.py); mobile numbers are kept: care work is audited by the number it
    concerns."""
    return mask_text(text, keep=AUDIT_KEEPS)


# -- idempotency ---------------------------------------------------------------------------


def claim_request(session: Session, key: str, at: datetime | None = None) -> bool:
    """Record a delivery as handled; False if it was already (on any replica)."""
    values = {"key": key[:200], "seen_at": at or utcnow()}
    dialect = session.get_bind().dialect.name
    table = cast(sa.Table, ProcessedRequest.__table__)
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(**values)
    stmt = insert.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
    # A row comes back only when this call inserted it.
    return session.execute(stmt).first() is not None


def claim_delivery(db: Database, key: str, at: datetime | None = None) -> bool:
    """`claim_request` in its own transaction: False when a replica already had it."""
    with db.transaction() as s:
        return claim_request(s, key, at)
