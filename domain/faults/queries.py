"""What fault views show: alarm lists and cards, storm summaries, open alarms and tickets.

Every function reads only and takes a session. A figure that several views show (open
alarms, open alarms by site, tickets past their SLA) is counted once, in
`domain.figures`, so `/alarm list`, `/network health`, `/ticket list` and the digests
agree; the lists here use the same definitions.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.customers.models import Customer, Subscription
from domain.db import get_by_ref, make_ref
from domain.errors import DomainError
from domain.faults.choices import (
    AlarmState,
    PerceivedSeverity,
    TicketEventKind,
    TicketKind,
    TicketStatus,
    check_severity,
)
from domain.faults.models import Alarm, AlarmStorm, Ticket
from domain.figures import count_open_tickets as count_open_tickets
from domain.figures import open_alarm, open_tickets_query
from domain.figures import open_alarm_count as open_alarm_count
from domain.figures import open_alarms_by_severity as open_alarms_by_severity
from domain.figures import open_alarms_by_site as open_alarms_by_site
from domain.inventory.models import Device, Site
from domain.inventory.services import SITE_HINT, check_sites, near_hostnames, near_sites
from domain.lookup import shown

#: Worst first, the order alarm lists sort by.
SEVERITY_ORDER = {s: i for i, s in enumerate(PerceivedSeverity)}

# -- alarms ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlarmRow:
    """One line of `/alarm list`."""

    ref: str
    severity: PerceivedSeverity
    hostname: str | None
    site: str | None
    alarm_type: str
    raised_at: datetime
    acked_by: str | None


def _raised_query(
    session: Session, filters: Sequence[str]
) -> sa.Select[Alarm, str | None, str | None]:
    """Open alarms with their device and site, narrowed by the filter words."""
    query = (
        sa.select(Alarm, Device.hostname, Site.code)
        .outerjoin(Device, Device.id == Alarm.device_id)
        .outerjoin(Site, Site.id == Device.site_id)
        .where(open_alarm())
    )
    severities = {s.value for s in PerceivedSeverity}
    wanted: dict[str, set[str]] = {"severity": set(), "site": set(), "device": set()}
    for word in filters:
        w = word.strip().lower()
        key, sep, value = w.partition(":")
        if sep and key == "site":
            if not value:
                raise DomainError("site: needs a value", hint=SITE_HINT)
            check_sites(session, {value.upper()})
            wanted["site"].add(value.upper())
        elif w in severities:
            wanted["severity"].add(w)
        elif session.scalar(sa.select(Site.id).where(Site.code == word.strip().upper())):
            wanted["site"].add(word.strip().upper())
        elif session.scalar(sa.select(Device.id).where(Device.hostname == w)):
            wanted["device"].add(w)
        else:
            close = difflib.get_close_matches(w, sorted(severities), n=1) or (
                near_sites(session, word) + near_hostnames(session, word)
            )
            guess = f"did you mean {', '.join(close[:3])}? " if close else ""
            raise DomainError(
                f"{shown(word)!r} is not a severity, site or device",
                hint=f"{guess}severities: {', '.join(sorted(severities))}",
            )
    # Different kinds AND together, the same kind ORs, as in a device selector.
    if wanted["severity"]:
        query = query.where(
            Alarm.perceived_severity.in_(sorted(PerceivedSeverity(v) for v in wanted["severity"]))
        )
    if wanted["site"]:
        query = query.where(Site.code.in_(sorted(wanted["site"])))
    if wanted["device"]:
        query = query.where(Device.hostname.in_(sorted(wanted["device"])))
    return query


def raised_alarms(session: Session, filters: Sequence[str] = (), limit: int = 25) -> list[AlarmRow]:
    """Open alarms, worst first then newest; each filter word (a severity, a site code
    or a hostname) narrows them further. A word that is none of these is refused."""
    query = _raised_query(session, filters)
    # The newest 500 are plenty to pick the worst from; sorting all of them in SQL
    # would need the severity order as a CASE expression.
    rows = session.execute(query.order_by(Alarm.raised_at.desc()).limit(500)).all()
    rows = sorted(
        rows, key=lambda r: (SEVERITY_ORDER[r[0].perceived_severity], -r[0].raised_at.timestamp())
    )
    return [
        AlarmRow(a.ref, a.perceived_severity, host, code, a.alarm_type, a.raised_at, a.acked_by)
        for a, host, code in rows[: max(1, limit)]
    ]


@dataclass(frozen=True)
class AlarmList:
    """What `/alarm list` shows: the first rows, and how many open alarms match in all."""

    total: int
    rows: list[AlarmRow]


def alarm_list(session: Session, filters: Sequence[str] = (), limit: int = 25) -> AlarmList:
    """`raised_alarms` and the number of open alarms the same filters match."""
    rows = raised_alarms(session, filters, limit)
    query = _raised_query(session, filters)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    return AlarmList(int(total), rows)


@dataclass(frozen=True)
class AlarmView:
    """An alarm as its card shows it: itself, its device and site, what is filed under it."""

    ref: str
    severity: PerceivedSeverity
    state: AlarmState
    summary: str
    alarm_type: str
    hostname: str | None
    site: str | None
    raised_at: datetime
    cleared_at: datetime | None
    repeats: int
    acked_by: str | None
    labels: dict[str, Any]
    #: The ticket opened for it.
    ticket: str | None
    #: The root-cause alarm it is filed under (its device is down).
    correlated_under: str | None
    #: Raised alarms filed under this one (its device is down).
    symptoms: int


def alarm_view(session: Session, alarm_id: int) -> AlarmView:
    """The alarm `alarm_id` as its card shows it."""
    alarm = session.get_one(Alarm, alarm_id)
    row = (
        session.execute(
            sa.select(Device.hostname, Site.code)
            .join(Site, Site.id == Device.site_id)
            .where(Device.id == alarm.device_id)
        ).first()
        if alarm.device_id
        else None
    )
    return AlarmView(
        ref=alarm.ref,
        severity=alarm.perceived_severity,
        state=alarm.state,
        summary=alarm.summary,
        alarm_type=alarm.alarm_type,
        hostname=row.hostname if row else None,
        site=row.code if row else None,
        raised_at=alarm.raised_at,
        cleared_at=alarm.cleared_at,
        repeats=alarm.repeat_count,
        acked_by=alarm.acked_by,
        labels=dict(alarm.labels),
        ticket=make_ref("T", alarm.ticket_id) if alarm.ticket_id else None,
        correlated_under=make_ref("A", alarm.parent_id) if alarm.parent_id else None,
        symptoms=symptoms_of(session, alarm.id),
    )


def alarm_by_ref(session: Session, ref: str) -> AlarmView:
    """The alarm a reference names (A-12), as its card shows it."""
    return alarm_view(session, get_by_ref(session, Alarm, ref, "alarm").id)


def symptoms_of(session: Session, alarm_id: int) -> int:
    """How many raised alarms are filed under this one (its device is down)."""
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Alarm)
            .where(Alarm.parent_id == alarm_id, Alarm.state != AlarmState.CLEARED)
        )
        or 0
    )


# -- storms ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StormSummary:
    """What a storm is made of: counts by severity, cleared, the devices and types most hit."""

    storm: AlarmStorm
    alarms: int
    cleared: int
    #: Alarms per severity value ("critical": 12, ...).
    severity: dict[str, int] = field(default_factory=dict)
    devices: list[tuple[str, int]] = field(default_factory=list)
    types: list[tuple[str, int]] = field(default_factory=list)


def storm_summary(session: Session, storm_id: int) -> StormSummary | None:
    """The storm `storm_id` and what it is made of; None when there is no such storm."""
    storm = session.get(AlarmStorm, storm_id)
    if storm is None:
        return None
    in_storm = Alarm.storm_id == storm_id
    n = sa.func.count()

    def counts(column: Any, top: int | None = None) -> list[tuple[Any, int]]:
        query = (
            sa.select(column, n)
            .select_from(Alarm)
            .where(in_storm)
            .group_by(column)
            .order_by(n.desc(), column)
        )
        if column is Device.hostname:
            query = query.join(Device, Device.id == Alarm.device_id)
        return [(k, c) for k, c in session.execute(query.limit(top)).all()]

    severity = {str(k): c for k, c in counts(Alarm.perceived_severity)}
    cleared = session.scalar(sa.select(n).where(in_storm, Alarm.state == AlarmState.CLEARED))
    return StormSummary(
        storm=storm,
        alarms=sum(severity.values()),
        cleared=cleared or 0,
        severity=severity,
        devices=counts(Device.hostname, 5),
        types=counts(Alarm.alarm_type, 5),
    )


# -- tickets -----------------------------------------------------------------------------


def open_tickets(
    session: Session,
    *,
    now: datetime,
    assignee: str | None = None,
    breached: bool = False,
    breached_since: datetime | None = None,
    sites: Collection[str] = (),
    severity: int | None = None,
    limit: int | None = 20,
) -> list[Ticket]:
    """Open tickets, the nearest SLA first, narrowed by assignee, breach, site, severity.

    `breached` keeps those past their SLA at `now`; `breached_since` those whose SLA
    ran out between then and `now`.
    """
    query = open_tickets_query(
        now=now,
        assignee=assignee,
        breached=breached,
        breached_since=breached_since,
        sites=sites,
        severity=severity,
    ).order_by(Ticket.sla_due_at)
    return list(session.scalars(query if limit is None else query.limit(limit)))


@dataclass(frozen=True)
class TicketRow:
    """One line of `/ticket list`."""

    ref: str
    severity: int
    status: TicketStatus
    title: str
    assignee: str | None
    sla_due_at: datetime
    breached: bool
    #: The customer it is about, for masking their name in its title.
    customer_name: str | None = None


@dataclass(frozen=True)
class TicketList:
    """What `/ticket list` shows: the first rows, and how many open tickets match in all."""

    total: int
    rows: list[TicketRow]


def ticket_list(
    session: Session,
    *,
    now: datetime,
    assignee: str | None = None,
    breached: bool = False,
    sites: Collection[str] = (),
    severity: int | None = None,
    limit: int = 20,
) -> TicketList:
    """`open_tickets` as rows, with `count_open_tickets` over the same filters.

    Sites and the severity are checked first: a site that does not exist or a severity
    outside 1-4 is refused in one line, never answered with "0 open tickets"."""
    check_sites(session, {c.upper() for c in sites})
    if severity is not None:
        check_severity(severity)
    filters: dict[str, Any] = dict(
        assignee=assignee, breached=breached, sites=sites, severity=severity
    )
    tickets = open_tickets(session, now=now, limit=limit, **filters)
    about = {t.customer_id for t in tickets if t.customer_id}
    names = {
        i: name
        for i, name in session.execute(
            sa.select(Customer.id, Customer.name).where(Customer.id.in_(about))
        )
    }
    rows = [
        TicketRow(
            t.ref,
            t.severity,
            t.status,
            t.title,
            t.assignee,
            t.sla_due_at,
            t.breached(now),
            names.get(t.customer_id) if t.customer_id else None,
        )
        for t in tickets
    ]
    return TicketList(count_open_tickets(session, now=now, **filters), rows)


@dataclass(frozen=True)
class TicketEventRow:
    """One step of a ticket's history."""

    at: datetime
    actor: str
    kind: TicketEventKind
    text: str
    from_status: TicketStatus | None
    to_status: TicketStatus | None


