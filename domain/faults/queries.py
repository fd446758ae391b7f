"""What fault views show: alarm lists and cards, storm summaries, open alarms and tickets.

Every function reads only and takes a session. A figure that several views show (open
alarms, open alarms by site, tickets past their SLA) is counted here once, so `/alarm
list`, `/network health`, `/ticket list` and the digests agree.

An open alarm is a raised one that is not filed under a root cause: a symptom of a
device that is down counts once, in its root-cause alarm (as `/alarm list` shows it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.errors import DomainError
from domain.faults.choices import OPEN_TICKET_STATUSES, AlarmState, PerceivedSeverity
from domain.faults.models import Alarm, AlarmStorm, Ticket
from domain.inventory.models import Device, Site

#: Worst first, the order alarm lists sort by.
SEVERITY_ORDER = {s: i for i, s in enumerate(PerceivedSeverity)}

# -- alarms ------------------------------------------------------------------------------


def _open_alarm() -> sa.ColumnElement[bool]:
    """The one definition of an open alarm (see the module's docstring)."""
    return sa.and_(Alarm.state != AlarmState.CLEARED, Alarm.parent_id.is_(None))


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


def raised_alarms(session: Session, filters: Sequence[str] = (), limit: int = 25) -> list[AlarmRow]:
    """Open alarms, worst first then newest; each filter word (a severity, a site code
    or a hostname) narrows them further. A word that is none of these is refused."""
    query = (
        sa.select(Alarm, Device.hostname, Site.code)
        .outerjoin(Device, Device.id == Alarm.device_id)
        .outerjoin(Site, Site.id == Device.site_id)
        .where(_open_alarm())
    )
    severities = {s.value for s in PerceivedSeverity}
    for word in filters:
        w = word.lower()
        if w in severities:
            query = query.where(Alarm.perceived_severity == PerceivedSeverity(w))
        elif session.scalar(sa.select(Site.id).where(Site.code == word.upper())):
            query = query.where(Site.code == word.upper())
        elif session.scalar(sa.select(Device.id).where(Device.hostname == w)):
            query = query.where(Device.hostname == w)
        else:
            raise DomainError(
                f"{word!r} is not a severity, site or device",
                hint=f"severities: {', '.join(sorted(severities))}",
            )
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
class AlarmView:
    """An alarm with what its card shows besides it: device, site, symptoms under it."""

    alarm: Alarm
    hostname: str | None
    site: str | None
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
        alarm,
        row.hostname if row else None,
        row.code if row else None,
        symptoms_of(session, alarm.id),
    )


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


def open_alarms_by_severity(
    session: Session,
    site_scope: sa.ColumnElement[bool] | None = None,
    *,
    device_id: int | None = None,
) -> dict[PerceivedSeverity, int]:
    """Open alarms per severity: everywhere, on the devices of the sites in `site_scope`,
    or on one device."""
    query = sa.select(Alarm.perceived_severity, sa.func.count()).where(_open_alarm())
    if device_id is not None:
        query = query.where(Alarm.device_id == device_id)
    if site_scope is not None:
        query = query.where(
            Alarm.device_id.in_(
                sa.select(Device.id).join(Site, Site.id == Device.site_id).where(site_scope)
            )
        )
    return {k: int(v) for k, v in session.execute(query.group_by(Alarm.perceived_severity))}


def open_alarm_count(session: Session, device_id: int | None = None) -> int:
    """Open alarms in the whole network, or on one device."""
    return sum(open_alarms_by_severity(session, device_id=device_id).values())


def open_alarms_by_site(
    session: Session, limit: int, site_scope: sa.ColumnElement[bool] | None = None
) -> list[tuple[str, int]]:
    """The sites with the most open alarms, most first (within `site_scope` when given)."""
    n = sa.func.count(Alarm.id).label("n")
    query = (
        sa.select(Site.code, n)
        .join(Device, Device.site_id == Site.id)
        .join(Alarm, Alarm.device_id == Device.id)
        .where(_open_alarm())
    )
    if site_scope is not None:
        query = query.where(site_scope)
    rows = session.execute(query.group_by(Site.code).order_by(n.desc(), Site.code).limit(limit))
    return [(str(c), int(k)) for c, k in rows]


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


def _open_tickets_query(
    *,
    now: datetime,
    assignee: str | None = None,
    breached: bool = False,
    breached_since: datetime | None = None,
    site: str | None = None,
    severity: int | None = None,
    device_id: int | None = None,
) -> sa.Select[Ticket]:
    query = sa.select(Ticket).where(Ticket.status.in_(OPEN_TICKET_STATUSES))
    if device_id is not None:
        query = query.where(Ticket.device_id == device_id)
    if assignee is not None:
        query = query.where(Ticket.assignee == assignee)
    if breached or breached_since is not None:
        query = query.where(Ticket.sla_due_at < now)
    if breached_since is not None:
        query = query.where(Ticket.sla_due_at >= breached_since)
    if site is not None:
        query = (
            query.join(Device, Device.id == Ticket.device_id)
            .join(Site, Site.id == Device.site_id)
            .where(Site.code == site.upper())
        )
    if severity is not None:
        query = query.where(Ticket.severity == severity)
    return query


def open_tickets(
    session: Session,
    *,
    now: datetime,
    assignee: str | None = None,
    breached: bool = False,
    breached_since: datetime | None = None,
    site: str | None = None,
    severity: int | None = None,
    limit: int | None = 20,
) -> list[Ticket]:
    """Open tickets, the nearest SLA first, narrowed by assignee, breach, site, severity.

    `breached` keeps those past their SLA at `now`; `breached_since` those whose SLA
    ran out between then and `now`.
    """
    query = _open_tickets_query(
        now=now,
        assignee=assignee,
        breached=breached,
        breached_since=breached_since,
        site=site,
        severity=severity,
    ).order_by(Ticket.sla_due_at)
    return list(session.scalars(query if limit is None else query.limit(limit)))


def count_open_tickets(
    session: Session,
    *,
    now: datetime,
    assignee: str | None = None,
    breached: bool = False,
    site: str | None = None,
    severity: int | None = None,
    device_id: int | None = None,
) -> int:
    """How many tickets `open_tickets` would list without a limit (the same query), or
    how many are open on one device."""
    query = _open_tickets_query(
        now=now,
        assignee=assignee,
        breached=breached,
        site=site,
        severity=severity,
        device_id=device_id,
    )
    return int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def open_tickets_by_site(session: Session, limit: int) -> list[tuple[str, int]]:
    """The sites with the most open tickets on their devices, most first."""
    n = sa.func.count().label("n")
    rows = session.execute(
        sa.select(Site.code, n)
        .select_from(Ticket)
        .join(Device, Device.id == Ticket.device_id)
        .join(Site, Site.id == Device.site_id)
        .where(Ticket.status.in_(OPEN_TICKET_STATUSES))
        .group_by(Site.code)
        .order_by(n.desc(), Site.code)
        .limit(limit)
    )
    return [(str(c), int(k)) for c, k in rows]
