"""Alarms in chat (TMF642): list the raised ones, look at one, acknowledge it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.config import Role
from domain.db import get_by_ref, make_ref
from domain.errors import DomainError
from domain.faults.choices import AlarmState, PerceivedSeverity
from domain.faults.models import Alarm, AlarmStorm
from domain.faults.services import acknowledge_alarm, symptoms_of
from domain.inventory.models import Device, Site
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Form, Input, Reply, Section, Table

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


_ICON = {
    PerceivedSeverity.CRITICAL: ":red_circle:",
    PerceivedSeverity.MAJOR: ":large_orange_circle:",
    PerceivedSeverity.MINOR: ":large_yellow_circle:",
    PerceivedSeverity.WARNING: ":large_yellow_circle:",
}


def alarm_card(s: Session, a: Alarm) -> Reply:
    """An alarm as people see it, in `/alarm show` and in its channel message."""
    device = s.get(Device, a.device_id) if a.device_id else None
    site = s.get(Site, device.site_id) if device else None
    cleared = a.state == AlarmState.CLEARED
    icon = ":white_check_mark:" if cleared else _ICON.get(a.perceived_severity, ":white_circle:")
    fields = [
        Field("severity", a.perceived_severity.value),
        Field("state", a.state.value),
        Field("device", f"{device.hostname} ({site.code})" if device and site else "-"),
        Field("type", a.alarm_type),
        Field("raised", f"{a.raised_at:%Y-%m-%d %H:%M} UTC"),
        Field("repeats", str(a.repeat_count)),
        Field("acknowledged", f"by {a.acked_by}" if a.acked_by else "no"),
        Field("labels", ", ".join(f"{k}={v}" for k, v in a.labels.items()) or "-"),
    ]
    if cleared and a.cleared_at:
        fields.append(Field("cleared", f"{a.cleared_at:%Y-%m-%d %H:%M} UTC"))
    if a.ticket_id:
        fields.append(Field("ticket", make_ref("T", a.ticket_id)))
    if a.parent_id:
        fields.append(Field("correlated under", f"{make_ref('A', a.parent_id)} (root cause)"))
    children = symptoms_of(s, a.id)
    if children:
        fields.append(Field("symptoms", f"{children} alarm(s) on this device filed under it"))
    buttons = []
    if a.acked_by is None and not cleared:
        buttons.append(Button("Acknowledge", f"/alarm ack {a.ref}", style="primary"))
    if device is not None:
        if a.ticket_id is None and not cleared:
            buttons.append(
                Button(
                    "Open ticket",
                    f"/ticket open {device.hostname}",
                    form=Form(
                        "Open a ticket",
                        (
                            Input("title", "Title", initial=a.summary[:200]),
                            Input("sev", "Severity 1 (worst) to 4", initial=_ticket_sev(a)),
                        ),
                        submit="Open",
                    ),
                )
            )
        buttons.append(Button("Show device", f"/inventory show {device.hostname}"))
    return Reply(
        text=f"{icon} {a.ref} {a.perceived_severity.value}: {a.summary}"
        + (" (cleared)" if cleared else ""),
        sections=(Section(fields=tuple(fields)),),
        buttons=tuple(buttons),
    )


def _ticket_sev(a: Alarm) -> str:
    return {PerceivedSeverity.CRITICAL: "1", PerceivedSeverity.MAJOR: "2"}.get(
        a.perceived_severity, "3"
    )


def storm_card(storm: AlarmStorm, b: dict[str, Any]) -> Reply:
    """One summary for a storm of alarms (`storm_breakdown`), kept up to date while it lasts."""
    worst = ", ".join(
        f"{b['severity'][v.value]} {v.value}" for v in PerceivedSeverity if v.value in b["severity"]
    )
    fields = (
        Field("alarms", f"{b['alarms']} ({worst})"),
        Field("cleared since", str(b["cleared"])),
        Field("from", f"{storm.started_at:%H:%M:%S} to {storm.last_at:%H:%M:%S} UTC"),
        Field("devices most hit", ", ".join(f"{h} ({n})" for h, n in b["devices"]) or "-"),
        Field("alarm types", ", ".join(f"{t} ({n})" for t, n in b["types"]) or "-"),
    )
    return Reply(
        text=f":rotating_light: Alarm storm {storm.ref}: {b['alarms']} new alarms, "
        "reported together instead of one message each",
        sections=(Section(fields=fields),),
        buttons=(
            Button("Critical alarms", "/alarm list critical"),
            Button("All raised alarms", "/alarm list"),
        ),
    )


@command("alarm show", roles=VIEWERS, args=AlarmRef)
def show(ctx: Context, args: AlarmRef) -> Reply:
    """One alarm with its device, state, ticket, correlation and labels."""
    with ctx.db.read() as s:
        return alarm_card(s, get_by_ref(s, Alarm, args.alarm, "alarm"))


@command("alarm ack", roles=[Role.ENGINEER], args=AlarmRef)
def ack(ctx: Context, args: AlarmRef) -> Reply:
    """Acknowledge an alarm: you are on it."""
    with ctx.db.transaction() as s:
        a = acknowledge_alarm(s, args.alarm, ctx.actor, now=ctx.now())
        return Reply(text=f"{a.ref} acknowledged by {ctx.actor}")
