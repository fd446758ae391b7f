"""Alert intake: alerts from monitoring become alarms, one per fingerprint.

A repeat updates its alarm; a resolution clears it; an alarm on a device that is
down is filed under the device-down alarm (correlated) instead of standing alone;
a critical, service-affecting alarm opens one ticket.

A batch is filed set-wise: a fixed number of queries per chunk of alerts (the alarms of
the chunk's fingerprints, the devices it names, the device-down alarms of those devices,
and all their root alarms where the chunk brings a device-down), the alerts then applied
in order in memory and written together. The Python work grows with the batch, never
with its square; the database's part is those lookups by index per chunk (for one device
with 10,000 raised alarms, a scan of them per chunk for its device-down alarm).

Times are the receiver's: a sender's time more than a day ahead of receipt, or before
the device existed, is clamped and the alarm's label `switchboard_time` says what the
sender said; so is a clear time before the alarm was raised (clamped to its raise); the
SLA clock of a ticket opened from an alert starts at receipt.

What a sender says is cut to fit its column (with an ellipsis) before anything is
stored, and a ticket is opened only for an alarm still raised once its chunk is applied
(one that fires and resolves in the same batch opens none).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.db import Database
from domain.errors import DatabaseUnavailable
from domain.faults.choices import AlarmSource, AlarmState, PerceivedSeverity, TicketKind
from domain.faults.models import Alarm
from domain.faults.services import (
    alarms_by_fingerprint,
    clear_among,
    insert_alarms,
    open_ticket,
    raise_among,
)
from domain.inventory.models import Device
from domain.privacy import mask_text

#: Alert names that mean the whole device is down; other alarms on it are symptoms.
DEVICE_DOWN_NAMES = frozenset(
    f"{w}{s}" for w in ("device", "node", "host") for s in ("down", "unreachable")
)
DEVICE_DOWN = re.compile(r"(?i)^(" + "|".join(sorted(DEVICE_DOWN_NAMES)) + r")$")
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


#: Alerts filed per transaction. A chunk takes a tenth of a second or so on SQLite, so no
#: other writer (a `/ticket open`) waits long behind a flood.
CHUNK = 250

#: The pause between chunks, for a writer waiting on the database to take its turn.
PAUSE_S = 0.005

#: A sender's time this far past receipt is a wrong clock, not a forecast.
FUTURE_SLACK = timedelta(days=1)

#: Without a device to date it by, a time before this is a zero value (Alertmanager's
#: 0001-01-01), not when anything happened.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)

#: The alarm label that says a sender's time was not believed, and what it said.
TIME_LABEL = "switchboard_time"


@dataclass
class IntakeResult:
    """What a batch did: one entry per alert that raised, updated or cleared an alarm
    (a fingerprint repeated in a batch counts each time), the alarms filed under a
    device-down alarm, and the tickets opened."""

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

    def add(self, other: IntakeResult) -> None:
        """Take in what a later chunk of the same batch did."""
        self.new += other.new
        self.updated += other.updated
        self.cleared += other.cleared
        self.correlated += other.correlated
        self.tickets += other.tickets


class PartlyFiled(DatabaseUnavailable):
    """The database went away part way through a batch: the chunks before stay filed."""

    def __init__(self, cause: DatabaseUnavailable, filed: IntakeResult, done: int, total: int):
        super().__init__(
            f"filed {done:,} of {total:,} alerts; the rest were not: the database is away"
            f" ({cause})",
            hint="send the same batch again (Alertmanager retries a 503 by itself): alarms"
            " are one per fingerprint, so the ones filed count as repeats, none twice",
        )
        self.filed, self.done, self.total = filed, done, total


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


def receiver_time(
    said: datetime | None, *, now: datetime, device: Device | None
) -> tuple[datetime, str]:
    """The time to file an alert at, and a note when the sender's time was not believed.

    A time more than FUTURE_SLACK past receipt, or without a zone, becomes the receipt
    time; one before the device existed becomes the device's creation (before EARLIEST,
    with no device, the receipt time). Nothing here does arithmetic on the sender's time,
    so year 9999 or year 1 in any zone cannot overflow.
    """
    if said is None:
        return now, ""
    if said.tzinfo is None or said.utcoffset() is None:
        return now, f"clamped to receipt: sender said {said.isoformat()} (no time zone)"
    if said > now + FUTURE_SLACK:
        return now, f"clamped to receipt: sender said {said.isoformat()}"
    created = device.created_at if device is not None else None
    if created is not None and said < created:
        return created, f"clamped to the device's creation: sender said {said.isoformat()}"
    if said < EARLIEST:
        return now, f"clamped to receipt: sender said {said.isoformat()}"
    return said.astimezone(UTC), ""


class _Roots:
    """Which alarms on each device are raised root alarms (parent_id unset), kept up to
    date in memory while a chunk's alerts are applied in order.

    Device-down alarms are known for every device the chunk raises alarms on; all the
    roots only for devices the chunk raises a device-down alarm on (it adopts them).
    A parent that is new in the chunk has no id yet: it is recorded and set at flush.
    """

    def __init__(self, session: Session, firing: set[int], going_down: set[int]) -> None:
        self.downs: dict[int, dict[Alarm, None]] = {d: {} for d in firing}
        self.roots: dict[int, dict[Alarm, None]] = {d: {} for d in going_down}
        self.pending: dict[Alarm, Alarm] = {}
        raised = (Alarm.state != AlarmState.CLEARED, Alarm.parent_id.is_(None))
        if firing - going_down:
            for a in session.scalars(
                sa.select(Alarm)
                .where(
                    Alarm.device_id.in_(firing - going_down),
                    *raised,
                    sa.func.lower(Alarm.alarm_type).in_(DEVICE_DOWN_NAMES),
                )
                .order_by(Alarm.id)
            ):
                if a.device_id is not None and DEVICE_DOWN.match(a.alarm_type):
                    self.downs[a.device_id][a] = None
        if going_down:
            for a in session.scalars(
                sa.select(Alarm).where(Alarm.device_id.in_(going_down), *raised).order_by(Alarm.id)
            ):
                assert a.device_id is not None
                self.roots[a.device_id][a] = None
                if DEVICE_DOWN.match(a.alarm_type):
                    self.downs[a.device_id][a] = None

    def is_root(self, alarm: Alarm) -> bool:
        return alarm not in self.pending and alarm.parent_id is None

    def _under(self, child: Alarm, parent: Alarm) -> bool:
        if child in self.pending:
            return self.pending[child] is parent
        return parent.id is not None and child.parent_id == parent.id

    def _file(self, child: Alarm, parent: Alarm) -> None:
        if parent.id is None:
            self.pending[child] = parent
        else:
            child.parent_id = parent.id

    def correlate(self, alarm: Alarm, device: Device, result: IntakeResult) -> None:
        """While a device is down, its other alarms are symptoms filed under that alarm."""
        live = (AlarmState.RAISED, AlarmState.UPDATED)
        downs, roots = self.downs[device.id], self.roots.get(device.id)
        if DEVICE_DOWN.match(alarm.alarm_type):
            assert roots is not None
            children = [a for a in roots if a is not alarm and a.state in live and self.is_root(a)]
            for child in children:
                self._file(child, alarm)
                child.touch()
                result.correlated.append(child)
                del roots[child]
                downs.pop(child, None)
            if children:
                alarm.touch()
            if self.is_root(alarm):
                roots[alarm] = downs[alarm] = None
            return
        parent = next(
            (a for a in downs if a is not alarm and a.state in live and self.is_root(a)), None
        )
        if parent is not None and not self._under(alarm, parent):
            self._file(alarm, parent)
            alarm.touch()
            parent.touch()
            result.correlated.append(alarm)
        if roots is not None and self.is_root(alarm):
            roots[alarm] = None

    def store(self, session: Session, new: list[Alarm]) -> None:
        """Insert the chunk's new alarms, parents before the alarms filed under them (a few
        statements, whatever their number), and set the parents that had no id yet."""
        waiting = list(new)
        while waiting:
            ready = [a for a in waiting if a not in self.pending or self.pending[a].id is not None]
            if not ready:  # a cycle cannot happen: an alarm is filed under a root only
                raise AssertionError("alarms filed under one another")
            for child in ready:
                if child in self.pending:
                    child.parent_id = self.pending.pop(child).id
            insert_alarms(session, ready)
            chosen = set(ready)
            waiting = [a for a in waiting if a not in chosen]
        for child, parent in self.pending.items():  # stored alarms filed under new ones
            child.parent_id = parent.id
        self.pending.clear()


def ingest(
    session: Session,
    events: Iterable[AlertEvent],
    *,
    now: datetime,
    sla_hours: Mapping[int, float],
    ticket_severities: Iterable[str] = ("critical",),
    reporter: str = "alertmanager",
    masked: dict[str, str] | None = None,
) -> IntakeResult:
    """File a batch of alerts as alarms in the caller's transaction, in order, set-wise:
    at most four queries to read, then one flush (and one insert per ticket opened).

    `now` is the receipt time: alarms are updated at it and tickets' SLA clocks start
    at it; the sender's times (clamped, see receiver_time) say when a fault began or ended.
    `masked` memoises mask_text across the chunks of one batch.
    """
    memo = {} if masked is None else masked

    def mask(text: str) -> str:
        if text not in memo:
            memo[text] = mask_text(text)
        return memo[text]

    result = IntakeResult()
    ticketing = {s.lower() for s in ticket_severities}
    events = list(events)
    known = devices_for(session, events)
    devices = [device_for(known, e.labels) for e in events]
    alarms = alarms_by_fingerprint(session, (e.fingerprint for e in events))
    firing = {d.id for e, d in zip(events, devices, strict=True) if d and e.firing}
    going_down = {
        d.id
        for e, d in zip(events, devices, strict=True)
        # An alarm keeps the type it was raised with, whatever a repeat is named.
        if d
        and e.firing
        and DEVICE_DOWN.match(getattr(alarms.get(e.fingerprint), "alarm_type", e.name))
    }
    roots = _Roots(session, firing, going_down)
    to_ticket: list[tuple[AlertEvent, Alarm, Device | None]] = []
    ticketed: set[Alarm] = set()
    for event, device in zip(events, devices, strict=True):
        at, note = receiver_time(event.at, now=now, device=device)
        if not event.firing:
            alarm = alarms.get(event.fingerprint)
            if alarm is None or alarm.state == AlarmState.CLEARED:
                continue  # a late resolve, or a repeat of one
            if at < alarm.raised_at:  # endsAt before startsAt: no negative durations
                at = alarm.raised_at
                said = event.at.isoformat() if event.at else "nothing"
                note = f"clamped to the alarm's raise: sender said it ended {said}"
            clear_among(alarms, event.fingerprint, now=now, cleared_at=at)
            if note:
                alarm.labels = {**alarm.labels, TIME_LABEL: note}
            result.cleared.append(alarm)
            continue
        labels = {**event.labels, TIME_LABEL: note} if note else dict(event.labels)
        alarm, is_new = raise_among(
            session,
            alarms,
            fingerprint=event.fingerprint,
            source=event.source,
            alarm_type=event.name,
            severity=event.severity,
            summary=event.summary,
            device_id=device.id if device else None,
            description=event.description,
            labels=labels,
            service_affecting=bool(SERVICE_AFFECTING.search(event.name)),
            now=now,
            raised_at=at,
            mask=mask,
        )
        (result.new if is_new else result.updated).append(alarm)
        if device is not None:
            roots.correlate(alarm, device, result)
        if (
            is_new
            and roots.is_root(alarm)
            and alarm.ticket_id is None
            and alarm.service_affecting
            and event.severity.value in ticketing
            and alarm not in ticketed
        ):
            ticketed.add(alarm)
            to_ticket.append((event, alarm, device))
    for event, alarm, device in to_ticket:
        if alarm.state == AlarmState.CLEARED:
            continue  # fired and resolved in this chunk: nothing is left to work on
        ticket = open_ticket(
            session,
            title=event.summary.strip() or event.name.strip() or "alert",
            cut=True,
            severity=1,
            reporter=reporter,
            sla_hours=sla_hours,
            kind=TicketKind.INCIDENT,
            description=event.description,
            device_id=device.id if device else None,
            now=now,
        )
        alarm.ticket_id = ticket.id
        result.tickets.append(ticket.ref)
    roots.store(session, [a for a in alarms.values() if a.id is None])
    session.flush()
    return result


def file_alerts(
    db: Database,
    events: Iterable[AlertEvent],
    *,
    now: datetime,
    sla_hours: Mapping[int, float],
    ticket_severities: Iterable[str] = ("critical",),
    reporter: str = "alertmanager",
    chunk: int = CHUNK,
) -> IntakeResult:
    """File a batch of alerts as alarms, `chunk` alerts per transaction, in order.

    Each chunk is all or none; a chunk that fails leaves the earlier ones filed (when the
    database goes away, PartlyFiled says how many). Sending the same batch again
    (Alertmanager retries a failed one) files no alarm twice: fingerprints dedupe, so it
    finishes the rest and counts the others as repeats.
    Correlation holds across chunks: each one reads the alarms the earlier ones stored.
    """
    events = list(events)
    result = IntakeResult()
    masked: dict[str, str] = {}  # bounded by the batch, itself bounded by the body's size
    for start in range(0, len(events), chunk):
        if start:
            # Let a writer queued behind this batch (a /ticket open) take its turn.
            time.sleep(PAUSE_S)
        for attempt in (1, 2):
            try:
                with db.transaction() as session:
                    done = ingest(
                        session,
                        events[start : start + chunk],
                        now=now,
                        sla_hours=sla_hours,
                        ticket_severities=ticket_severities,
                        reporter=reporter,
                        masked=masked,
                    )
                break
            except DatabaseUnavailable as exc:
                raise PartlyFiled(exc, result, start, len(events)) from None
            except sa.exc.IntegrityError:
                # Another replica filed one of these fingerprints meanwhile: the chunk
                # was rolled back whole; read again, and its alarm is a repeat.
                if attempt == 2:
                    raise
        result.add(done)
    return result


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
