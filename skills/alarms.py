"""Alarms in chat (TMF642): list the raised ones, look at one, acknowledge it."""

from __future__ import annotations

from domain.config import Role
from domain.db import make_ref
from domain.faults.choices import AlarmState, PerceivedSeverity
from domain.faults.models import Alarm
from domain.faults.queries import AlarmView, StormSummary, alarm_view, raised_alarms
from domain.faults.services import acknowledge_alarm, get_alarm
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Form, Input, Reply, Section, Table

VIEWERS = [Role.ENGINEER, Role.MANAGER]


class ListArgs(Args):
    filters: list[str] = positional([], metavar="severity|site|device")
    limit: int = 25


class AlarmRef(Args):
    alarm: str = positional(metavar="A-id")


@command("alarm list", roles=VIEWERS, args=ListArgs)
def list_(ctx: Context, args: ListArgs) -> Reply:
    """Raised alarms, worst first; filter by severity, site code or device."""
    with ctx.db.read() as s:
        rows = raised_alarms(s, args.filters, max(1, args.limit))
    table = Table(
        ("alarm", "severity", "device", "site", "what", "raised (UTC)", "ack"),
        tuple(
            (
                a.ref,
                a.severity.value,
                a.hostname or "-",
                a.site or "-",
                a.alarm_type,
                f"{a.raised_at:%m-%d %H:%M}",
                a.acked_by or "-",
            )
            for a in rows
        ),
    )
    return Reply(text=f"{len(rows)} raised alarm(s)", tables=(table,))


_ICON = {
    PerceivedSeverity.CRITICAL: ":red_circle:",
    PerceivedSeverity.MAJOR: ":large_orange_circle:",
    PerceivedSeverity.MINOR: ":large_yellow_circle:",
    PerceivedSeverity.WARNING: ":large_yellow_circle:",
}


def alarm_card(view: AlarmView) -> Reply:
    """An alarm as people see it, in `/alarm show` and in its channel message."""
    a, hostname = view.alarm, view.hostname
    cleared = a.state == AlarmState.CLEARED
    icon = ":white_check_mark:" if cleared else _ICON.get(a.perceived_severity, ":white_circle:")
    fields = [
        Field("severity", a.perceived_severity.value),
        Field("state", a.state.value),
        Field("device", f"{hostname} ({view.site})" if hostname else "-"),
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
    if view.symptoms:
        fields.append(Field("symptoms", f"{view.symptoms} alarm(s) on this device filed under it"))
    buttons = []
    if a.acked_by is None and not cleared:
        buttons.append(Button("Acknowledge", f"/alarm ack {a.ref}", style="primary"))
    if hostname is not None:
        if a.ticket_id is None and not cleared:
            buttons.append(
                Button(
                    "Open ticket",
                    f"/ticket open {hostname}",
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
        buttons.append(Button("Show device", f"/inventory show {hostname}"))
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


def storm_card(b: StormSummary) -> Reply:
    """One summary for a storm of alarms, kept up to date while it lasts."""
    storm = b.storm
    worst = ", ".join(
        f"{b.severity[v.value]} {v.value}" for v in PerceivedSeverity if v.value in b.severity
    )
    fields = (
        Field("alarms", f"{b.alarms} ({worst})"),
        Field("cleared since", str(b.cleared)),
        Field("from", f"{storm.started_at:%H:%M:%S} to {storm.last_at:%H:%M:%S} UTC"),
        Field("devices most hit", ", ".join(f"{h} ({n})" for h, n in b.devices) or "-"),
        Field("alarm types", ", ".join(f"{t} ({n})" for t, n in b.types) or "-"),
    )
    return Reply(
        text=f":rotating_light: Alarm storm {storm.ref}: {b.alarms} new alarms, "
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
        view = alarm_view(s, get_alarm(s, args.alarm).id)
    return alarm_card(view)


@command("alarm ack", roles=[Role.ENGINEER], args=AlarmRef)
def ack(ctx: Context, args: AlarmRef) -> Reply:
    """Acknowledge an alarm: you are on it."""
    with ctx.db.transaction() as s:
        a = acknowledge_alarm(s, args.alarm, ctx.actor, now=ctx.now())
        return Reply(text=f"{a.ref} acknowledged by {ctx.actor}")
