"""Order services: TMF622 lifecycle with a second person approving."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain.db import get_by_ref, utcnow
from domain.errors import PolicyViolation
from domain.orders.choices import ORDER_LIFECYCLE, OrderAction, OrderState
from domain.orders.models import ProductOrder


def create_order(
    session: Session,
    *,
    customer_id: int,
    requested_by: str,
    action: OrderAction = OrderAction.ADD,
    offering_id: int | None = None,
    subscription_id: int | None = None,
    site_id: int | None = None,
    device_id: int | None = None,
    port: str | None = None,
    one_off_minor: int = 0,
    monthly_minor: int = 0,
    now: datetime | None = None,
) -> ProductOrder:
    now = now or utcnow()
    order = ProductOrder(
        action=action,
        state=OrderState.ACKNOWLEDGED,
        customer_id=customer_id,
        offering_id=offering_id,
        subscription_id=subscription_id,
        site_id=site_id,
        device_id=device_id,
        port=port,
        one_off_minor=one_off_minor,
        monthly_minor=monthly_minor,
        requested_by=requested_by,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    return order


def get_order(session: Session, ref: str) -> ProductOrder:
    return get_by_ref(session, ProductOrder, ref, "order")


def move_order(
    session: Session,
    ref: str,
    to: OrderState,
    now: datetime | None = None,
    reason: str | None = None,
) -> ProductOrder:
    """Move an order along its lifecycle (provisioning, completion, failure, hold)."""
    now = now or utcnow()
    order = get_order(session, ref)
    ORDER_LIFECYCLE.check(order.ref, order.state, to)
    order.state = to
    order.updated_at = now
    if to == OrderState.COMPLETED:
        order.completed_at = now
    if to == OrderState.FAILED:
        order.failure_reason = reason
    return order


def decide_order(
    session: Session,
    ref: str,
    approver: str,
    approve: bool,
    note: str = "",
    now: datetime | None = None,
) -> ProductOrder:
    """Approve (-> inProgress) or reject an order; the requester cannot decide their own."""
    now = now or utcnow()
    order = get_order(session, ref)
    if order.requested_by == approver:
        raise PolicyViolation(
            f"{approver} requested {order.ref}; someone else must approve or reject it",
            hint="ask another manager",
        )
    to = OrderState.IN_PROGRESS if approve else OrderState.REJECTED
    if order.state != OrderState.PENDING and order.decided_by:
        raise PolicyViolation(
            f"order {order.ref} was already decided by {order.decided_by} ({order.state})"
        )
    ORDER_LIFECYCLE.check(order.ref, order.state, to)
    order.state = to
    order.decided_by = approver
    order.decided_at = now
    order.decision_note = note or None
    order.updated_at = now
    return order
