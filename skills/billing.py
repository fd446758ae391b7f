"""Care lookups on bills, payments and disputes; private to the caller unless shared."""

from __future__ import annotations

from domain.billing.choices import CreditState
from domain.billing.queries import (
    CreditView,
    InvoiceExplained,
    InvoiceSummary,
    PendingCredit,
    bill_view,
    credits_waiting,
    explain_invoice,
    invoice_items,
)
from domain.billing.services import (
    approve_credit,
    dispute_invoice,
    reject_credit,
    settle_dispute,
    take_payment,
)
from domain.customers.choices import PaymentMethod
from domain.money import Amount, parse_money, parse_received
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Form, Input, Reply, Section, Table


class Lookup(Args):
    query: list[str] = positional(metavar="number|account|invoice|name")
    share: bool = False


class InvoiceRef(Args):
    invoice: str = positional(metavar="invoice")
    share: bool = False


class PaymentArgs(Args):
    account: str = positional(metavar="account")
    amount: str = positional(metavar="amount")
    ref: str
    method: PaymentMethod = PaymentMethod.UPI
    date: str = ""


class DisputeOpen(Args):
    invoice: str = positional(metavar="invoice")
    reason: str = positional(metavar="reason")


class DisputeResolve(Args):
    ticket: str = positional(metavar="T-id")
    resolution: str = positional(metavar="resolution")
    credit: str = ""


class CreditRef(Args):
    ref: str = positional(metavar="CRD-id")
    note: str = ""


class CreditRejection(Args):
    ref: str = positional(metavar="CRD-id")
    reason: str = positional(metavar="reason")


#: The most credits one /credit list shows.
CREDIT_LIST_CAP = 200


class CreditList(Args):
    limit: int = 20


def credit_buttons(ref: str, *, named: bool = False) -> tuple[Button, ...]:
    """Approve / Reject for a credit that waits; each runs its typed twin."""
    tail = f" {ref}" if named else ""
    return (
        Button(f"Approve{tail}", f"/credit approve {ref}", style="primary"),
        Button(
            f"Reject{tail}",
            f"/credit reject {ref}",
            style="danger",
            form=Form(
                f"Reject {ref}",
                (Input("reason", "Why? The care agent sees this.", multiline=True),),
                submit="Reject",
            ),
        ),
    )


def _pending_words(p: PendingCredit) -> str:
    return f"{p.credit} {p.amount} on {p.invoice} by {p.requested_by}, waits for a manager"


def credit_outcome(c: CreditView) -> str:
    """Where a credit stands, in words: waiting, or who decided it and why."""
    if c.state == CreditState.PENDING:
        return "waits for a manager"
    why = f": {c.decision_note}" if c.decision_note else ""
    return f"{c.state} by {c.decided_by}{why}"


def credit_card(c: CreditView) -> Reply:
    """A credit as the approvals channel shows it: Approve / Reject while it waits, then
    who decided it (the same message, updated)."""
    fields = [
        Field("state", str(c.state)),
        Field("customer", f"{c.customer} ({c.account})"),
        Field("invoice", c.invoice + (f", dispute {c.ticket}" if c.ticket else "")),
        Field("amount", str(c.amount)),
        Field("asked by", f"{c.requested_by} at {c.requested_at:%Y-%m-%d %H:%M} UTC"),
        Field("needs a manager because", c.why),
    ]
    if c.decided_by and c.decided_at:
        fields.append(Field("decided by", f"{c.decided_by} at {c.decided_at:%Y-%m-%d %H:%M} UTC"))
    if c.decision_note:
        fields.append(Field("decision note", c.decision_note))
    if c.adjustment:
        fields.append(Field("credited by", f"{c.adjustment}, on the next invoice"))
    return Reply(
        text=f"Credit {c.credit}: {c.amount} on {c.invoice}, {credit_outcome(c)}",
        sections=(Section(fields=tuple(fields)),),
        buttons=credit_buttons(c.credit) if c.state == CreditState.PENDING else (),
        data=c,
    )


def _invoice_field(inv: InvoiceSummary | None) -> str:
    if inv is None:
        return "none yet"
    return (
        f"{inv.number} ({inv.period_start:%b %Y}): {inv.total}, "
        f"due {inv.due_date:%d %b}, {inv.state}" + (", disputed" if inv.disputed else "")
    )


