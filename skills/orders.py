"""Orders in chat: order a line, look one up, approve or reject it, cancel it.

A new order goes through the approval policy (orders.* and billing.auto_approve_below
in config.yaml): it approves itself, or waits for a manager other than the requester,
who decides from its message in the orders channel. An approved order is fulfilled at
once: a mobile line is activated with a new number; a fixed line's access port is
configured through the change workflow and verified before the line goes active.
"""

from __future__ import annotations

from dataclasses import replace

from automation.provisioning import FulfilmentReport, fulfilment_report
from domain import policy
from domain.errors import DomainError, PolicyViolation
from domain.orders.choices import OrderAction, OrderState
from domain.orders.intake import place_order, read_order_words
from domain.orders.queries import OrderView, order_by_ref, order_list
from domain.orders.services import (
    approve_order,
    cancel_order,
    order_for_line,
    reject_order,
)
from domain.privacy import Audience
from skills.context import Context
from skills.registry import REGISTRY, Args, command, positional
from skills.reply import Button, Confirm, Field, Form, Input, Reply, Section, Table, showing


class NewOrder(Args):
    """The customer may be several words (+91 98765 43210): `read_order_words` divides
    the words at the one that names an offering."""

    customer: str = positional(metavar="customer")
    offering: str = positional(metavar="offering")
    where: list[str] | None = positional(None, metavar="site:X port:Y")
    note: str = ""


class OrderRef(Args):
    order: str = positional(metavar="order")


class Decision(Args):
    order: str = positional(metavar="order")
    note: str = ""


class LineOrder(Args):
    """The line may be several words (+91 98765 43210)."""

    line: list[str] = positional(metavar="number|circuit")
    note: str = ""


class ListArgs(Args):
    state: OrderState | None = positional(None, metavar="state")
    limit: int = 20


def order_card(order: OrderView) -> Reply:
    """An order as people see it: what, for whom, where, who decided, how it ended."""
    fields = [
        Field("state", str(order.state)),
        Field("customer", f"{order.customer} ({order.segment})"),
        Field("offering", f"{order.offering} {order.offering_name}" if order.offering else "-"),
        Field("monthly", str(order.monthly)),
        Field("one-off", str(order.one_off)),
        Field("requested by", order.requested_by),
    ]
    if order.line is not None:
        fields.append(Field("line", f"{order.line} ({order.line_state})"))
    if order.service is not None:
        fields.append(Field("holds", order.service))
    if order.device is not None and order.site is not None:
        vlan = f" vlan {order.vlan}" if order.vlan else ""
        fields.append(Field("where", f"{order.site} {order.device} {order.port}{vlan}"))
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
    if order.change is not None:
        fields.append(
            Field("change", order.change_summary or f"{order.change} {order.change_state}")
        )
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
        text=f"Order {order.ref}: {order.action} {order.offering or ''}".rstrip(),
        sections=(Section(fields=tuple(fields)),),
        buttons=buttons,
        meta={"order": order.ref, "state": str(order.state)},
        data=order,
    )


