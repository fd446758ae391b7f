"""Orders in chat: look one up, approve or reject it (a manager other than the requester)."""

from __future__ import annotations

import sqlalchemy as sa

from domain.catalog.models import ProductOffering
from domain.config import Role
from domain.customers.models import Customer
from domain.orders.choices import OrderState
from domain.orders.models import ProductOrder
from domain.orders.services import decide_order, get_order
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Form, Input, Reply, Section, Table

ORDER_ROLES = [Role.MANAGER, Role.CARE_AGENT, Role.ENGINEER]


def rupees(minor: int) -> str:
    return f"₹{minor / 100:,.2f}"


class OrderRef(Args):
    order: str = positional(metavar="order")


class Decision(Args):
    order: str = positional(metavar="order")
    note: str = ""


class ListArgs(Args):
    state: OrderState | None = positional(None, metavar="state")
    limit: int = 20


def _card(order: ProductOrder, customer: Customer, offering: ProductOffering | None) -> Reply:
    fields = [
        Field("state", str(order.state)),
        Field("customer", f"{customer.name} ({customer.segment})"),
        Field("offering", offering.name if offering else "-"),
        Field("monthly", rupees(order.monthly_minor)),
        Field("one-off", rupees(order.one_off_minor)),
        Field("requested by", order.requested_by),
    ]
    if order.decided_by:
        fields.append(
            Field("decided by", f"{order.decided_by} at {order.decided_at:%Y-%m-%d %H:%M}")
        )
    buttons: tuple[Button, ...] = ()
    if order.state == OrderState.PENDING:
        buttons = (
            Button("Approve", f"/order approve {order.ref}", style="primary"),
            Button(
                "Reject",
                f"/order reject {order.ref}",
                style="danger",
                form=Form(
                    f"Reject {order.ref}",
                    (Input("note", "Why? The requester sees this.", multiline=True),),
                    submit="Reject",
                ),
            ),
        )
    return Reply(
        text=f"Order {order.ref}: {order.action} {offering.code if offering else ''}".rstrip(),
        sections=(Section(fields=tuple(fields)),),
        buttons=buttons,
    )


@command("order show", roles=ORDER_ROLES, args=OrderRef)
def show(ctx: Context, args: OrderRef) -> Reply:
    """Show an order, with Approve / Reject while it waits for a decision."""
    with ctx.db.read() as s:
        order = get_order(s, args.order)
        return _card(
            order,
            s.get_one(Customer, order.customer_id),
            s.get(ProductOffering, order.offering_id) if order.offering_id else None,
        )


@command("order list", roles=ORDER_ROLES, args=ListArgs)
def list_orders(ctx: Context, args: ListArgs) -> Reply:
    """List recent orders, optionally in one state (pending, inProgress, ...)."""
    query = (
        sa.select(ProductOrder, Customer.name)
        .join(Customer, Customer.id == ProductOrder.customer_id)
        .order_by(ProductOrder.id.desc())
        .limit(max(1, min(args.limit, 100)))
    )
    if args.state:
        query = query.where(ProductOrder.state == args.state)
    with ctx.db.read() as s:
        rows = tuple(
            (o.ref, str(o.state), name, o.requested_by, f"{o.created_at:%Y-%m-%d}")
            for o, name in s.execute(query)
        )
    what = f" {args.state}" if args.state else ""
    return Reply(
        text=f"{len(rows)} latest{what} orders",
        tables=(Table(("order", "state", "customer", "requested by", "created"), rows),),
    )


def _decide(ctx: Context, args: Decision, approve: bool) -> Reply:
    with ctx.db.transaction() as s:
        order = decide_order(
            s, args.order, ctx.actor, approve=approve, note=args.note, now=ctx.now()
        )
        verb = "approved" if approve else "rejected"
        text = f"{order.ref} {verb} by {ctx.actor}"
        if approve:
            text += f"; it is now {order.state}"
        return Reply(text=text, meta={"order": order.ref, "state": str(order.state)})


@command("order approve", roles=[Role.MANAGER], args=Decision)
def approve(ctx: Context, args: Decision) -> Reply:
    """Approve a pending order; the requester cannot approve their own."""
    return _decide(ctx, args, approve=True)


@command("order reject", roles=[Role.MANAGER], args=Decision)
def reject(ctx: Context, args: Decision) -> Reply:
    """Reject a pending order, with an optional note=... for the requester."""
    return _decide(ctx, args, approve=False)