def _explanation(e: InvoiceExplained) -> list[str]:
    """The explanation in plain words, the headline first."""
    if e.previous is None or e.previous_total is None:
        first = [f"This is the first invoice of the account: {e.total!s}."] + [
            f"{c.what[:1].upper()}{c.what[1:]}: {c.now!s}." for c in e.changes
        ]
        return first + _credit_sentences(e)
    delta = e.total.minor - e.previous_total.minor
    way = "up" if delta > 0 else "down" if delta < 0 else "unchanged"
    head = (
        f"{e.invoice} is {e.total!s}, {way} "
        f"{_like(abs(delta), e.total)!s} from {e.previous_total!s} "
        f"on {e.previous}."
        if delta
        else f"{e.invoice} is {e.total!s}, the same as {e.previous}."
    )
    out = [head]
    for c in e.changes:
        new, old = c.now.minor, c.before.minor
        if old == 0:
            out.append(f"New this time: {c.what}, {c.now!s}.")
        elif new == 0:
            out.append(f"No {c.what} this time (was {c.before!s}).")
        else:
            change = "more" if new > old else "less"
            out.append(
                f"{c.what[:1].upper()}{c.what[1:]}: {c.now!s}, "
                f"{_like(abs(new - old), c.now)!s} {change} than last time."
            )
    return out + _credit_sentences(e)


def _credit_sentences(e: InvoiceExplained) -> list[str]:
    """Whether it is disputed, the credits on it (applied or pending), what is left."""
    out = []
    if e.disputed:
        out.append("This invoice is under dispute.")
    for c in e.credits:
        if c.state == "pending":
            out.append(
                f"{c.ref} would credit {c.amount}: it waits for a manager and is on no bill yet."
            )
        else:
            on = f"carried by {c.billed_on}" if c.billed_on else "on the next invoice"
            out.append(f"{c.ref} credits {c.amount}, {on}.")
    if e.credits:
        out.append(f"{e.creditable} of {e.charged} still creditable.")
    return out


def _like(minor: int, amount: Amount) -> Amount:
    return Amount(minor, amount.currency, amount.minor_digits)


@command("bill", args=Lookup)
def bill(ctx: Context, args: Lookup) -> Reply:
    """A customer's bill: balance, last invoice, payments, unbilled usage, dunning, disputes
    (private by default; --share posts it to the channel, masked for everyone there)."""
    audience = ctx.audience(ephemeral=not args.share)
    with ctx.db.read() as s:
        b = bill_view(s, " ".join(args.query), ctx.services.billing, audience=audience)
    unbilled, last = b.unbilled, b.last_invoice
    fields = [
        Field("customer", f"{b.customer} ({b.segment})"),
        Field("account", f"{b.account} ({b.account_status})"),
        Field("balance", str(b.balance)),
        Field("credit limit", str(b.credit_limit)),
        Field("last invoice", _invoice_field(last)),
        Field("dunning", str(b.dunning)),
        Field(
            "unbilled usage",
            f"{unbilled.rated} rated over {unbilled.rated_records:,} records"
            + (
                f", {unbilled.received_records:,} not rated yet"
                if unbilled.received_records
                else ""
            ),
        ),
        Field(
            "recent payments",
            "; ".join(f"{p.amount} on {p.received_at:%d %b} ({p.method})" for p in b.payments)
            or "none",
        ),
        Field(
            "open disputes",
            ", ".join(f"{d.ticket} on {d.invoice}" for d in b.open_disputes) or "none",
        ),
    ]
    if b.pending_credits:
        more = len(b.pending_credits) < b.pending_total
        fields.append(
            Field(
                "pending credits",
                "; ".join(_pending_words(p) for p in b.pending_credits)
                + (
                    f" (showing {len(b.pending_credits)} of {b.pending_total}: /credit list)"
                    if more
                    else ""
                ),
            )
        )
    buttons = []
    if last is not None:
        buttons = [
            Button("Items", f"/bill items {last.number}"),
            Button("Explain", f"/bill explain {last.number}"),
        ]
    return Reply(
        text=f"Bill for {b.account}",
        sections=(Section(fields=tuple(fields)),),
        buttons=tuple(buttons),
        ephemeral=not args.share,
        data=b,
    )


