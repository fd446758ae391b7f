"""Orders in chat: order a line, look one up, approve or reject it, cancel it.

A new order goes through the approval policy (orders.* and billing.auto_approve_below
in config.yaml): it approves itself, or waits for a manager other than the requester,
who decides from its message in the orders channel. An approved order is fulfilled at
once: a mobile line is activated with a new number; a fixed line's access port is
configured through the change workflow and verified before the line goes active.
"""

from __future__ import annotations

from automation.provisioning import FulfilmentReport
from domain.config import Role
from domain.errors import DomainError, PolicyViolation
from domain.money import money
from domain.orders.choices import OrderState
from domain.orders.intake import place_order
from domain.orders.queries import OrderView, list_orders, order_view
from domain.orders.services import approve_order, cancel_order, get_order, reject_order
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Confirm, Field, Form, Input, Reply, Section, Table

ORDER_ROLES = [Role.MANAGER, Role.CARE_AGENT, Role.ENGINEER]
SELLERS = [Role.CARE_AGENT, Role.MANAGER]


class NewOrder(Args):
    customer: str = positional(metavar="customer")
    offering: str = positional(metavar="offering")
    where: list[str] | None = positional(None, metavar="site:X port:Y")
    note: str = ""


class OrderRef(Args):
    order: str = positional(metavar="order")


class Decision(Args):
    order: str = positional(metavar="order")
    note: str = ""


class ListArgs(Args):
    state: OrderState | None = positional(None, metavar="state")
    limit: int = 20


def order_card(view: OrderView) -> Reply:
    """An order as people see it: what, for whom, where, who decided, how it ended."""
    order, customer, offering = view.order, view.customer, view.offering
    fields = [
        Field("state", str(order.state)),
        Field("customer", f"{customer.name} ({customer.segment})"),
        Field("offering", f"{offering.code} {offering.name}" if offering else "-"),
        Field("monthly", money(order.monthly_minor)),
        Field("one-off", money(order.one_off_minor)),
        Field("requested by", order.requested_by),
    ]
    if view.line is not None:
        fields.append(Field("line", f"{view.line.identifier} ({view.line.state})"))
    if view.device is not None and view.site is not None:
        vlan = f" vlan {order.vlan}" if order.vlan else ""
        fields.append(Field("where", f"{view.site.code} {view.device.hostname} {order.port}{vlan}"))
    if order.note:
        fields.append(Field("note", order.note))
    if order.policy_note:
        fields.append(Field("policy", order.policy_note))
    if order.decided_by:
        fields.append(
            Field("decided by", f"{order.decided_by} at {order.decided_at:%Y-%m-%d %H:%M}")
        )
    if order.decision_note:
        fields.append(Field("decision note", order.decision_note))
    if view.change is not None:
        change = view.change
        fields.append(Field("change", change.summary or f"{change.ref} {change.state}"))
    if order.failure_reason:
        fields.append(Field("failed because", order.failure_reason))
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
        meta={"order": order.ref, "state": str(order.state)},
    )


def _place(words: list[str]) -> tuple[str | None, str | None]:
    """site:X port:Y (or site=X port=Y) from the words after the offering."""
    found: dict[str, str] = {}
    for word in words:
        key, sep, value = word.replace("=", ":", 1).partition(":")
        if key.lower() not in ("site", "port") or not sep or not value:
            raise DomainError(
                f"unexpected {word!r}",
                hint="say where a fixed line goes: site:MUM-AND1 port:Gi0/0/5",
            )
        found[key.lower()] = value
    return found.get("site"), found.get("port")


def _fulfil(ctx: Context, ref: str) -> FulfilmentReport | str:
    """Fulfil an approved order now; a sentence instead when it has to wait."""
    try:
        report = ctx.services.provisioner.fulfil(ref, ctx.actor, progress=ctx.progress)
    except PolicyViolation as exc:  # outside the change windows
        return f"provisioning waits: {exc} ({exc.hint})"
    return report if report is not None else "provisioning is already under way"


def _outcome(ctx: Context, ref: str, lead: str) -> Reply:
    done = _fulfil(ctx, ref)
    said = done.text.removeprefix(f"{ref} ") if isinstance(done, FulfilmentReport) else done
    text = f"{lead}; {said}"
    with ctx.db.read() as s:
        state = get_order(s, ref).state
    return Reply(text=text, meta={"order": ref, "state": str(state)})


