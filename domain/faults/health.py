"""Network health from inventory and alarm history: up and down, availability, MTTR.

Availability is measured from device-down alarms: the seconds each device was down
inside a window, against the active devices times the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.errors import NotFound
from domain.faults.choices import AlarmState, PerceivedSeverity
from domain.faults.intake import DEVICE_DOWN
from domain.faults.models import Alarm
from domain.figures import open_alarms_by_severity, open_alarms_by_site
from domain.inventory.choices import DeviceStatus
from domain.inventory.models import Device, Region, Site

DOWN_TYPES = ("DeviceUnreachable", "DeviceDown", "NodeDown", "HostDown", "NodeUnreachable")


@dataclass
class Health:
    label: str
    now: datetime
    statuses: dict[DeviceStatus, int] = field(default_factory=dict)
    down_now: int = 0
    #: (raised, cleared) of device-down alarms touching the last 30 days
    outages: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    #: Open alarms as `/alarm list` counts them (not the symptoms filed under a root cause).
    open_by_severity: dict[PerceivedSeverity, int] = field(default_factory=dict)
    worst_sites: list[tuple[str, int]] = field(default_factory=list)
    repairs: list[tuple[datetime, datetime]] = field(default_factory=list)

    @property
    def active(self) -> int:
        return self.statuses.get(DeviceStatus.ACTIVE, 0)

    def availability(self, days: int) -> float:
        """Share of device time up over the last `days`, 0..1."""
        window = days * 86_400
        start = self.now - timedelta(days=days)
        lost = 0.0
        for raised, cleared in self.outages:
            a, b = max(raised, start), min(cleared or self.now, self.now)
            lost += max(0.0, (b - a).total_seconds())
        return 1 - lost / (max(1, self.active) * window)

    @property
    def mttr_minutes(self) -> float | None:
        if not self.repairs:
            return None
        return sum((c - r).total_seconds() for r, c in self.repairs) / len(self.repairs) / 60

    def figures(self) -> HealthFigures:
        """The figures `/network health` shows, without the outage and repair lists."""
        return HealthFigures(
            label=self.label,
            at=self.now,
            active=self.active,
            down_now=self.down_now,
            statuses=dict(self.statuses),
            availability_24h=self.availability(1),
            availability_30d=self.availability(30),
            mttr_minutes=self.mttr_minutes,
            repairs_30d=len(self.repairs),
            open_alarms=dict(self.open_by_severity),
            worst_sites=[SiteAlarms(code, n) for code, n in self.worst_sites],
        )


@dataclass(frozen=True)
class SiteAlarms:
    site: str
    open_alarms: int


@dataclass(frozen=True)
class HealthFigures:
    """Devices up and down, availability (0..1), MTTR and open alarms of a scope."""

    label: str
    at: datetime
    active: int
    down_now: int
    statuses: dict[DeviceStatus, int]
    availability_24h: float
    availability_30d: float
    mttr_minutes: float | None
    #: Alarms cleared over the last 30 days, that MTTR averages.
    repairs_30d: int
    #: Open alarms per severity, as `/alarm list` counts them.
    open_alarms: dict[PerceivedSeverity, int]
    #: The sites with the most open alarms, most first.
    worst_sites: list[SiteAlarms]


def network_health(
    session: Session, now: datetime, scope: Any = None, label: str = "the network"
) -> Health:
    """Health of the devices in `scope` (a condition on Site; all when None)."""
    everywhere = scope is None
    scope = sa.true() if scope is None else scope
    h = Health(label, now)
    in_scope = sa.select(Device.id).join(Site, Site.id == Device.site_id).where(scope)
    h.statuses = {
        k: int(v)
        for k, v in session.execute(
            sa.select(Device.status, sa.func.count())
            .join(Site, Site.id == Device.site_id)
            .where(scope)
            .group_by(Device.status)
        ).all()
    }
    h.down_now = (
        session.scalar(
            sa.select(sa.func.count(sa.distinct(Alarm.device_id))).where(
                Alarm.device_id.in_(in_scope),
                Alarm.alarm_type.in_(DOWN_TYPES),
                Alarm.state != AlarmState.CLEARED,
            )
        )
        or 0
    )
    month = now - timedelta(days=30)
    h.outages = [
        (r, c)
        for r, c, t in session.execute(
            sa.select(Alarm.raised_at, Alarm.cleared_at, Alarm.alarm_type).where(
                Alarm.device_id.in_(in_scope),
                Alarm.alarm_type.in_(DOWN_TYPES),
                sa.or_(Alarm.cleared_at.is_(None), Alarm.cleared_at >= month),
            )
        )
        if DEVICE_DOWN.match(t)
    ]
    h.open_by_severity = open_alarms_by_severity(session, None if everywhere else scope)
    h.worst_sites = open_alarms_by_site(session, 5, None if everywhere else scope)
    h.repairs = [
        (r, c)
        for r, c in session.execute(
            sa.select(Alarm.raised_at, Alarm.cleared_at).where(
                Alarm.device_id.in_(in_scope),
                Alarm.cleared_at.is_not(None),
                Alarm.cleared_at >= month,
            )
        ).all()
        if c is not None
    ]
    return h


def health_by_region(session: Session, now: datetime) -> list[Health]:
    """One Health per region, in region order."""
    regions = session.scalars(sa.select(Region).order_by(Region.code)).all()
    return [network_health(session, now, Site.region_id == r.id, r.name) for r in regions]


def health_of(session: Session, now: datetime, code: str | None = None) -> Health:
    """Health of the network, or of the region or site with that code (MUM, MUM-AND1)."""
    if not code:
        return network_health(session, now)
    key = code.upper()
    region = session.scalars(sa.select(Region).where(Region.code == key)).first()
    if region is not None:
        return network_health(session, now, Site.region_id == region.id, region.name)
    site = session.scalars(sa.select(Site).where(Site.code == key)).first()
    if site is not None:
        return network_health(session, now, Site.id == site.id, f"site {site.code}")
    raise NotFound(f"no region or site {code!r}", hint="regions look like MUM, sites like MUM-AND1")