@command("bill items", args=InvoiceRef)
def items(ctx: Context, args: InvoiceRef) -> Reply:
    """An invoice's lines and the usage that cost the most on it."""
    with ctx.db.read() as s:
        inv = invoice_items(
            s, args.invoice, ctx.services.billing, audience=ctx.audience(ephemeral=not args.share)
        )
    lines = Table(
        ("kind", "what", "qty", "amount", "tax"),
        tuple(
            (
                str(line.kind),
                line.description,
                f"{line.quantity:g}",
                str(line.amount),
                str(line.tax),
            )
            for line in inv.lines
        ),
        title=f"{inv.invoice}: {inv.subtotal} + tax {inv.tax} = {inv.total}",
    )
    tables = [lines]
    if inv.top_usage:
        tables.append(
            Table(
                ("when (UTC)", "service", "to", "duration / volume", "charge"),
                tuple(
                    (
                        f"{u.started_at:%d %b %H:%M}",
                        str(u.service) + (" roaming" if u.roaming else ""),
                        u.counterpart
                        + (f" ({u.counterpart_country})" if u.counterpart_country else ""),
                        f"{u.duration_s} s" if u.duration_s else f"{u.volume_bytes / 1e6:.1f} MB",
                        str(u.charge),
                    )
                    for u in inv.top_usage
                ),
                title="Top usage",
            )
        )
    return Reply(
        text=f"Lines of {inv.invoice} ({inv.period_start:%b %Y})",
        tables=tuple(tables),
        ephemeral=not args.share,
        data=inv,
    )


@command("bill explain", args=InvoiceRef)
def explain(ctx: Context, args: InvoiceRef) -> Reply:
    """Why a bill is what it is: what changed against the previous one, in plain words."""
    with ctx.db.read() as s:
        explained = explain_invoice(s, args.invoice, ctx.services.billing)
    sentences = _explanation(explained)
    return Reply(
        text=sentences[0],
        sections=tuple(Section(text=t) for t in sentences[1:]) or (),
        ephemeral=not args.share,
        data=explained,
    )


@command("payment record", args=PaymentArgs)
def payment(ctx: Context, args: PaymentArgs) -> Reply:
    """Record a payment on an account: amount ref=... [method=upi] [date=YYYY-MM-DD]."""
    billing = ctx.services.billing
    amount = parse_money(args.amount, billing)
    now = ctx.now()
    # The same rule as payment files: a day is the operator's, today is stored as now.
    received = parse_received(args.date, now, billing.timezone) if args.date.strip() else now
    r = take_payment(
        ctx.db,
        billing,
        args.account,
        amount,
        reference=args.ref,
        method=args.method,
        received_at=received,
        now=now,
    )
    settled = ", ".join(f"{a.invoice} {a.amount} ({a.state})" for a in r.allocations)
    fields = [
        Field("allocated", settled or "nothing was due"),
        Field("balance now", str(r.balance)),
    ]
    if r.credit.minor:
        fields.append(Field("credit kept", str(r.credit)))
    if r.cleared_dunning:
        fields.append(Field("dunning", "cleared: nothing is overdue any more"))
    # Private to the caller, like every care answer about one customer's account.
    return Reply(
        text=f"{r.amount} recorded on {r.account} ({r.reference})",
        sections=(Section(fields=tuple(fields)),),
        ephemeral=True,
        data=r,
    )


@command("dispute open", args=DisputeOpen)
def dispute_open(ctx: Context, args: DisputeOpen) -> Reply:
    """Open a billing dispute on an invoice: a ticket linked to it, the invoice marked."""
    r = dispute_invoice(
        ctx.db,
        args.invoice,
        args.reason,
        actor=ctx.actor,
        sla_hours=ctx.services.tickets.sla_hours,
        now=ctx.now(),
        billing=ctx.services.billing,
    )
    return Reply(
        text=f"{r.ticket} opened: dispute on {r.invoice}",
        sections=(
            Section(
                fields=(
                    Field("invoice", f"{r.invoice}, now marked disputed"),
                    Field("SLA due", f"{r.sla_due_at:%Y-%m-%d %H:%M} UTC"),
                    Field("still creditable", f"{r.creditable} of {r.charged} charged"),
                )
            ),
        ),
        buttons=(
            Button("Explain the bill", f"/bill explain {r.invoice}"),
            Button("Items", f"/bill items {r.invoice}"),
        ),
        ephemeral=True,
        data=r,
    )


