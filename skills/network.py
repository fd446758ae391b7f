"""Network health in chat: devices up and down, availability, open alarms, worst sites, MTTR."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from domain.config import Role
from domain.errors import NotFound
from domain.faults.choices import AlarmState, PerceivedSeverity
from domain.faults.intake import DEVICE_DOWN
from domain.faults.models import Alarm
from domain.inventory.choices import DeviceStatus
from domain.inventory.models import Device, Region, Site
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Field, Reply, Section, Table

VIEWERS = [Role.ENGINEER, Role.MANAGER]
DOWN_TYPES = ("DeviceUnreachable", "DeviceDown", "NodeDown", "HostDown", "NodeUnreachable")


class HealthArgs(Args):
    scope: str | None = positional(None, metavar="region|site")


def _downtime(
    rows: list[tuple[datetime, datetime | None]], start: datetime, end: datetime
) -> float:
    """Seconds of device-down alarms inside [start, end)."""
    total = 0.0
    for raised, cleared in rows:
        a, b = max(raised, start), min(cleared or end, end)
        total += max(0.0, (b - a).total_seconds())
    return total


@command("network health", roles=VIEWERS, args=HealthArgs)
def health(ctx: Context, args: HealthArgs) -> Reply:
    """Devices up and down, availability (24 h, 30 days), open alarms, worst sites, MTTR."""
    now = ctx.now()
    scope = sa.true()
    label = "the network"
    with ctx.db.read() as s:
        if args.scope:
            code = args.scope.upper()
            region = s.scalars(sa.select(Region).where(Region.code == code)).first()
            site = s.scalars(sa.select(Site).where(Site.code == code)).first()
            if region is not None:
                scope, label = Site.region_id == region.id, region.name
            elif site is not None:
                scope, label = Site.id == site.id, f"site {site.code}"
            else:
                raise NotFound(
                    f"no region or site {args.scope!r}",
                    hint="regions look like MUM, sites like MUM-AND1",
                )
        in_scope = sa.select(Device.id).join(Site, Site.id == Device.site_id).where(scope)
        statuses = dict(
            s.execute(
                sa.select(Device.status, sa.func.count())
                .join(Site, Site.id == Device.site_id)
                .where(scope)
                .group_by(Device.status)
            ).all()
        )
        active = statuses.get(DeviceStatus.ACTIVE, 0)
        down_now = (
            s.scalar(
                sa.select(sa.func.count(sa.distinct(Alarm.device_id))).where(
                    Alarm.device_id.in_(in_scope),
                    Alarm.alarm_type.in_(DOWN_TYPES),
                    Alarm.state != AlarmState.CLEARED,
                )
            )
            or 0
        )
        month = now - timedelta(days=30)
        outages = [
            (r, c)
            for r, c, t in s.execute(
                sa.select(Alarm.raised_at, Alarm.cleared_at, Alarm.alarm_type).where(
                    Alarm.device_id.in_(in_scope),
                    Alarm.alarm_type.in_(DOWN_TYPES),
                    sa.or_(Alarm.cleared_at.is_(None), Alarm.cleared_at >= month),
                )
            )
            if DEVICE_DOWN.match(t)
        ]
        open_by_severity = dict(
            s.execute(
                sa.select(Alarm.perceived_severity, sa.func.count())
                .where(Alarm.device_id.in_(in_scope), Alarm.state != AlarmState.CLEARED)
                .group_by(Alarm.perceived_severity)
            ).all()
        )
        worst = s.execute(
            sa.select(Site.code, sa.func.count(Alarm.id).label("n"))
            .join(Device, Device.site_id == Site.id)
            .join(Alarm, Alarm.device_id == Device.id)
            .where(scope, Alarm.state != AlarmState.CLEARED)
            .group_by(Site.code)
            .order_by(sa.desc("n"), Site.code)
            .limit(5)
        ).all()
        repairs = s.execute(
            sa.select(Alarm.raised_at, Alarm.cleared_at).where(
                Alarm.device_id.in_(in_scope),
                Alarm.cleared_at.is_not(None),
                Alarm.cleared_at >= month,
            )
        ).all()
    devices = max(1, active)

    def availability(days: int) -> str:
        window = days * 86_400
        lost = _downtime(outages, now - timedelta(days=days), now)
        return f"{100 * (1 - lost / (devices * window)):.3f}%"

    mttr = sum((c - r).total_seconds() for r, c in repairs) / len(repairs) / 60 if repairs else None
    severities = [p for p in PerceivedSeverity if p != PerceivedSeverity.CLEARED]
    fields = (
        Field("devices active", f"{active:,}"),
        Field("down now", f"{down_now:,}"),
        Field(
            "other states",
            ", ".join(f"{k.value} {v}" for k, v in statuses.items() if k != DeviceStatus.ACTIVE)
            or "none",
        ),
        Field("availability 24 h", availability(1)),
        Field("availability 30 days", availability(30)),
        Field(
            "MTTR (30 days)",
            f"{mttr:,.0f} min over {len(repairs):,} alarms"
            if mttr is not None
            else "no alarm cleared",
        ),
        Field(
            "open alarms", ", ".join(f"{p.value} {open_by_severity.get(p, 0)}" for p in severities)
        ),
    )
    return Reply(
        text=f"Health of {label}",
        sections=(Section(fields=fields),),
        tables=(
            Table(
                ("site", "open alarms"), tuple((c, str(n)) for c, n in worst), title="worst sites"
            ),
        ),
    )
