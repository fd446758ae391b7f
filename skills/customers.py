"""/customer: who a customer is, what they hold, and what is open for them."""

from __future__ import annotations

from domain.config import Role
from domain.customers.services import customer_work, mask_identity, mask_phone, resolve_customer
from domain.money import money
from skills.billing import unmasked
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Reply, Section, Table

VIEWERS = [Role.CARE_AGENT, Role.MANAGER, Role.FRAUD_ANALYST, Role.ENGINEER]


class Lookup(Args):
    query: list[str] = positional(metavar="number|account|invoice|circuit|name")
    share: bool = False


@command("customer", roles=VIEWERS, args=Lookup)
def customer(ctx: Context, args: Lookup) -> Reply:
    """A customer's profile, accounts, lines, open tickets and orders (private by default)."""
    full = unmasked(ctx)
    billing = ctx.services.billing
    with ctx.db.read() as s:
        c, _ = resolve_customer(s, " ".join(args.query))
        fields = (
            Field("segment", str(c.segment)),
            Field("status", str(c.status)),
            Field(
                f"{c.id_document}",
                c.id_number if full else mask_identity(c.id_number),
            ),
            Field("phone", c.phone if full else mask_phone(c.phone)),
            Field("email", c.email if full else c.email[:1] + "•••@" + c.email.partition("@")[2]),
            Field("address", c.address if full else c.city),
            Field("customer since", f"{c.created_at:%d %b %Y}"),
            Field(
                "accounts",
                "; ".join(
                    f"{a.account_number}: balance {money(a.balance_minor, billing)}, "
                    f"{a.dunning_state}"
                    for a in c.accounts
                ),
            ),
        )
        lines = Table(
            ("line", "plan", "state", "since"),
            tuple(
                (
                    sub.identifier,
                    sub.offering.name,
                    str(sub.state),
                    f"{sub.activated_at:%d %b %Y}" if sub.activated_at else "-",
                )
                for sub in sorted(c.subscriptions, key=lambda x: x.id)[:20]
            ),
            title=f"{len(c.subscriptions)} subscription(s)",
        )
        tickets, orders = customer_work(s, c.id)
        tables = [lines]
        if tickets:
            tables.append(
                Table(
                    ("ticket", "kind", "status", "title"),
                    tuple((t.ref, str(t.kind), str(t.status), t.title) for t in tickets),
                    title="Open tickets",
                )
            )
        if orders:
            tables.append(
                Table(
                    ("order", "action", "state", "requested by"),
                    tuple((o.ref, str(o.action), str(o.state), o.requested_by) for o in orders),
                    title="Orders in flight",
                )
            )
        buttons = tuple(
            Button(f"Bill {a.account_number}", f"/bill {a.account_number}") for a in c.accounts[:3]
        )
        return Reply(
            text=f"{c.name}",
            sections=(Section(fields=fields),),
            tables=tuple(tables),
            buttons=buttons,
            ephemeral=not args.share,
        )