def _place(words: list[str]) -> tuple[str | None, str | None]:
    """site:X port:Y (or site=X port=Y) from the words after the offering."""
    found: dict[str, str] = {}
    for word in words:
        key, sep, value = word.replace("=", ":", 1).partition(":")
        if key.lower() not in ("site", "port") or not sep or not value:
            raise DomainError(
                f"unexpected {word!r}",
                hint="say where a fixed line goes: site:TN-WHI1 port:Gi0/0/5",
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


def _outcome(
    ctx: Context, ref: str, lead: str, audience: Audience = Audience.CHANNEL
) -> tuple[str, OrderView]:
    """Fulfil an approved order now: what to say, and the order as it stands after."""
    done = _fulfil(ctx, ref)
    said = done.text.removeprefix(f"{ref} ") if isinstance(done, FulfilmentReport) else done
    with ctx.db.read() as s:
        view = order_by_ref(s, ref, ctx.services.billing, audience=audience)
    return f"{lead}; {said}", view


def _private(ctx: Context) -> Audience:
    """Who reads an answer about one customer's order: the caller alone (it names the
    customer and their line), in full if their roles allow."""
    return ctx.audience(ephemeral=True)


@command("order new", args=NewOrder)
def new(ctx: Context, args: NewOrder) -> Reply:
    """Order a line: /order new BA100000001 POST-399, or FIBRE-100 site:TN-WHI1 port:Gi0/0/5."""
    with ctx.db.read() as s:
        said = read_order_words(s, [args.customer, args.offering, *(args.where or [])])
    if said.offering is None:
        return Reply.error(
            "missing <offering>", hint=f"usage: {REGISTRY.commands[('order', 'new')].usage}"
        )
    site, port = _place(list(said.rest))
    placed = place_order(
        ctx.db,
        customer=said.customer,
        offering=said.offering,
        requested_by=ctx.actor,
        orders=ctx.services.orders,
        billing=ctx.services.billing,
        site=site,
        port=port,
        note=args.note,
        now=ctx.now(),
    )
    ref, state, rule = placed.ref, placed.state, placed.policy_note or ""
    with ctx.db.read() as s:
        view = order_by_ref(s, ref, ctx.services.billing, audience=_private(ctx))
    line = view.line
    placed = replace(placed, customer=view.customer, line=line)
    what = f"{ref}: {placed.offering} for {placed.customer}"
    if state == OrderState.PENDING:
        return Reply(
            ephemeral=True,
            text=f"{what} waits for a manager ({rule.removeprefix('a manager decides: ')})",
            hint=f"it is in {ctx.services.channels.orders} for a manager to decide",
            buttons=(
                Button(
                    "Cancel",
                    f"/order cancel {ref}",
                    confirm=Confirm(f"Cancel {ref}?", "The order will not be provisioned."),
                ),
            ),
            meta={"order": ref, "state": str(state)},
            data=placed,
        )
    if state == OrderState.COMPLETED and line is not None:
        return Reply(
            ephemeral=True,
            text=f"{what} approved by policy; {line} is active",
            meta={"order": ref, "state": str(state), "line": line},
            data=placed,
        )
    text, view = _outcome(ctx, ref, f"{what} approved by policy", _private(ctx))
    return Reply(
        ephemeral=True,
        text=text,
        meta={"order": ref, "state": str(view.state)},
        data=replace(placed, state=view.state, line=view.line),
    )


@command("order show", args=OrderRef)
def show(ctx: Context, args: OrderRef) -> Reply:
    """Show an order, with Approve / Reject while it waits for a decision."""
    with ctx.db.read() as s:  # the card is posted where it was asked: masked for a channel
        view = order_by_ref(s, args.order, ctx.services.billing)
    return order_card(view)


@command("order list", args=ListArgs)
def list_(ctx: Context, args: ListArgs) -> Reply:
    """List recent orders, optionally in one state (pending, inProgress, ...)."""
    with ctx.db.read() as s:
        found = order_list(s, args.state, max(1, min(args.limit, 100)), ctx.services.billing)
    rows = tuple(
        (
            r.ref,
            str(r.action),
            str(r.state),
            r.customer,
            r.requested_by,
            str(r.first_bill),
            f"{r.created_at:%Y-%m-%d}",
        )
        for r in found.orders
    )
    what = f" {args.state}" if args.state else ""
    return Reply(
        text=showing(
            f"latest{what} orders", len(rows), found.total, cap=100, narrow="a state (pending, ...)"
        ),
        tables=(
            Table(
                ("order", "action", "state", "customer", "requested by", "first bill", "created"),
                rows,
            ),
        ),
        data=found,
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
    text, view = _outcome(ctx, done.order, f"{done.order} approved by {ctx.actor}")
    return Reply(
        text=text,
        meta={"order": done.order, "state": str(view.state)},
        data=replace(done, state=view.state),
    )


@command("order approve", args=Decision)
def approve(ctx: Context, args: Decision) -> Reply:
    """Approve a pending order and provision it; the requester cannot approve their own."""
    return _decide(ctx, args, approve=True)


@command("order reject", args=Decision)
def reject(ctx: Context, args: Decision) -> Reply:
    """Reject a pending order, with an optional note=... for the requester."""
    return _decide(ctx, args, approve=False)


@command("order cancel", args=Decision)
def cancel(ctx: Context, args: Decision) -> Reply:
    """Cancel an order before provisioning starts (its requester, or a manager)."""
    manager = policy.may(ctx.roles, "order cancel, an order someone else requested")
    done = cancel_order(
        ctx.db, args.order, ctx.actor, manager=manager, note=args.note, now=ctx.now()
    )
    return Reply(
        text=f"{done.order} cancelled by {ctx.actor}",
        meta={"order": done.order, "state": str(done.state)},
        data=done,
    )


# -- suspend, resume and cease a line ------------------------------------------------------------

_LINE_ORDERS = {
    "suspend": OrderAction.SUSPEND,
    "resume": OrderAction.RESUME,
    "cease": OrderAction.TERMINATE,
}


def _line_order(ctx: Context, args: LineOrder, action: str) -> Reply:
    """Order a suspension, resumption or cease of a line, through the approval policy, and
    fulfil it at once when approved (a mobile line in the database, a fixed line on its
    access port)."""
    reason = args.note or f"{action} asked by {ctx.actor}"
    done = order_for_line(
        ctx.db,
        " ".join(args.line),
        _LINE_ORDERS[action],
        reason=reason,
        requested_by=ctx.actor,
        now=ctx.now(),
        orders=ctx.services.orders,
        roles=ctx.roles,
    )
    ref, state, rule, line = done.ref, done.state, done.policy_note, done.line
    by, new = done.requested_by, done.new
    what = f"{ref}: {action} {line}"
    if not new:  # an open order of the same kind for the line: asked twice, done once
        return Reply(
            ephemeral=True,
            text=f"{what} was already ordered by {by} ({state})",
            hint=f"/order show {ref}",
            meta={"order": ref, "state": str(state)},
        )
    if state == OrderState.PENDING:
        return Reply(
            ephemeral=True,
            text=f"{what} waits for a manager ({rule.removeprefix('a manager decides: ')})",
            hint=f"it is in {ctx.services.channels.orders} for a manager to decide",
            meta={"order": ref, "state": str(state)},
        )
    if state == OrderState.COMPLETED:  # a mobile line: done in the database at once
        with ctx.db.read() as s:
            said = fulfilment_report(s, ref).text.removeprefix(f"{ref} ")
            view = order_by_ref(s, ref, ctx.services.billing, audience=_private(ctx))
        return Reply(
            ephemeral=True,
            text=f"{what} approved by policy; {said}",
            meta={"order": ref, "state": str(state), "line": line},
            data=view,
        )
    text, view = _outcome(ctx, ref, f"{what} approved by policy", _private(ctx))
    return Reply(
        ephemeral=True, text=text, meta={"order": ref, "state": str(view.state)}, data=view
    )


@command("order suspend", args=LineOrder)
def suspend(ctx: Context, args: LineOrder) -> Reply:
    """Suspend a line (number or circuit): a mobile line is barred, a fixed line's port shut."""
    return _line_order(ctx, args, "suspend")


@command("order resume", args=LineOrder)
def resume(ctx: Context, args: LineOrder) -> Reply:
    """Resume a suspended line: a mobile line is unbarred, a fixed line's port opened again."""
    return _line_order(ctx, args, "resume")


@command("order cease", args=LineOrder)
def cease(ctx: Context, args: LineOrder) -> Reply:
    """Cease a line for good: billing stops that day, the port and VLAN or number are freed."""
    return _line_order(ctx, args, "cease")
