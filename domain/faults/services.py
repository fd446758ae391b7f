"""Fault services: tickets follow TMF621, alarms are one per fingerprint."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain import policy
from domain.config import Role
from domain.db import Database, get_by_ref, utcnow
from domain.errors import DomainError, PolicyViolation
from domain.faults.choices import (
    ALARM_LIFECYCLE,
    TICKET_LIFECYCLE,
    AckState,
    AlarmSource,
    AlarmState,
    PerceivedSeverity,
    TicketEventKind,
    TicketKind,
    TicketStatus,
    check_severity,
)
from domain.faults.models import Alarm, AlarmStorm, Ticket, TicketEvent
from domain.privacy import mask_text


def column_length(column: Any) -> int:
    """The most characters a bounded string column holds (Alarm.summary: 400)."""
    length = column.property.columns[0].type.length
    assert isinstance(length, int), f"{column} is not a bounded string column"
    return length


TITLE_MAX = column_length(Ticket.title)

#: What a sender's alert may put in a bounded alarm column, cut to fit before it is stored:
#: a 200-character alertname is a 500 on PostgreSQL (varchar(120)) and silently kept whole
#: on SQLite otherwise. The fingerprint is an identity, never cut: the webhooks refuse a
#: longer one (422).
ALARM_TYPE_MAX = column_length(Alarm.alarm_type)
ALARM_SUMMARY_MAX = column_length(Alarm.summary)


def fit(text: str, limit: int) -> str:
    """The text whole if it fits in `limit` characters, else cut to fit, ending in an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def open_ticket(
    session: Session,
    *,
    title: str,
    severity: int,
    reporter: str,
    sla_hours: Mapping[int, float],
    kind: TicketKind = TicketKind.INCIDENT,
    description: str = "",
    device_id: int | None = None,
    customer_id: int | None = None,
    subscription_id: int | None = None,
    invoice_id: int | None = None,
    now: datetime | None = None,
    cut: bool = False,
) -> Ticket:
    """Open a ticket with its SLA due time from its severity; `cut` fits a long title
    (from monitoring, which cannot be asked again) instead of refusing it."""
    now = now or utcnow()
    # Identifiers and secrets typed into a title or description are masked before they
    # are stored; the original is not kept (domain/privacy.py).
    title = mask_text(" ".join(title.split()))
    if cut:
        title = fit(title, TITLE_MAX)
    if not title:
        raise DomainError("a ticket needs a title", hint='quote it: "Link down at Andheri"')
    if len(title) > TITLE_MAX:
        raise DomainError(f"the title is {len(title)} characters; at most {TITLE_MAX}")
    check_severity(severity)
    ticket = Ticket(
        kind=kind,
        title=title,
        description=mask_text(description),
        severity=severity,
        status=TicketStatus.ACKNOWLEDGED,
        reporter=reporter,
        device_id=device_id,
        customer_id=customer_id,
        subscription_id=subscription_id,
        invoice_id=invoice_id,
        sla_due_at=now + timedelta(hours=sla_hours[severity]),
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    _history(
        session,
        ticket,
        reporter,
        TicketEventKind.CREATED,
        title,
        now,
        to_status=TicketStatus.ACKNOWLEDGED,
    )
    return ticket


def get_ticket(session: Session, ref: str) -> Ticket:
    return get_by_ref(session, Ticket, ref, "ticket")


def move_ticket(
    session: Session,
    ref: str,
    to: TicketStatus,
    actor: str,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Move a ticket to another status, if TMF621 allows it; kept in its history."""
    now = now or utcnow()
    note = mask_text(note)
    ticket = get_ticket(session, ref)
    TICKET_LIFECYCLE.check(ticket.ref, ticket.status, to)
    if to == TicketStatus.RESOLVED and not (note or ticket.resolution):
        raise DomainError(
            f"say how {ticket.ref} was resolved",
            hint=f'/ticket resolve {ticket.ref} "what fixed it"',
        )
    before = ticket.status
    ticket.status = to
    ticket.updated_at = now
    if to == TicketStatus.RESOLVED:
        ticket.resolution = note or ticket.resolution
        ticket.resolved_at = now
    elif before == TicketStatus.RESOLVED and to == TicketStatus.IN_PROGRESS:
        ticket.resolved_at = None  # reopened: the SLA clock runs again
    _history(session, ticket, actor, TicketEventKind.STATUS, note, now, before, to)
    return ticket


def assign_ticket(
    session: Session, ref: str, assignee: str, actor: str, now: datetime | None = None
) -> Ticket:
    now = now or utcnow()
    ticket = get_ticket(session, ref)
    if TICKET_LIFECYCLE.is_final(ticket.status):
        raise DomainError(f"ticket {ticket.ref} is {ticket.status}; it cannot be reassigned")
    ticket.assignee = assignee
    ticket.updated_at = now
    _history(session, ticket, actor, TicketEventKind.ASSIGNED, assignee, now)
    return ticket


def add_note(
    session: Session, ref: str, text: str, actor: str, now: datetime | None = None
) -> Ticket:
    now = now or utcnow()
    ticket = get_ticket(session, ref)
    if not text.strip():
        raise DomainError("the note is empty", hint=f'/ticket note {ticket.ref} "what you found"')
    ticket.updated_at = now
    _history(session, ticket, actor, TicketEventKind.NOTE, text.strip(), now)
    return ticket


def _history(
    session: Session,
    ticket: Ticket,
    actor: str,
    kind: TicketEventKind,
    text: str,
    at: datetime,
    from_status: TicketStatus | None = None,
    to_status: TicketStatus | None = None,
) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            actor=actor,
            kind=kind,
            text=mask_text(text),
            at=at,
            from_status=from_status,
            to_status=to_status,
        )
    )


# -- the ticket desk's use-cases: each owns its transaction and returns what happened ------


@dataclass(frozen=True)
class TicketSummary:
    """A ticket as a step left it: what the one who took the step is told."""

    ref: str
    title: str
    kind: TicketKind
    status: TicketStatus
    severity: int
    assignee: str | None
    sla_due_at: datetime
    resolved_at: datetime | None
    #: Resolved after its SLA, or still open past it, at the time of the step.
    breached: bool


def _summary(ticket: Ticket, now: datetime) -> TicketSummary:
    return TicketSummary(
        ref=ticket.ref,
        title=ticket.title,
        kind=ticket.kind,
        status=ticket.status,
        severity=ticket.severity,
        assignee=ticket.assignee,
        sla_due_at=ticket.sla_due_at,
        resolved_at=ticket.resolved_at,
        breached=ticket.breached(now),
    )


def check_may_work(ref: str, kind: TicketKind, roles: Iterable[Role]) -> None:
    """Refuse, in one line naming the kind and who works it, someone whose roles do not
    work tickets of this kind (policy.TICKET_KINDS)."""
    held = frozenset(roles)
    if not policy.may_work_ticket(held, kind):
        raise PolicyViolation(
            policy.ticket_refusal(ref, kind, held),
            hint=f"ask one of them to take it; /ticket show {ref} says who has it"
            if ref.startswith("T-")
            else "ask one of them to open it",
        )


def _workable(session: Session, ref: str, roles: Iterable[Role]) -> Ticket:
    ticket = get_ticket(session, ref)
    check_may_work(ticket.ref, ticket.kind, roles)
    return ticket


def file_ticket(
    db: Database,
    about: str,
    *,
    title: str,
    severity: int,
    reporter: str,
    roles: Iterable[Role],
    sla_hours: Mapping[int, float],
    now: datetime,
) -> TicketSummary:
    """Open a ticket about what `about` names (a device, a line, an account or a customer,
    as the lookup grammar reads it), in one transaction.

    About a device it is an incident; about a line, account or customer, a request; the
    reporter's roles must work that kind (policy.TICKET_KINDS).
    """
    from domain.lookup import TICKET_SUBJECT, resolve_subject

    with db.transaction() as s:
        subject = resolve_subject(s, about, TICKET_SUBJECT)
        kind = TicketKind.INCIDENT if subject.device_id else TicketKind.SERVICE_REQUEST
        check_severity(severity)  # what was typed is checked before who typed it
        check_may_work(f"a ticket about {about}", kind, roles)
        ticket = open_ticket(
            s,
            title=title,
            severity=severity,
            reporter=reporter,
            sla_hours=sla_hours,
            now=now,
            kind=kind,
            device_id=subject.device_id,
            subscription_id=subject.subscription_id,
            customer_id=subject.customer_id,
        )
        return _summary(ticket, now)


def give_ticket(
    db: Database,
    ref: str,
    assignee: str,
    *,
    actor: str,
    roles: Iterable[Role],
    assignee_roles: Iterable[Role],
    now: datetime,
) -> TicketSummary:
    """Assign a ticket to someone, in one transaction: the actor and the assignee must
    both work its kind (nobody is handed a ticket they may not move)."""
    with db.transaction() as s:
        ticket = _workable(s, ref, roles)
        theirs = frozenset(assignee_roles)
        if not policy.may_work_ticket(theirs, ticket.kind):
            have = ", ".join(sorted(r.value for r in theirs)) or "no role"
            raise PolicyViolation(
                f"{ticket.ref} is a {policy.TICKET_KIND_NAMES[ticket.kind]}: "
                f"{policy.people(policy.TICKET_KINDS[ticket.kind])} work those, and "
                f"{assignee} has {have}",
                hint=f"assign it to one of them, or `/ticket assign {ticket.ref} me`",
            )
        return _summary(assign_ticket(s, ref, assignee, actor, now=now), now)


def note_ticket(
    db: Database, ref: str, text: str, *, actor: str, roles: Iterable[Role], now: datetime
) -> TicketSummary:
    """Add a note to a ticket's history, in one transaction (if the actor works its kind)."""
    with db.transaction() as s:
        _workable(s, ref, roles)
        return _summary(add_note(s, ref, text, actor, now=now), now)


def set_ticket_status(
    db: Database,
    ref: str,
    to: TicketStatus,
    *,
    actor: str,
    roles: Iterable[Role],
    note: str = "",
    now: datetime,
) -> TicketSummary:
    """Move a ticket to another status (resolve it with a note saying what fixed it),
    in one transaction, if the actor works its kind."""
    with db.transaction() as s:
        _workable(s, ref, roles)
        return _summary(move_ticket(s, ref, to, actor, note=note, now=now), now)


# -- alarms -------------------------------------------------------------------------------


def alarms_by_fingerprint(session: Session, fingerprints: Iterable[str]) -> dict[str, Alarm]:
    """The alarms of these fingerprints, locked for the caller's transaction: one query."""
    wanted = list(dict.fromkeys(fingerprints))
    if not wanted:
        return {}
    found = session.scalars(sa.select(Alarm).where(Alarm.fingerprint.in_(wanted)).with_for_update())
    return {a.fingerprint: a for a in found}


def raise_alarm(
    session: Session,
    *,
    fingerprint: str,
    source: AlarmSource,
    alarm_type: str,
    severity: PerceivedSeverity,
    summary: str,
    device_id: int | None = None,
    description: str = "",
    labels: Mapping[str, Any] | None = None,
    service_affecting: bool = False,
    now: datetime | None = None,
    raised_at: datetime | None = None,
) -> tuple[Alarm, bool]:
    """Raise or update the alarm for a fingerprint; returns (alarm, is_new).

    What monitoring sent is scanned as a person's text is: identifiers and secrets in the
    summary, description and label values are masked before they are stored.
    """
    alarm, is_new = raise_among(
        session,
        alarms_by_fingerprint(session, [fingerprint]),
        fingerprint=fingerprint,
        source=source,
        alarm_type=alarm_type,
        severity=severity,
        summary=summary,
        device_id=device_id,
        description=description,
        labels=labels,
        service_affecting=service_affecting,
        now=now,
        raised_at=raised_at,
    )
    if alarm.id is None:
        session.add(alarm)
        session.flush()
    return alarm, is_new


def raise_among(
    session: Session,
    known: dict[str, Alarm],
    *,
    fingerprint: str,
    source: AlarmSource,
    alarm_type: str,
    severity: PerceivedSeverity,
    summary: str,
    device_id: int | None = None,
    description: str = "",
    labels: Mapping[str, Any] | None = None,
    service_affecting: bool = False,
    now: datetime | None = None,
    raised_at: datetime | None = None,
    mask: Callable[[str], str] = mask_text,
) -> tuple[Alarm, bool]:
    """`raise_alarm` among alarms already loaded (`known`, by fingerprint, from
    `alarms_by_fingerprint`): no query. A new alarm is added to `known` only (it has no
    id yet): the caller stores it, with `insert_alarms` for a batch's new alarms together.

    `raised_at` (default `now`) is when the fault began, `now` when it was heard of.
    `mask` is mask_text, or a batch's memo of it (a flood repeats the same names,
    severities and summaries thousands of times).
    """
    now = now or utcnow()
    raised_at = raised_at or now
    # Cut after masking: a mask may be longer than what it hides.
    summary, description = fit(mask(summary), ALARM_SUMMARY_MAX), mask(description)
    alarm_type = fit(alarm_type, ALARM_TYPE_MAX)
    if labels:
        labels = {k: mask(v) if isinstance(v, str) else v for k, v in labels.items()}
    alarm = known.get(fingerprint)
    if alarm is None:
        alarm = Alarm(
            fingerprint=fingerprint,
            source=source,
            alarm_type=alarm_type,
            perceived_severity=severity,
            state=AlarmState.RAISED,
            summary=summary,
            device_id=device_id,
            description=description,
            labels=dict(labels or {}),
            service_affecting=service_affecting,
            raised_at=raised_at,
            updated_at=now,
            ack_state=AckState.UNACKNOWLEDGED,
            repeat_count=1,
            revision=1,
            posted_revision=0,
        )
        known[fingerprint] = alarm
        return alarm, True
    if alarm.state == AlarmState.CLEARED:
        ALARM_LIFECYCLE.check(alarm.ref, alarm.state, AlarmState.RAISED)
        alarm.state = AlarmState.RAISED
        alarm.raised_at = raised_at
        alarm.cleared_at = None
        alarm.ack_state = AckState.UNACKNOWLEDGED
        alarm.acked_by = alarm.acked_at = None
        alarm.touch()
        is_new = True
    else:
        alarm.state = AlarmState.UPDATED
        if alarm.perceived_severity != severity or alarm.summary != summary:
            alarm.touch()
        is_new = False
    alarm.perceived_severity = severity
    alarm.summary = summary
    alarm.description = description or alarm.description
    alarm.labels = dict(labels or alarm.labels)
    alarm.updated_at = now
    alarm.repeat_count += 1
    return alarm, is_new


def insert_alarms(session: Session, alarms: Sequence[Alarm]) -> None:
    """Store new alarms (from `raise_among`) in one INSERT and give them their ids.

    The ORM would insert them one at a time on SQLite, to learn each id in order, and a
    multi-row INSERT ... RETURNING is slow to parse on PostgreSQL; so a plain executemany,
    then the ids read back by fingerprint (unique). The objects are not made the
    session's (that costs more than the insert): set everything on them first; later
    changes go through a query.
    """
    if not alarms:
        return
    table = Alarm.__table__
    columns = [c.key for c in sa.inspect(Alarm).column_attrs if c.key != "id"]
    rows = [{k: getattr(a, k) for k in columns} for a in alarms]
    session.execute(sa.insert(table), rows)  # type: ignore[arg-type]
    fingerprints = [a.fingerprint for a in alarms]
    ids: dict[str, int] = {
        fingerprint: id_
        for fingerprint, id_ in session.execute(
            sa.select(Alarm.fingerprint, Alarm.id).where(Alarm.fingerprint.in_(fingerprints))
        )
    }
    for alarm in alarms:
        alarm.id = ids[alarm.fingerprint]


def clear_alarm(session: Session, fingerprint: str, now: datetime | None = None) -> Alarm | None:
    """Clear the alarm for a fingerprint; None when there is none (a late resolve)."""
    return clear_among(alarms_by_fingerprint(session, [fingerprint]), fingerprint, now=now)


def clear_among(
    known: Mapping[str, Alarm],
    fingerprint: str,
    *,
    now: datetime | None = None,
    cleared_at: datetime | None = None,
) -> Alarm | None:
    """`clear_alarm` among alarms already loaded (`known`, by fingerprint): no query.

    `cleared_at` (default `now`) is when the fault ended, `now` when it was heard of.
    """
    now = now or utcnow()
    alarm = known.get(fingerprint)
    if alarm is None or alarm.state == AlarmState.CLEARED:
        return alarm
    ALARM_LIFECYCLE.check(alarm.ref, alarm.state, AlarmState.CLEARED)
    alarm.state = AlarmState.CLEARED
    alarm.cleared_at = cleared_at or now
    alarm.updated_at = now
    alarm.touch()
    return alarm


def get_alarm(session: Session, ref: str) -> Alarm:
    return get_by_ref(session, Alarm, ref, "alarm")


def acknowledge_alarm(session: Session, ref: str, actor: str, now: datetime | None = None) -> Alarm:
    now = now or utcnow()
    alarm = get_alarm(session, ref)
    if alarm.ack_state == AckState.ACKNOWLEDGED:
        raise DomainError(f"alarm {alarm.ref} was already acknowledged by {alarm.acked_by}")
    alarm.ack_state = AckState.ACKNOWLEDGED
    alarm.acked_by = actor
    alarm.acked_at = now
    alarm.touch()
    return alarm


@dataclass(frozen=True)
class AlarmAcknowledged:
    alarm: str
    acked_by: str
    acked_at: datetime


def ack_alarm(db: Database, ref: str, actor: str, *, now: datetime) -> AlarmAcknowledged:
    """Acknowledge an alarm (someone is on it), once, in one transaction."""
    with db.transaction() as s:
        alarm = acknowledge_alarm(s, ref, actor, now=now)
        return AlarmAcknowledged(alarm.ref, actor, now)


# -- alarm messages -----------------------------------------------------------------------

#: A storm is over after this long without a new alarm joining it.
STORM_QUIET = timedelta(minutes=1)


def alarms_to_post(session: Session, limit: int = 200) -> list[Alarm]:
    """Alarms whose chat message is behind their last change, oldest first."""
    return list(
        session.scalars(
            sa.select(Alarm)
            .where(Alarm.revision > Alarm.posted_revision)
            .order_by(Alarm.id)
            .limit(limit)
        )
    )


def mark_posted(
    session: Session,
    alarm_id: int,
    revision: int,
    *,
    channel: str | None = None,
    ts: str | None = None,
    storm_id: int | None = None,
) -> None:
    """Record that the alarm's message shows `revision` (never moving it backwards)."""
    values: dict[str, Any] = {"posted_revision": revision}
    if ts is not None:
        values |= {"slack_channel": channel, "slack_ts": ts}
    if storm_id is not None:
        values["storm_id"] = storm_id
    session.execute(
        sa.update(Alarm)
        .where(Alarm.id == alarm_id, Alarm.posted_revision < revision)
        .values(**values)
    )


def record_posted(
    db: Database,
    alarm_id: int,
    revision: int,
    *,
    channel: str | None = None,
    ts: str | None = None,
) -> None:
    """`mark_posted` in its own transaction: the alarm's message now shows `revision`."""
    with db.transaction() as s:
        mark_posted(s, alarm_id, revision, channel=channel, ts=ts)


def current_storm(session: Session, now: datetime) -> AlarmStorm | None:
    """The storm still going on: one that an alarm joined within the last quiet minute."""
    return session.scalars(
        sa.select(AlarmStorm)
        .where(AlarmStorm.last_at > now - STORM_QUIET)
        .order_by(AlarmStorm.id.desc())
        .limit(1)
    ).one_or_none()


def join_storm(db: Database, alarms: Sequence[tuple[int, int]], now: datetime) -> int:
    """Report (alarm id, revision) pairs in the storm going on, starting one when none is;
    returns the storm's id. One transaction."""
    with db.transaction() as s:
        storm = current_storm(s, now)
        if storm is None:
            storm = AlarmStorm(started_at=now, last_at=now)
            s.add(storm)
            s.flush()
        storm.last_at = now
        storm.revision = (storm.revision or 0) + 1
        for alarm_id, revision in alarms:
            mark_posted(s, alarm_id, revision, storm_id=storm.id)
        return storm.id


def storm_member_changed(db: Database, alarm_id: int, revision: int, storm_id: int) -> None:
    """An alarm in a storm changed: its change is told by the storm's summary, which is
    now behind. One transaction."""
    with db.transaction() as s:
        mark_posted(s, alarm_id, revision)
        s.execute(
            sa.update(AlarmStorm)
            .where(AlarmStorm.id == storm_id)
            .values(revision=AlarmStorm.revision + 1)
        )


def storms_to_post(session: Session) -> list[tuple[int, int]]:
    """(storm id, revision) of the storms whose chat summary is behind, oldest first."""
    rows = session.execute(
        sa.select(AlarmStorm.id, AlarmStorm.revision)
        .where(AlarmStorm.revision > AlarmStorm.posted_revision)
        .order_by(AlarmStorm.id)
    )
    return [(storm_id, revision) for storm_id, revision in rows]


def mark_storm_posted(
    db: Database,
    storm_id: int,
    revision: int,
    *,
    channel: str | None = None,
    ts: str | None = None,
) -> None:
    """Record that the storm's summary shows `revision` (never moving it backwards), and
    where it was posted, so later passes update it in place."""
    values: dict[str, Any] = {"posted_revision": revision}
    if ts is not None:
        values |= {"slack_channel": channel, "slack_ts": ts}
    with db.transaction() as s:
        s.execute(
            sa.update(AlarmStorm)
            .where(AlarmStorm.id == storm_id, AlarmStorm.posted_revision < revision)
            .values(**values)
        )
