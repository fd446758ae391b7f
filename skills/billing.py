"""Care lookups on bills, payments and disputes; private to the caller unless shared."""

from __future__ import annotations

from datetime import datetime, time

from domain.billing.models import Invoice
from domain.billing.services import (
    dispute_invoice,
    explain_invoice,
    latest_invoices,
    open_disputes,
    recent_payments,
    settle_dispute,
    take_payment,
    top_usage,
    unbilled_usage,
)
from domain.config import Role
from domain.customers.choices import PaymentMethod
from domain.customers.models import Customer
from domain.customers.services import mask_phone, resolve_account
from domain.db import utcnow
from domain.lookup import SubjectKind, resolve_subject
from domain.money import money, parse_money
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Reply, Section, Table

CARE = [Role.CARE_AGENT, Role.MANAGER]
#: An invoice number in the lookup grammar (INV-202610-0000123, any case or zero padding).
INVOICE = {SubjectKind.INVOICE}


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
    credit: str = "0"


def unmasked(ctx: Context) -> bool:
    return ctx.services.unmasked(ctx.roles)


def _invoice_field(inv: Invoice | None, ctx: Context) -> str:
    if inv is None:
        return "none yet"
    return (
        f"{inv.number} ({inv.period_start:%b %Y}): {money(inv.total_minor, ctx.services.billing)}, "
        f"due {inv.due_date:%d %b}, {inv.state}" + (", disputed" if inv.disputed else "")
    )


@command("bill", roles=CARE, args=Lookup)
def bill(ctx: Context, args: Lookup) -> Reply:
    """A customer's bill: balance, last invoice, payments, unbilled usage, dunning, disputes."""
    billing = ctx.services.billing
    with ctx.db.read() as s:
        account = resolve_account(s, " ".join(args.query))
        customer: Customer = account.customer
        invoices = latest_invoices(s, account.id, 1)
        last = invoices[0] if invoices else None
        payments = recent_payments(s, account.id)
        unbilled = unbilled_usage(s, account.id, since=last.next_period_start if last else None)
        disputes = open_disputes(s, account.id)
        fields = [
            Field("customer", f"{customer.name} ({customer.segment})"),
            Field("account", f"{account.account_number} ({account.status})"),
            Field("balance", money(account.balance_minor, billing)),
            Field("credit limit", money(account.credit_limit_minor, billing)),
            Field("last invoice", _invoice_field(last, ctx)),
            Field("dunning", str(account.dunning_state)),
            Field(
                "unbilled usage",
                f"{money(unbilled.rated_minor, billing)} rated over "
                f"{unbilled.rated_records:,} records"
                + (
                    f", {unbilled.received_records:,} not rated yet"
                    if unbilled.received_records
                    else ""
                ),
            ),
            Field(
                "recent payments",
                "; ".join(
                    f"{money(p.amount_minor, billing)} on {p.received_at:%d %b} ({p.method})"
                    for p in payments
                )
                or "none",
            ),
            Field(
                "open disputes",
                ", ".join(f"{t.ref} on {number}" for t, number in disputes) or "none",
            ),
        ]
        buttons = []
        if last is not None:
            buttons = [
                Button("Items", f"/bill items {last.number}"),
                Button("Explain", f"/bill explain {last.number}"),
            ]
        return Reply(
            text=f"Bill for {account.account_number}",
            sections=(Section(fields=tuple(fields)),),
            buttons=tuple(buttons),
            ephemeral=not args.share,
        )


