"""Trouble tickets in chat (TMF621): open, look, work, resolve, close; every step kept."""

from __future__ import annotations

from domain.config import Role
from domain.customers.models import Customer, Subscription
from domain.errors import DomainError
from domain.faults.choices import OPEN_TICKET_STATUSES, TicketKind, TicketStatus
from domain.faults.models import Ticket, TicketEvent
from domain.faults.queries import open_tickets
from domain.faults.services import (
    add_note,
    assign_ticket,
    get_ticket,
    move_ticket,
    open_ticket,
)
from domain.inventory.models import Device
from domain.lookup import TICKET_SUBJECT, resolve_subject
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Reply, Section, Table

WORKERS = [Role.ENGINEER, Role.CARE_AGENT]
READERS = [Role.ENGINEER, Role.CARE_AGENT, Role.MANAGER]


class OpenArgs(Args):
    about: str = positional(metavar="device|customer|msisdn")
    title: str = positional(metavar="title")
    sev: int = 3


class TicketRef(Args):
    ticket: str = positional(metavar="T-id")


class AssignArgs(Args):
    ticket: str = positional(metavar="T-id")
    user: str = positional(metavar="user")


class TextArgs(Args):
    ticket: str = positional(metavar="T-id")
    text: str = positional(metavar="text")


class StatusArgs(Args):
    ticket: str = positional(metavar="T-id")
    status: str = positional(metavar="state")


class ListArgs(Args):
    filters: list[str] = positional([], metavar="mine|open|breached|site:X")
    sev: int | None = None
    limit: int = 20


def _event_text(e: TicketEvent) -> str:
    move = f"{e.from_status} -> {e.to_status}" if e.from_status and e.to_status else ""
    return " ".join(p for p in (f"{e.kind.value}:", move, e.text) if p)


def _buttons(t: Ticket) -> tuple[Button, ...]:
    if t.status in OPEN_TICKET_STATUSES:
        take = Button("Take it", f"/ticket assign {t.ref} me")
        if t.status == TicketStatus.IN_PROGRESS:
            return (take,)
        return (take, Button("In progress", f"/ticket status {t.ref} inProgress"))
    if t.status == TicketStatus.RESOLVED:
        return (
            Button("Close", f"/ticket close {t.ref}", style="primary"),
            Button("Reopen", f"/ticket status {t.ref} inProgress"),
        )
    return ()


@command("ticket open", roles=WORKERS, args=OpenArgs)
def open_(ctx: Context, args: OpenArgs) -> Reply:
    """Open a ticket about a device, a mobile number or a customer: "title" sev=1..4."""
    with ctx.db.read() as s:
        subject = resolve_subject(s, args.about, TICKET_SUBJECT)
    with ctx.db.transaction() as s:
        t = open_ticket(
            s,
            title=args.title,
            severity=args.sev,
            reporter=ctx.actor,
            sla_hours=ctx.services.tickets.sla_hours,
            now=ctx.now(),
            # About a device, an incident; about a line, account or customer, a request.
            kind=TicketKind.INCIDENT if subject.device_id else TicketKind.SERVICE_REQUEST,
            device_id=subject.device_id,
            subscription_id=subject.subscription_id,
            customer_id=subject.customer_id,
        )
        return Reply(
            text=f"{t.ref} opened: {t.title}",
            sections=(
                Section(
                    fields=(
                        Field("severity", str(t.severity)),
                        Field("status", t.status.value),
                        Field("SLA due", f"{t.sla_due_at:%Y-%m-%d %H:%M} UTC"),
                    )
                ),
            ),
            buttons=_buttons(t),
        )


@command("ticket show", roles=READERS, args=TicketRef)
def show(ctx: Context, args: TicketRef) -> Reply:
    """A ticket with its whole history."""
    with ctx.db.read() as s:
        t = get_ticket(s, args.ticket)
        about = []
        if t.device_id:
            about.append(s.get_one(Device, t.device_id).hostname)
        if t.subscription_id:
            about.append(s.get_one(Subscription, t.subscription_id).identifier)
        if t.customer_id:
            about.append(s.get_one(Customer, t.customer_id).name)
        fields = (
            Field("status", t.status.value),
            Field("severity", str(t.severity)),
            Field("about", ", ".join(about) or "-"),
            Field("assignee", t.assignee or "nobody yet"),
            Field("reporter", t.reporter),
            Field(
                "SLA due",
                f"{t.sla_due_at:%Y-%m-%d %H:%M} UTC"
                + (" (breached)" if t.breached(ctx.now()) else ""),
            ),
            Field("resolution", t.resolution or "-"),
        )
        history = Table(
            ("when (UTC)", "who", "what"),
            tuple((f"{e.at:%Y-%m-%d %H:%M}", e.actor, _event_text(e)) for e in t.history),
            title="history",
        )
        return Reply(
            text=f"{t.ref}: {t.title}",
            sections=(Section(fields=fields),),
            tables=(history,),
            buttons=_buttons(t),
        )