@command("dispute resolve", args=DisputeResolve)
def dispute_resolve(ctx: Context, args: DisputeResolve) -> Reply:
    """Resolve a billing dispute; credit=AMOUNT puts a credit on the next invoice.

    A credit never passes what the invoice may still be credited. One above
    billing.credit_approval_above, or on a dispute you opened, waits for a manager.
    """
    billing = ctx.services.billing
    r = settle_dispute(
        ctx.db,
        billing,
        args.ticket,
        args.resolution,
        credit_minor=parse_money(args.credit, billing) if args.credit.strip() else 0,
        actor=ctx.actor,
        now=ctx.now(),
    )
    left = f"{r.creditable} of {r.charged} still creditable on {r.invoice}"
    if r.pending:
        return Reply(
            text=f"{r.ticket} resolved; credit {r.pending} of {r.credit} waits for a manager "
            f"({r.why}); {left}",
            hint=f"a manager other than {ctx.actor} approves it: /credit approve {r.pending}",
            buttons=credit_buttons(r.pending),
            ephemeral=True,
            data=r,
        )
    did = f"{r.adjustment} credits {r.credit} on the next invoice" if r.adjustment else "no credit"
    return Reply(text=f"{r.ticket} resolved; {did}; {left}", ephemeral=True, data=r)


@command("credit approve", args=CreditRef)
def credit_approve(ctx: Context, args: CreditRef) -> Reply:
    """Approve a credit that waits: it goes on the next invoice. Never your own."""
    billing = ctx.services.billing
    r = approve_credit(ctx.db, billing, args.ref, ctx.actor, note=args.note, now=ctx.now())
    return Reply(
        text=f"{r.credit} approved by {r.by}: {r.adjustment} credits {r.amount} on the next "
        f"invoice; {r.creditable} of {r.charged} still creditable on {r.invoice}",
        meta={"credit": r.credit, "state": str(r.state)},
        data=r,
    )


@command("credit reject", args=CreditRejection)
def credit_reject(ctx: Context, args: CreditRejection) -> Reply:
    """Reject a credit that waits, saying why: /credit reject CRD-4 "charges are right"."""
    billing = ctx.services.billing
    r = reject_credit(ctx.db, billing, args.ref, ctx.actor, note=args.reason, now=ctx.now())
    return Reply(
        text=f"{r.credit} rejected by {r.by}: nothing is credited; {r.creditable} of "
        f"{r.charged} still creditable on {r.invoice}",
        meta={"credit": r.credit, "state": str(r.state)},
        data=r,
    )


#: How many of the listed credits get their own Approve / Reject buttons.
BUTTONS_FOR = 5


@command("credit list", args=CreditList)
def credit_list(ctx: Context, args: CreditList) -> Reply:
    """Credits that wait for a manager, oldest first, with Approve / Reject."""
    if not 1 <= args.limit <= CREDIT_LIST_CAP:
        return Reply.error(
            f"limit={args.limit} is not from 1 to {CREDIT_LIST_CAP}", hint="/credit list limit=50"
        )
    with ctx.db.read() as s:
        shown, total = credits_waiting(s, ctx.services.billing, limit=args.limit)
    if not shown:
        return Reply(text="No credit waits for a manager", ephemeral=True, data=shown)
    more = (
        f" (showing {len(shown)} of {total}; limit={min(total, CREDIT_LIST_CAP)} shows more)"
        if len(shown) < total
        else ""
    )
    return Reply(
        text=f"{total} credit(s) wait for a manager{more}",
        tables=(
            Table(
                ("credit", "amount", "invoice", "asked by", "why"),
                tuple((p.credit, str(p.amount), p.invoice, p.requested_by, p.why) for p in shown),
            ),
        ),
        buttons=tuple(b for p in shown[:BUTTONS_FOR] for b in credit_buttons(p.credit, named=True)),
        ephemeral=True,
        data=shown,
    )