@command("bill items", roles=CARE, args=InvoiceRef)
def items(ctx: Context, args: InvoiceRef) -> Reply:
    """An invoice's lines and the usage that cost the most on it."""
    billing = ctx.services.billing
    with ctx.db.read() as s:
        inv = s.get_one(Invoice, resolve_subject(s, args.invoice, INVOICE).invoice_id)
        lines = Table(
            ("kind", "what", "qty", "amount", "tax"),
            tuple(
                (
                    str(line.kind),
                    line.description,
                    f"{line.quantity:g}",
                    money(line.amount_minor, billing),
                    money(line.tax_minor, billing),
                )
                for line in inv.lines
            ),
            title=f"{inv.number}: {money(inv.subtotal_minor, billing)} + tax "
            f"{money(inv.tax_minor, billing)} = {money(inv.total_minor, billing)}",
        )
        show_number = unmasked(ctx)
        top = top_usage(s, inv.id)
        tables = [lines]
        if top:
            tables.append(
                Table(
                    ("when (UTC)", "service", "to", "duration / volume", "charge"),
                    tuple(
                        (
                            f"{u.started_at:%d %b %H:%M}",
                            str(u.service) + (" roaming" if u.roaming else ""),
                            (u.counterpart if show_number else mask_phone(u.counterpart))
                            + (f" ({u.counterpart_country})" if u.counterpart_country else ""),
                            f"{u.duration_s} s"
                            if u.duration_s
                            else f"{u.volume_bytes / 1e6:.1f} MB",
                            money(u.charge_minor or 0, billing),
                        )
                        for u in top
                    ),
                    title="Top usage",
                )
            )
        return Reply(
            text=f"Lines of {inv.number} ({inv.period_start:%b %Y})",
            tables=tuple(tables),
            ephemeral=not args.share,
        )


@command("bill explain", roles=CARE, args=InvoiceRef)
def explain(ctx: Context, args: InvoiceRef) -> Reply:
    """Why a bill is what it is: what changed against the previous one, in plain words."""
    with ctx.db.read() as s:
        inv = s.get_one(Invoice, resolve_subject(s, args.invoice, INVOICE).invoice_id)
        sentences = explain_invoice(s, inv, lambda m: money(m, ctx.services.billing))
    return Reply(
        text=sentences[0],
        sections=tuple(Section(text=t) for t in sentences[1:]) or (),
        ephemeral=not args.share,
    )


@command("payment record", roles=[Role.ADMIN], args=PaymentArgs)
def payment(ctx: Context, args: PaymentArgs) -> Reply:
    """Record a payment on an account: amount ref=... [method=upi] [date=YYYY-MM-DD]."""
    billing = ctx.services.billing
    amount = parse_money(args.amount, billing)
    received = ctx.now()
    if args.date:
        try:
            received = datetime.combine(
                datetime.fromisoformat(args.date).date(), time(12), utcnow().tzinfo
            )
        except ValueError:
            return Reply.error(f"{args.date!r} is not a date", hint="date=2026-11-20")
    r = take_payment(
        ctx.db,
        billing,
        args.account,
        amount,
        reference=args.ref,
        method=args.method,
        received_at=received,
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
    return Reply(
        text=f"{r.amount} recorded on {r.account} ({r.reference})",
        sections=(Section(fields=tuple(fields)),),
        data=r,
    )


@command("dispute open", roles=CARE, args=DisputeOpen)
def dispute_open(ctx: Context, args: DisputeOpen) -> Reply:
    """Open a billing dispute on an invoice: a ticket linked to it, the invoice marked."""
    r = dispute_invoice(
        ctx.db,
        args.invoice,
        args.reason,
        actor=ctx.actor,
        sla_hours=ctx.services.tickets.sla_hours,
        now=ctx.now(),
    )
    return Reply(
        text=f"{r.ticket} opened: dispute on {r.invoice}",
        sections=(
            Section(
                fields=(
                    Field("invoice", f"{r.invoice}, now marked disputed"),
                    Field("SLA due", f"{r.sla_due_at:%Y-%m-%d %H:%M} UTC"),
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


@command("dispute resolve", roles=CARE, args=DisputeResolve)
def dispute_resolve(ctx: Context, args: DisputeResolve) -> Reply:
    """Resolve a billing dispute; credit=AMOUNT puts a credit on the next invoice."""
    billing = ctx.services.billing
    r = settle_dispute(
        ctx.db,
        billing,
        args.ticket,
        args.resolution,
        credit_minor=parse_money(args.credit, billing),
        actor=ctx.actor,
        now=ctx.now(),
    )
    tail = f"; {r.adjustment} credits {r.credit} on the next invoice" if r.adjustment else ""
    return Reply(text=f"{r.ticket} resolved{tail or '; no credit'}", ephemeral=True, data=r)
