"""Order provisioning: an approved order on a fixed line becomes a config change.

`Provisioner.fulfil` claims the order once, plans the change on the access device at
the order's port (`customer_access_port` for a new line, `customer_port_state` to
shut or open the port for a suspension or a resumption; for a cease, the rollback of
the change that provisioned the line), applies it through the change workflow (backup,
push, verify, roll back a device that fails) and records how it ended: the line active,
suspended or ceased, billed from (or up to) that moment, or the order failed with the
reason, the change rolled back and a provisioning ticket opened. Orders that touch no
device (mobile lines: a number and SIM) are fulfilled in the database alone; a new fixed
line that names no access port fails, saying so, and never becomes a mobile number.

`run_pending` is the provisioning worker's pass: every approved order nobody has
started, such as those approved by policy through `POST /orders` or the fixed-line
suspensions dunning and the fraud desk ask for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.changes.choices import ChangeState, TargetState
from domain.changes.models import ChangeRequest
from domain.config import OrderSettings, TicketSettings
from domain.customers.models import Subscription
from domain.db import Database, make_ref, utcnow
from domain.errors import DomainError, PolicyViolation
from domain.inventory.models import Device
from domain.orders.choices import OrderAction, OrderState
from domain.orders.models import ProductOrder
from domain.orders.queries import service_of
from domain.orders.services import (
    SYSTEM,
    claim_fulfilment,
    complete_order,
    fail_order,
    fulfil_in_place,
    get_order,
    needs_network,
    orders_to_fulfil,
    port_description,
    unplaced_fixed_line,
)

if TYPE_CHECKING:
    from automation.changes import ChangeWorkflow, Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FulfilmentReport:
    """How an order's fulfilment ended, in words for the chat."""

    ref: str
    state: OrderState
    text: str
    subscription: str | None = None
    change: str | None = None
    ticket: str | None = None


