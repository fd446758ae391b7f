"""Order provisioning: an approved order on a fixed line becomes a config change.

`Provisioner.fulfil` claims the order once, plans the change on the access device at
the order's port (`customer_access_port` for a new line, `customer_port_state` to
shut or open the port for a suspension or a resumption), applies it through the change
workflow (backup, push, verify, roll back a device that fails) and records how it
ended: the line active (or suspended) with billing counting from that moment, or the
order failed with the reason, the change rolled back and a provisioning ticket opened.
Orders that touch no device (mobile lines) are fulfilled in the database alone.

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

from sqlalchemy.orm import Session

from domain.changes.choices import ChangeState, TargetState
from domain.config import OrderSettings, TicketSettings
from domain.customers.models import Subscription
from domain.db import Database, utcnow
from domain.errors import DomainError, PolicyViolation
from domain.inventory.models import Device
from domain.orders.choices import OrderAction, OrderState
from domain.orders.models import ProductOrder
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
        where = f"{hostname} {port}"
        change_ref: str | None = None
        try:
            note(f"{ref}: {template} on {where}")
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
                return self._complete(ref, change_ref, tell, f"{where} configured and verified")
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


def _intent(s: Session, order: ProductOrder) -> tuple[str, dict[str, Any]]:
    if order.action == OrderAction.ADD:
        return "customer_access_port", {
            "interface": order.port,
            "vlan": order.vlan,
            "description": port_description(s, order),
        }
    state = "down" if order.action == OrderAction.SUSPEND else "up"
    return "customer_port_state", {"interface": order.port, "state": state}


def _report(s: Session, order: ProductOrder, how: str = "") -> FulfilmentReport:
    sub = s.get(Subscription, order.subscription_id) if order.subscription_id else None
    line = sub.identifier if sub is not None else None
    if order.state != OrderState.COMPLETED:
        return FulfilmentReport(order.ref, order.state, f"{order.ref} is {order.state}", line)
    done = {
        OrderAction.ADD: f"{line} is active",
        OrderAction.SUSPEND: f"{line} is suspended",
        OrderAction.RESUME: f"{line} is active again",
    }.get(order.action, f"{order.ref} is done")
    return FulfilmentReport(
        order.ref,
        order.state,
        f"{order.ref} completed: {done}" + (f" ({how})" if how else ""),
        line,
    )
