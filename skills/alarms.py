"""Alarms in chat (TMF642): list the raised ones, look at one, acknowledge it."""

from __future__ import annotations

import sqlalchemy as sa

from domain.config import Role
from domain.db import get_by_ref
from domain.errors import DomainError
from domain.faults.choices import AlarmState, PerceivedSeverity
from domain.faults.models import Alarm
from domain.faults.services import acknowledge_alarm
from domain.inventory.models import Device, Site
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Reply, Section, Table

VIEWERS = [Role.ENGINEER, Role.MANAGER]
_ORDER = {s: i for i, s in enumerate(PerceivedSeverity)}


class ListArgs(Args):
    filters: list[str] = positional([], metavar="severity|site|device")
    limit: int = 25


class AlarmRef(Args):
    alarm: str = positional(metavar="A-id")


@command("alarm list", roles=VIEWERS, args=ListArgs)
def list_(ctx: Context, args: ListArgs) -> Reply:
    """Raised alarms, worst first; filter by severity, site code or device."""
    query = (
        sa.select(Alarm, Device.hostname, Site.code)
        .outerjoin(Device, Device.id == Alarm.device_id)
        .outerjoin(Site, Site.id == Device.site_id)
        .where(Alarm.state != AlarmState.CLEARED, Alarm.parent_id.is_(None))
    )
    severities = {s.value for s in PerceivedSeverity}
    with ctx.db.read() as s:
        for word in args.filters:
            w = word.lower()
            if w in severities:
                query = query.where(Alarm.perceived_severity == PerceivedSeverity(w))
            elif s.scalar(sa.select(Site.id).where(Site.code == word.upper())):
                query = query.where(Site.code == word.upper())
            elif s.scalar(sa.select(Device.id).where(Device.hostname == w)):
                query = query.where(Device.hostname == w)
            else:
                raise DomainError(
                    f"{word!r} is not a severity, site or device",
                    hint=f"severities: {', '.join(sorted(severities))}",
                )
        rows = s.execute(query.order_by(Alarm.raised_at.desc()).limit(500)).all()
    rows = sorted(
        rows, key=lambda r: (_ORDER[r[0].perceived_severity], -r[0].raised_at.timestamp())
    )[: max(1, args.limit)]
    table = Table(
        ("alarm", "severity", "device", "site", "what", "raised (UTC)", "ack"),
        tuple(
            (
                a.ref,
                a.perceived_severity.value,
                host or "-",
                code or "-",
                a.alarm_type,
                f"{a.raised_at:%m-%d %H:%M}",
                a.acked_by or "-",
            )
            for a, host, code in rows
        ),
    )
    return Reply(text=f"{len(rows)} raised alarm(s)", tables=(table,))


@command("alarm show", roles=VIEWERS, args=AlarmRef)
def show(ctx: Context, args: AlarmRef) -> Reply:
    """One alarm with its device, state and labels."""
    with ctx.db.read() as s:
        a = get_by_ref(s, Alarm, args.alarm, "alarm")
        host = s.get(Device, a.device_id).hostname if a.device_id else None  # type: ignore[union-attr]
        fields = (
            Field("severity", a.perceived_severity.value),
            Field("state", a.state.value),
            Field("device", host or "-"),
            Field("type", a.alarm_type),
            Field("raised", f"{a.raised_at:%Y-%m-%d %H:%M} UTC"),
            Field("repeats", str(a.repeat_count)),
            Field("acknowledged", f"by {a.acked_by}" if a.acked_by else "no"),
            Field("labels", ", ".join(f"{k}={v}" for k, v in a.labels.items()) or "-"),
        )
        buttons = []
        if a.acked_by is None and a.state != AlarmState.CLEARED:
            buttons.append(Button("Acknowledge", f"/alarm ack {a.ref}", style="primary"))
        if host:
            buttons.append(Button("Open ticket", f'/ticket open {host} "{a.summary}"'))
            buttons.append(Button("Show device", f"/inventory show {host}"))
        return Reply(
            text=f"{a.ref}: {a.summary}", sections=(Section(fields=fields),), buttons=tuple(buttons)
        )


@command("alarm ack", roles=[Role.ENGINEER], args=AlarmRef)
def ack(ctx: Context, args: AlarmRef) -> Reply:
    """Acknowledge an alarm: you are on it."""
    with ctx.db.transaction() as s:
        a = acknowledge_alarm(s, args.alarm, ctx.actor, now=ctx.now())
        return Reply(text=f"{a.ref} acknowledged by {ctx.actor}")