class Provisioner:
    """Fulfils approved orders: in place for mobile lines, through a change for fixed ones."""

    def __init__(
        self,
        db: Database,
        workflow: ChangeWorkflow,
        orders: OrderSettings,
        tickets: TicketSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.workflow = workflow
        self.orders = orders
        self.tickets = tickets
        self.clock = clock

    def fulfil(
        self, ref: str, actor: str, progress: Progress | None = None
    ) -> FulfilmentReport | None:
        """Fulfil one approved order; None when someone else already is.

        Outside the change windows a fixed line's order is not claimed: it waits
        (PolicyViolation names the windows) and the worker takes it up later.
        """
        note = progress or (lambda _t: None)
        now = self.clock()
        with self.db.read() as s:
            order = get_order(s, ref)
            network, tell = needs_network(order), actor != order.requested_by
            started = order.state != OrderState.IN_PROGRESS or order.fulfilment_started_at
            unplaced = None if started else unplaced_fixed_line(s, order)
        if unplaced is not None:
            return self._fail(ref, unplaced, None, tell)
        if not network:
            with self.db.transaction() as s:
                order = fulfil_in_place(s, ref, orders=self.orders, now=now, tell=tell)
                return _report(s, order)
        self.workflow.check_window(now)
        with self.db.transaction() as s:
            claimed = claim_fulfilment(s, ref, orders=self.orders, now=now)
            if claimed is None:
                return None
            hostname = s.get_one(Device, claimed.device_id).hostname
            template, params = _intent(s, claimed)
            port, approver = claimed.port, claimed.decided_by or SYSTEM
            undoes = provisioning_change(s, claimed) if template == CEASE else None
        where = f"{hostname} {port}"
        change_ref: str | None = None
        try:
            note(f"{ref}: {template} on {where}")
            if template == CEASE:
                if undoes is None:
                    return self._fail(
                        ref,
                        f"{where}: no change that provisioned this line is on record to undo; "
                        "remove its port configuration by hand, then cease it again",
                        None,
                        tell,
                    )
                # The change that undoes the provisioning one, forced over the line's own
                # later port changes (a suspension's shutdown, a resumption's no shutdown):
                # a cease takes away everything the line had on its port.
                change, plan = self.workflow.plan_rollback(
                    undoes, approver, force=True, may_force=True
                )
            else:
                change, plan = self.workflow.plan(template, [hostname], params, f"order {ref}")
            change_ref = change.ref
            with self.db.transaction() as s:
                get_order(s, ref).change_request_id = change.id
            planned = plan.outcomes[0]
            if planned.state in (TargetState.FAILED, TargetState.UNREACHABLE):
                return self._fail(ref, f"{where}: {planned.detail}", change_ref, tell)
            if planned.state == TargetState.UNCHANGED:
                return self._complete(ref, change_ref, tell, f"{where} was already as intended")
            report = self.workflow.apply(change.ref, approver, progress=note)
            if report.state == ChangeState.SUCCEEDED:
                done = "configuration removed" if template == CEASE else "configured"
                return self._complete(ref, change_ref, tell, f"{where} {done} and verified")
            detail = report.outcomes[-1].detail if report.outcomes else report.summary
            if report.state == ChangeState.FAILED:
                # The device did not roll itself back (it stopped answering mid-change):
                # put back what the change left, as far as the device lets us.
                try:
                    undo = self.workflow.undo(change.ref, approver)
                    detail = f"{detail}; {undo.summary}"
                except DomainError as exc:
                    detail = f"{detail}; rollback: {exc}"
            return self._fail(ref, f"{where}: {detail}", change_ref, tell)
        except DomainError as exc:
            return self._fail(ref, f"{where}: {exc}", change_ref, tell)
        except Exception as exc:
            # Never leave a claimed order in progress for ever: fail it, with a ticket.
            log.exception("provisioning %s failed unexpectedly", ref)
            return self._fail(ref, f"{where}: provisioning stopped ({exc})"[:500], change_ref, tell)

    def run_pending(self, progress: Progress | None = None) -> list[FulfilmentReport]:
        """The worker's pass: fulfil every approved order nobody has started."""
        with self.db.read() as s:
            refs = orders_to_fulfil(s)
        done = []
        for ref in refs:
            try:
                report = self.fulfil(ref, "provisioning", progress)
            except PolicyViolation as exc:  # outside the change windows: it waits
                log.info("order %s waits: %s", ref, exc)
                continue
            if report is not None:
                done.append(report)
        return done

    def _complete(self, ref: str, change: str | None, tell: bool, how: str) -> FulfilmentReport:
        with self.db.transaction() as s:
            order = complete_order(s, ref, now=self.clock(), tell=tell)
            report = _report(s, order, how)
        return FulfilmentReport(**{**report.__dict__, "change": change})

    def _fail(self, ref: str, reason: str, change: str | None, tell: bool) -> FulfilmentReport:
        with self.db.transaction() as s:
            order, ticket = fail_order(
                s, ref, reason, tickets=self.tickets, now=self.clock(), tell=tell
            )
            return FulfilmentReport(
                ref,
                order.state,
                f"{ref} failed: {reason}; {ticket.ref} opened",
                change=change,
                ticket=ticket.ref,
            )


#: A cease is not a template: it is the rollback of the change that provisioned the line.
CEASE = "rollback"


def provisioning_change(s: Session, order: ProductOrder) -> str | None:
    """The change that configured the port of the line `order` acts on (its new-line
    order's), if one is on record."""
    change_id = s.scalar(
        sa.select(ProductOrder.change_request_id)
        .where(
            ProductOrder.subscription_id == order.subscription_id,
            ProductOrder.action == OrderAction.ADD,
            ProductOrder.state == OrderState.COMPLETED,
            ProductOrder.change_request_id.is_not(None),
        )
        .order_by(ProductOrder.id.desc())
        .limit(1)
    )
    return make_ref(ChangeRequest.ref_prefix, change_id) if change_id else None


def _intent(s: Session, order: ProductOrder) -> tuple[str, dict[str, Any]]:
    if order.action == OrderAction.TERMINATE:
        return CEASE, {}
    if order.action == OrderAction.ADD:
        return "customer_access_port", {
            "interface": order.port,
            "vlan": order.vlan,
            "description": port_description(s, order),
        }
    state = "down" if order.action == OrderAction.SUSPEND else "up"
    return "customer_port_state", {"interface": order.port, "state": state}


def _freed(s: Session, order: ProductOrder) -> str:
    """What a cease gave back: the port and VLAN, or the number (retired, never reused)."""
    sub = s.get_one(Subscription, order.subscription_id)
    if sub.msisdn:
        return f", billed to {sub.terminated_at:%d %b %Y}; the number is retired, never reused"
    service = service_of(s, sub.id)
    vlan = f" and VLAN {service.vlan}" if service.vlan is not None else ""
    return f", billed to {sub.terminated_at:%d %b %Y}; {service.device} {service.port}{vlan} free"


def fulfilment_report(s: Session, ref: str) -> FulfilmentReport:
    """How an order stands, in the words fulfilment uses (an order done in place)."""
    return _report(s, get_order(s, ref))


def _report(s: Session, order: ProductOrder, how: str = "") -> FulfilmentReport:
    sub = s.get(Subscription, order.subscription_id) if order.subscription_id else None
    line = sub.identifier if sub is not None else None
    if order.state != OrderState.COMPLETED:
        return FulfilmentReport(order.ref, order.state, f"{order.ref} is {order.state}", line)
    done = {
        OrderAction.ADD: f"{line} is active",
        OrderAction.SUSPEND: f"{line} is suspended",
        OrderAction.RESUME: f"{line} is active again",
        OrderAction.TERMINATE: f"{line} is ceased",
    }.get(order.action, f"{order.ref} is done")
    if order.action == OrderAction.TERMINATE:
        done += _freed(s, order)
    return FulfilmentReport(
        order.ref,
        order.state,
        f"{order.ref} completed: {done}" + (f" ({how})" if how else ""),
        line,
    )
