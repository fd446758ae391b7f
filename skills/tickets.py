"""Trouble tickets in chat (TMF621): open, look, work, resolve, close; every step kept."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import model_validator

from domain import policy
from domain.errors import DomainError
from domain.faults.choices import OPEN_TICKET_STATUSES, TicketKind, TicketStatus
from domain.faults.queries import TicketEventRow, ticket_list, ticket_view
from domain.faults.services import file_ticket, give_ticket, note_ticket, set_ticket_status
from domain.figures import PAST_SLA
from domain.lookup import looks_like_number, parse_selector
from domain.privacy import Audience, mask_name, mask_names, mask_subject, mask_text
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Reply, Section, Table, showing
from skills.words import last_word_is


class OpenArgs(Args):
    """What a ticket is about may be several words (`+91 98765 43210`,
    `site:MUM-AND1 role:core`); the last word is the title, unless named (title=...)."""

    about: list[str] = positional(metavar="device|customer|msisdn")
    title: str = positional(metavar="title")
    sev: int = 3

    @model_validator(mode="before")
    @classmethod
    def _last_word_is_the_title(cls, data: Any) -> Any:
        return last_word_is(data, "about", "title", unless=looks_like_number)


class TicketRef(Args):
    ticket: str = positional(metavar="T-id")


class ShowArgs(TicketRef):
    private: bool = False


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


def _event_text(e: TicketEventRow) -> str:
    move = f"{e.from_status} -> {e.to_status}" if e.from_status and e.to_status else ""
    return " ".join(p for p in (f"{e.kind.value}:", move, e.text) if p)


def _buttons(ctx: Context, ref: str, kind: TicketKind, status: TicketStatus) -> tuple[Button, ...]:
    """The next steps, only those the reader may take: their roles work this kind of
    ticket and may run the button's command (a click is checked again anyway)."""
    if not policy.may_work_ticket(ctx.roles, kind):
        return ()
    steps: tuple[Button, ...] = ()
    if status in OPEN_TICKET_STATUSES:
        steps = (Button("Take it", f"/ticket assign {ref} me"),)
        if status != TicketStatus.IN_PROGRESS:
            steps += (Button("In progress", f"/ticket status {ref} inProgress"),)
    elif status == TicketStatus.RESOLVED:
        steps = (
            Button("Close", f"/ticket close {ref}", style="primary"),
            Button("Reopen", f"/ticket status {ref} inProgress"),
        )
    return tuple(b for b in steps if policy.may_run(ctx.roles, _path(b.command)))


def _path(typed: str) -> str:
    """The command a button's typed twin runs: "/ticket close T-1" -> "ticket close"."""
    return " ".join(typed.lstrip("/").split()[:2])


@command("ticket open", args=OpenArgs)
def open_(ctx: Context, args: OpenArgs) -> Reply:
    """Open a ticket about a device, a mobile number or a customer: "title" sev=1..4."""
    t = file_ticket(
        ctx.db,
        " ".join(args.about),
        title=args.title,
        severity=args.sev,
        reporter=ctx.actor,
        roles=ctx.roles,
        sla_hours=ctx.services.tickets.sla_hours,
        now=ctx.now(),
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
        buttons=_buttons(ctx, t.ref, t.kind, t.status),
        data=t,
    )


