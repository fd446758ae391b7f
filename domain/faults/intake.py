"""Alert intake: alerts from monitoring become alarms, one per fingerprint.

A repeat updates its alarm; a resolution clears it; an alarm on a device that is
down is filed under the device-down alarm (correlated) instead of standing alone;
a critical, service-affecting alarm opens one ticket.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.db import Database
from domain.faults.choices import AlarmSource, AlarmState, PerceivedSeverity, TicketKind
from domain.faults.models import Alarm
from domain.faults.services import clear_alarm, open_ticket, raise_alarm
from domain.inventory.models import Device

#: Alert names that mean the whole device is down; other alarms on it are symptoms.
DEVICE_DOWN = re.compile(r"(?i)^(device|node|host)(down|unreachable)$|^deviceunreachable$")
SERVICE_AFFECTING = re.compile(r"(?i)down|unreachable|outage|loss")


@dataclass(frozen=True)
class AlertEvent:
    """One alert as monitoring reports it, whatever the webhook's format."""

    fingerprint: str
    name: str
    firing: bool
    severity: PerceivedSeverity
    summary: str
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    source: AlarmSource = AlarmSource.WEBHOOK
    at: datetime | None = None


@dataclass
class IntakeResult:
    new: list[Alarm] = field(default_factory=list)
    updated: list[Alarm] = field(default_factory=list)
    cleared: list[Alarm] = field(default_factory=list)
    correlated: list[Alarm] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "updated": len(self.updated),
            "cleared": len(self.cleared),
            "correlated": len(self.correlated),
            "tickets": len(self.tickets),
        }


LABELS = ("device", "host", "hostname", "instance")


def _names(labels: Mapping[str, str]) -> list[str]:
    """Candidate device names from an alert's labels, ports stripped."""
    out = []
    for key in LABELS:
        value = labels.get(key)
        if not value:
            continue
        name = value.strip().lower()
        if name.startswith("[") and "]" in name:  # [::1]:9100
            name = name[1 : name.index("]")]
        elif name.count(":") == 1:
            name = name.split(":")[0]
        out.append(name)
    return out


def devices_for(session: Session, events: Iterable[AlertEvent]) -> dict[str, Device]:
    """Every device a batch of alerts names, by hostname and management address: one query."""
    names = {n for e in events for n in _names(e.labels)}
    if not names:
        return {}
    found = session.scalars(
        sa.select(Device).where(sa.or_(Device.hostname.in_(names), Device.mgmt_host.in_(names)))
    ).all()
    by_name: dict[str, Device] = {}
    for d in found:
        by_name.setdefault(d.mgmt_host, d)
        by_name[d.hostname] = d
    return by_name


def device_for(known: Mapping[str, Device], labels: Mapping[str, str]) -> Device | None:
    """The device an alert is about: device, host or instance label, with or without port."""
    return next((known[n] for n in _names(labels) if n in known), None)


def ingest(
    session: Session,
    events: Iterable[AlertEvent],
    *,
    now: datetime,
    sla_hours: Mapping[int, float],
    ticket_severities: Iterable[str] = ("critical",),
    reporter: str = "alertmanager",
) -> IntakeResult:
    """File a batch of alerts as alarms in the caller's transaction."""
    result = IntakeResult()
    ticketing = {s.lower() for s in ticket_severities}
    events = list(events)
    known = devices_for(session, events)
    for event in events:
        at = event.at or now
        if not event.firing:
            cleared = clear_alarm(session, event.fingerprint, now=at)
            if cleared is not None and cleared.state == AlarmState.CLEARED:
                result.cleared.append(cleared)
            continue
        device = device_for(known, event.labels)
        alarm, is_new = raise_alarm(
            session,
            fingerprint=event.fingerprint,
            source=event.source,
            alarm_type=event.name,
            severity=event.severity,
            summary=event.summary[:400],
            device_id=device.id if device else None,
            description=event.description,
            labels=dict(event.labels),
            service_affecting=bool(SERVICE_AFFECTING.search(event.name)),
            now=at,
        )
        (result.new if is_new else result.updated).append(alarm)
        if device is not None:
            _correlate(session, alarm, device, result)
        if (
            is_new
            and alarm.parent_id is None
            and alarm.ticket_id is None
            and alarm.service_affecting
            and event.severity.value in ticketing
        ):
            ticket = open_ticket(
                session,
                title=event.summary[:200] or event.name,
                severity=1,
                reporter=reporter,
                sla_hours=sla_hours,
                kind=TicketKind.INCIDENT,
                description=event.description,
                device_id=device.id if device else None,
                now=at,
            )
            alarm.ticket_id = ticket.id
            result.tickets.append(ticket.ref)
    return result


def file_alerts(
    db: Database,
    events: Iterable[AlertEvent],
    *,
    now: datetime,
    sla_hours: Mapping[int, float],
    ticket_severities: Iterable[str] = ("critical",),
    reporter: str = "alertmanager",
) -> IntakeResult:
    """File a batch of alerts as alarms, all of it or none, in one transaction."""
    with db.transaction() as session:
        return ingest(
            session,
            events,
            now=now,
            sla_hours=sla_hours,
            ticket_severities=ticket_severities,
            reporter=reporter,
        )


def _correlate(session: Session, alarm: Alarm, device: Device, result: IntakeResult) -> None:
    """While a device is down, its other alarms are symptoms filed under that alarm."""
    raised = (Alarm.device_id == device.id, Alarm.state != AlarmState.CLEARED, Alarm.id != alarm.id)
    if DEVICE_DOWN.match(alarm.alarm_type):
        children = session.scalars(sa.select(Alarm).where(*raised, Alarm.parent_id.is_(None))).all()
        for child in children:
            child.parent_id = alarm.id
            child.touch()
            result.correlated.append(child)
        if children:
            alarm.touch()
        return
    root = session.scalars(sa.select(Alarm).where(*raised, Alarm.parent_id.is_(None))).all()
    parent = next((a for a in root if DEVICE_DOWN.match(a.alarm_type)), None)
    if parent is not None and alarm.parent_id != parent.id:
        alarm.parent_id = parent.id
        alarm.touch()
        parent.touch()
        result.correlated.append(alarm)


def severity_of(value: Any) -> PerceivedSeverity:
    """Severity words monitoring uses, mapped to TMF642's perceived severity."""
    text = str(value or "").strip().lower()
    aliases = {
        "crit": "critical",
        "page": "critical",
        "error": "major",
        "high": "major",
        "warn": "warning",
        "medium": "minor",
        "low": "warning",
        "info": "warning",
        "none": "indeterminate",
        "": "indeterminate",
    }
    text = aliases.get(text, text)
    try:
        return PerceivedSeverity(text)
    except ValueError:
        return PerceivedSeverity.INDETERMINATE