@command("ticket list", roles=READERS, args=ListArgs)
def list_(ctx: Context, args: ListArgs) -> Reply:
    """Tickets: mine, open, breached, site:X, sev=N (open tickets unless you say otherwise)."""
    now = ctx.now()
    words = {w.lower() for w in args.filters}
    unknown = [
        w for w in words if w not in ("mine", "open", "breached") and not w.startswith("site:")
    ]
    if unknown:
        raise DomainError(
            f"unknown filter {unknown[0]!r}", hint="mine, open, breached, site:X, sev=N"
        )
    site = next((w[5:] for w in words if w.startswith("site:")), None)
    with ctx.db.read() as s:
        rows = open_tickets(
            s,
            now=now,
            assignee=ctx.actor if "mine" in words else None,
            breached="breached" in words,
            site=site,
            severity=args.sev,
            limit=max(1, min(args.limit, 100)),
        )
        table = Table(
            ("ticket", "sev", "status", "title", "assignee", "SLA"),
            tuple(
                (
                    t.ref,
                    str(t.severity),
                    t.status.value,
                    t.title[:50],
                    t.assignee or "-",
                    "BREACHED" if t.breached(now) else f"{t.sla_due_at:%m-%d %H:%M}",
                )
                for t in rows
            ),
        )
    return Reply(text=f"{len(rows)} open ticket(s)", tables=(table,))


def _user(ctx: Context, name: str) -> str:
    who = ctx.actor if name == "me" else name
    return ctx.services.known_user(who)


@command("ticket assign", roles=WORKERS, args=AssignArgs)
def assign(ctx: Context, args: AssignArgs) -> Reply:
    """Give a ticket to someone (`me` for yourself)."""
    with ctx.db.transaction() as s:
        t = assign_ticket(s, args.ticket, _user(ctx, args.user), ctx.actor, now=ctx.now())
        return Reply(text=f"{t.ref} assigned to {t.assignee}")


@command("ticket note", roles=WORKERS, args=TextArgs)
def note(ctx: Context, args: TextArgs) -> Reply:
    """Add a note to a ticket's history."""
    with ctx.db.transaction() as s:
        t = add_note(s, args.ticket, args.text, ctx.actor, now=ctx.now())
        return Reply(text=f"note added to {t.ref}")


def _status(text: str) -> TicketStatus:
    for status in TicketStatus:
        if status.value.lower() == text.lower():
            return status
    raise DomainError(
        f"no ticket state {text!r}", hint=f"states: {', '.join(s.value for s in TicketStatus)}"
    )


@command("ticket status", roles=WORKERS, args=StatusArgs)
def status(ctx: Context, args: StatusArgs) -> Reply:
    """Move a ticket to another state (inProgress, pending, held, ...)."""
    with ctx.db.transaction() as s:
        t = move_ticket(s, args.ticket, _status(args.status), ctx.actor, now=ctx.now())
        return Reply(text=f"{t.ref} is now {t.status.value}", buttons=_buttons(t))


@command("ticket resolve", roles=WORKERS, args=TextArgs)
def resolve(ctx: Context, args: TextArgs) -> Reply:
    """Resolve a ticket, saying what fixed it."""
    with ctx.db.transaction() as s:
        t = move_ticket(
            s, args.ticket, TicketStatus.RESOLVED, ctx.actor, note=args.text, now=ctx.now()
        )
        late = " (after its SLA)" if t.breached(ctx.now()) else ""
        return Reply(text=f"{t.ref} resolved{late}", buttons=_buttons(t))


@command("ticket close", roles=WORKERS, args=TicketRef)
def close(ctx: Context, args: TicketRef) -> Reply:
    """Close a resolved ticket."""
    with ctx.db.transaction() as s:
        t = move_ticket(s, args.ticket, TicketStatus.CLOSED, ctx.actor, now=ctx.now())
        return Reply(text=f"{t.ref} closed")