@command("ticket show", args=ShowArgs)
def show(ctx: Context, args: ShowArgs) -> Reply:
    """A ticket with its whole history (in the channel, its customer masked; --private
    shows it to you alone, in full if your role may see it)."""
    audience = ctx.audience(ephemeral=args.private)
    with ctx.db.read() as s:
        t = ticket_view(s, args.ticket, ctx.now())
    # Free text is masked when stored; older rows are masked here as well.
    # In a channel the customer's name is masked wherever it was typed, too.
    names = [t.customer_name] if t.customer_name and audience == Audience.CHANNEL else []

    def shown(text: str) -> str:
        return mask_names(mask_text(text), names)

    t = dataclasses.replace(
        t,
        title=shown(t.title),
        about=t.about if audience != Audience.CHANNEL else tuple(map(mask_subject, t.about)),
        resolution=shown(t.resolution) if t.resolution else t.resolution,
        history=tuple(dataclasses.replace(e, text=shown(e.text)) for e in t.history),
        customer_name=mask_names(t.customer_name, names) if t.customer_name else None,
    )
    fields = (
        Field("status", t.status.value),
        Field("severity", str(t.severity)),
        Field("about", ", ".join(t.about) or "-"),
        Field("assignee", t.assignee or "nobody yet"),
        Field("reporter", t.reporter),
        Field(
            "SLA due",
            f"{t.sla_due_at:%Y-%m-%d %H:%M} UTC" + (" (breached)" if t.breached else ""),
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
        buttons=_buttons(ctx, t.ref, t.kind, t.status),
        ephemeral=args.private,
        data=t,
    )


@command("ticket list", args=ListArgs)
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
    # site: reads as in a device selector: a value it needs, several OR, unknown ones refused.
    typed_sites = sorted(w for w in words if w.startswith("site:"))
    sites = parse_selector(typed_sites).sites if typed_sites else frozenset()
    with ctx.db.read() as s:
        found = ticket_list(
            s,
            now=now,
            assignee=ctx.actor if "mine" in words else None,
            breached="breached" in words,
            sites=sites,
            severity=args.sev,
            limit=max(1, min(args.limit, 100)),
        )
    # The list is read in the channel: each title with its customer's name masked.
    found = dataclasses.replace(
        found,
        rows=[
            dataclasses.replace(
                t,
                title=mask_names(mask_text(t.title), [t.customer_name] if t.customer_name else []),
                customer_name=mask_name(t.customer_name) if t.customer_name else None,
            )
            for t in found.rows
        ],
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
                "BREACHED" if t.breached else f"{t.sla_due_at:%m-%d %H:%M}",
            )
            for t in found.rows
        ),
    )
    what = f"ticket(s) {PAST_SLA}" if "breached" in words else "open ticket(s)"
    head = showing(what, len(found.rows), found.total, cap=100, narrow="mine, site:X, sev=N")
    return Reply(text=head, tables=(table,), data=found)


def _user(ctx: Context, name: str) -> str:
    who = ctx.actor if name == "me" else name
    return ctx.services.known_user(who)


@command("ticket assign", args=AssignArgs)
def assign(ctx: Context, args: AssignArgs) -> Reply:
    """Give a ticket to someone (`me` for yourself)."""
    who = _user(ctx, args.user)
    t = give_ticket(
        ctx.db,
        args.ticket,
        who,
        actor=ctx.actor,
        roles=ctx.roles,
        assignee_roles=ctx.services.users[who].roles,
        now=ctx.now(),
    )
    return Reply(text=f"{t.ref} assigned to {t.assignee}", data=t)


@command("ticket note", args=TextArgs)
def note(ctx: Context, args: TextArgs) -> Reply:
    """Add a note to a ticket's history."""
    t = note_ticket(ctx.db, args.ticket, args.text, actor=ctx.actor, roles=ctx.roles, now=ctx.now())
    return Reply(text=f"note added to {t.ref}", data=t)


def _status(text: str) -> TicketStatus:
    for status in TicketStatus:
        if status.value.lower() == text.lower():
            return status
    raise DomainError(
        f"no ticket state {text!r}", hint=f"states: {', '.join(s.value for s in TicketStatus)}"
    )


@command("ticket status", args=StatusArgs)
def status(ctx: Context, args: StatusArgs) -> Reply:
    """Move a ticket to another state (inProgress, pending, held, ...)."""
    t = set_ticket_status(
        ctx.db,
        args.ticket,
        _status(args.status),
        actor=ctx.actor,
        roles=ctx.roles,
        now=ctx.now(),
    )
    return Reply(
        text=f"{t.ref} is now {t.status.value}",
        buttons=_buttons(ctx, t.ref, t.kind, t.status),
        data=t,
    )


@command("ticket resolve", args=TextArgs)
def resolve(ctx: Context, args: TextArgs) -> Reply:
    """Resolve a ticket, saying what fixed it."""
    t = set_ticket_status(
        ctx.db,
        args.ticket,
        TicketStatus.RESOLVED,
        actor=ctx.actor,
        roles=ctx.roles,
        note=args.text,
        now=ctx.now(),
    )
    late = " (after its SLA)" if t.breached else ""
    return Reply(
        text=f"{t.ref} resolved{late}", buttons=_buttons(ctx, t.ref, t.kind, t.status), data=t
    )


@command("ticket close", args=TicketRef)
def close(ctx: Context, args: TicketRef) -> Reply:
    """Close a resolved ticket."""
    t = set_ticket_status(
        ctx.db, args.ticket, TicketStatus.CLOSED, actor=ctx.actor, roles=ctx.roles, now=ctx.now()
    )
    return Reply(text=f"{t.ref} closed", data=t)