@command("order new", roles=SELLERS, args=NewOrder)
def new(ctx: Context, args: NewOrder) -> Reply:
    """Order a line: /order new BA100000001 POST-399, or FIBRE-100 site:MUM-AND1 port:Gi0/0/5."""
    site, port = _place(args.where or [])
    placed = place_order(
        ctx.db,
        customer=args.customer,
        offering=args.offering,
        requested_by=ctx.actor,
        orders=ctx.services.orders,
        billing=ctx.services.billing,
        site=site,
        port=port,
        note=args.note,
        now=ctx.now(),
    )
    ref, state, policy, line = placed.ref, placed.state, placed.policy_note or "", placed.line
    what = f"{ref}: {placed.offering} for {placed.customer}"
    if state == OrderState.PENDING:
        return Reply(
            text=f"{what} waits for a manager ({policy.removeprefix('a manager decides: ')})",
            hint=f"it is in {ctx.services.channels.orders} for a manager to decide",
            buttons=(
                Button(
                    "Cancel",
                    f"/order cancel {ref}",
                    confirm=Confirm(f"Cancel {ref}?", "The order will not be provisioned."),
                ),
            ),
            meta={"order": ref, "state": str(state)},
        )
    if state == OrderState.COMPLETED and line is not None:
        return Reply(
            text=f"{what} approved by policy; {line} is active",
            meta={"order": ref, "state": str(state), "line": line},
        )
    return _outcome(ctx, ref, f"{what} approved by policy")


@command("order show", roles=ORDER_ROLES, args=OrderRef)
def show(ctx: Context, args: OrderRef) -> Reply:
    """Show an order, with Approve / Reject while it waits for a decision."""
    with ctx.db.read() as s:
        view = order_view(s, get_order(s, args.order).id)
    return order_card(view)


@command("order list", roles=ORDER_ROLES, args=ListArgs)
def list_(ctx: Context, args: ListArgs) -> Reply:
    """List recent orders, optionally in one state (pending, inProgress, ...)."""
    with ctx.db.read() as s:
        found = list_orders(s, args.state, max(1, min(args.limit, 100)))
    rows = tuple(
        (
            r.order.ref,
            str(r.order.action),
            str(r.order.state),
            r.customer,
            r.order.requested_by,
            money(r.order.one_off_minor + r.order.monthly_minor, ctx.services.billing),
            f"{r.order.created_at:%Y-%m-%d}",
        )
        for r in found
    )
    what = f" {args.state}" if args.state else ""
    return Reply(
        text=f"{len(rows)} latest{what} orders",
        tables=(
            Table(
                ("order", "action", "state", "customer", "requested by", "first bill", "created"),
                rows,
            ),
        ),
    )


def _decide(ctx: Context, args: Decision, approve: bool) -> Reply:
    if not approve:
        done = reject_order(ctx.db, args.order, ctx.actor, note=args.note, now=ctx.now())
        return Reply(
            text=f"{done.order} rejected by {ctx.actor}",
            meta={"order": done.order, "state": "rejected"},
            data=done,
        )
    done = approve_order(ctx.db, args.order, ctx.actor, note=args.note, now=ctx.now())
    return _outcome(ctx, done.order, f"{done.order} approved by {ctx.actor}")


@command("order approve", roles=[Role.MANAGER], args=Decision)
def approve(ctx: Context, args: Decision) -> Reply:
    """Approve a pending order and provision it; the requester cannot approve their own."""
    return _decide(ctx, args, approve=True)


@command("order reject", roles=[Role.MANAGER], args=Decision)
def reject(ctx: Context, args: Decision) -> Reply:
    """Reject a pending order, with an optional note=... for the requester."""
    return _decide(ctx, args, approve=False)


@command("order cancel", roles=ORDER_ROLES, args=Decision)
def cancel(ctx: Context, args: Decision) -> Reply:
    """Cancel an order before provisioning starts (its requester, or a manager)."""
    manager = bool({Role.MANAGER, Role.ADMIN} & ctx.roles)
    done = cancel_order(
        ctx.db, args.order, ctx.actor, manager=manager, note=args.note, now=ctx.now()
    )
    return Reply(
        text=f"{done.order} cancelled by {ctx.actor}",
        meta={"order": done.order, "state": str(done.state)},
        data=done,
    )
