"""Alarms in chat (TMF642): list the raised ones, look at one, acknowledge it."""

from __future__ import annotations

import dataclasses

from domain.faults.choices import AlarmState, PerceivedSeverity
from domain.faults.queries import AlarmView, StormSummary, alarm_by_ref, alarm_list
from domain.faults.services import ack_alarm
from domain.privacy import mask_label
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Form, Input, Reply, Section, Table, showing

#: The most alarms one list shows (the worst of the newest 500 open ones are picked).
MAX_LIMIT = 500


class ListArgs(Args):
    filters: list[str] = positional([], metavar="severity|site|device")
    limit: int = 25


class AlarmRef(Args):
    alarm: str = positional(metavar="A-id")


@command("alarm list", args=ListArgs)
def list_(ctx: Context, args: ListArgs) -> Reply:
    """Raised alarms, worst first; filter by severity, site code or device."""
    with ctx.db.read() as s:
        found = alarm_list(s, args.filters, max(1, min(args.limit, MAX_LIMIT)))
    rows = found.rows
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
    head = showing(
        "raised alarm(s)",
        len(rows),
        found.total,
        cap=MAX_LIMIT,
        narrow="a severity (critical), a site code or a hostname",
    )
    return Reply(text=head, tables=(table,), data=found)


_ICON = {
    PerceivedSeverity.CRITICAL: ":red_circle:",
    PerceivedSeverity.MAJOR: ":large_orange_circle:",
    PerceivedSeverity.MINOR: ":large_yellow_circle:",
    PerceivedSeverity.WARNING: ":large_yellow_circle:",
}


def alarm_card(a: AlarmView) -> Reply:
    """An alarm as people see it, in `/alarm show` and in its channel message: both are
    read by a channel, so labels that name a customer or their line are masked."""
    a = dataclasses.replace(
        a, labels={k: mask_label(k, v) if isinstance(v, str) else v for k, v in a.labels.items()}
    )
    hostname = a.hostname
    cleared = a.state == AlarmState.CLEARED
    icon = ":white_check_mark:" if cleared else _ICON.get(a.severity, ":white_circle:")
    fields = [
        Field("severity", a.severity.value),
        Field("state", a.state.value),
        Field("device", f"{hostname} ({a.site})" if hostname else "-"),
        Field("type", a.alarm_type),
        Field("raised", f"{a.raised_at:%Y-%m-%d %H:%M} UTC"),
        Field("repeats", str(a.repeats)),
        Field("acknowledged", f"by {a.acked_by}" if a.acked_by else "no"),
        Field("labels", ", ".join(f"{k}={v}" for k, v in a.labels.items()) or "-"),
    ]
    if cleared and a.cleared_at:
        fields.append(Field("cleared", f"{a.cleared_at:%Y-%m-%d %H:%M} UTC"))
    if a.ticket:
        fields.append(Field("ticket", a.ticket))
    if a.correlated_under:
        fields.append(Field("correlated under", f"{a.correlated_under} (root cause)"))
    if a.symptoms:
        fields.append(Field("symptoms", f"{a.symptoms} alarm(s) on this device filed under it"))
    buttons = []
    if a.acked_by is None and not cleared:
        buttons.append(Button("Acknowledge", f"/alarm ack {a.ref}", style="primary"))
    if hostname is not None:
        if a.ticket is None and not cleared:
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
        text=f"{icon} {a.ref} {a.severity.value}: {a.summary}" + (" (cleared)" if cleared else ""),
        sections=(Section(fields=tuple(fields)),),
        buttons=tuple(buttons),
        data=a,
    )


def _ticket_sev(a: AlarmView) -> str:
    return {PerceivedSeverity.CRITICAL: "1", PerceivedSeverity.MAJOR: "2"}.get(a.severity, "3")


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


@command("alarm show", args=AlarmRef)
def show(ctx: Context, args: AlarmRef) -> Reply:
    """One alarm with its device, state, ticket, correlation and labels."""
    with ctx.db.read() as s:
        view = alarm_by_ref(s, args.alarm)
    return alarm_card(view)


@command("alarm ack", args=AlarmRef)
def ack(ctx: Context, args: AlarmRef) -> Reply:
    """Acknowledge an alarm: you are on it."""
    done = ack_alarm(ctx.db, args.alarm, ctx.actor, now=ctx.now())
    return Reply(text=f"{done.alarm} acknowledged by {ctx.actor}", data=done)