@dataclass(frozen=True)
class TicketView:
    """A ticket with what it is about and its whole history, as `/ticket show` tells it."""

    ref: str
    title: str
    kind: TicketKind
    status: TicketStatus
    severity: int
    #: What it is about: the device's hostname, the line's number, the customer's name.
    about: tuple[str, ...]
    assignee: str | None
    reporter: str
    sla_due_at: datetime
    #: Resolved after its SLA, or still open past it, now.
    breached: bool
    resolution: str | None
    history: tuple[TicketEventRow, ...]
    #: The customer it is about, for masking their name in its free text.
    customer_name: str | None = None


def ticket_view(session: Session, ref: str, now: datetime) -> TicketView:
    """The ticket a reference names (T-12), as `/ticket show` tells it at `now`."""
    t = get_by_ref(session, Ticket, ref, "ticket")
    about = []
    if t.device_id:
        about.append(session.get_one(Device, t.device_id).hostname)
    if t.subscription_id:
        about.append(session.get_one(Subscription, t.subscription_id).identifier)
    customer_name = session.get_one(Customer, t.customer_id).name if t.customer_id else None
    if customer_name:
        about.append(customer_name)
    return TicketView(
        customer_name=customer_name,
        ref=t.ref,
        title=t.title,
        kind=t.kind,
        status=t.status,
        severity=t.severity,
        about=tuple(about),
        assignee=t.assignee,
        reporter=t.reporter,
        sla_due_at=t.sla_due_at,
        breached=t.breached(now),
        resolution=t.resolution,
        history=tuple(
            TicketEventRow(e.at, e.actor, e.kind, e.text, e.from_status, e.to_status)
            for e in t.history
        ),
    )
