"""/customer: who a customer is, what they hold, and what is open for them."""

from __future__ import annotations

from domain.customers.queries import customer_profile
from domain.privacy import Audience
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Reply, Section, Table


class Lookup(Args):
    query: list[str] = positional(metavar="number|account|invoice|circuit|name")
    share: bool = False


@command("customer", args=Lookup)
def customer(ctx: Context, args: Lookup) -> Reply:
    """A customer's profile, accounts, lines, open tickets and orders (private by default;
    --share posts it to the channel, masked for everyone there)."""
    audience = ctx.audience(ephemeral=not args.share)
    with ctx.db.read() as s:
        c = customer_profile(s, " ".join(args.query), ctx.services.billing, audience=audience)
    fields = (
        Field("segment", str(c.segment)),
        Field("status", str(c.status)),
        Field(f"{c.id_document}", c.id_number),
        Field("phone", c.phone),
        Field("email", c.email),
        Field("address", c.address),
        Field("customer since", f"{c.since:%d %b %Y}"),
        Field(
            "accounts",
            "; ".join(f"{a.account}: balance {a.balance}, {a.dunning}" for a in c.accounts),
        ),
    )
    lines = Table(
        ("line", "plan", "state", "since", "holds"),
        tuple(
            (
                line.line,
                line.plan,
                line.state_said,
                f"{line.since:%d %b %Y}" if line.since else "-",
                line.holds,
            )
            for line in c.lines
        ),
        title=f"{c.lines_total} subscription(s)",
    )
    tables = [lines]
    if c.open_tickets:
        tables.append(
            Table(
                ("ticket", "kind", "status", "title"),
                tuple((t.ticket, str(t.kind), str(t.status), t.title) for t in c.open_tickets),
                title="Open tickets",
            )
        )
    if c.orders_in_flight:
        tables.append(
            Table(
                ("order", "action", "state", "requested by"),
                tuple(
                    (o.order, str(o.action), str(o.state), o.requested_by)
                    for o in c.orders_in_flight
                ),
                title="Orders in flight",
            )
        )
    # A button carries its command, account number and all, to everyone who sees it.
    buttons = (
        ()
        if audience == Audience.CHANNEL
        else tuple(Button(f"Bill {a.account}", f"/bill {a.account}") for a in c.accounts[:3])
    )
    return Reply(
        text=f"{c.name}",
        sections=(Section(fields=fields),),
        tables=tuple(tables),
        buttons=buttons,
        ephemeral=not args.share,
        data=c,
    )
