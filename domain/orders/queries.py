"""What order views show: an order's card, order lists, orders waiting for a manager.

Every function reads only and takes a session; `/order list`, the order card (chat
and the orders channel) and the digest's orders section all read through here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.catalog.models import ProductOffering
from domain.changes.models import ChangeRequest
from domain.customers.models import Customer, Subscription
from domain.inventory.models import Device, Site
from domain.orders.choices import OrderState
from domain.orders.models import ProductOrder


@dataclass(frozen=True)
class OrderView:
    """An order with what its card shows besides it."""

    order: ProductOrder
    customer: Customer
    offering: ProductOffering | None
    #: The line the order made or acts on.
    line: Subscription | None
    #: Where a fixed line is delivered.
    site: Site | None
    device: Device | None
    #: The change that configures a fixed line's access port.
    change: ChangeRequest | None


def order_view(session: Session, order_id: int) -> OrderView:
    """The order `order_id` as its card shows it."""
    order = session.get_one(ProductOrder, order_id)
    device = session.get_one(Device, order.device_id) if order.device_id else None
    return OrderView(
        order=order,
        customer=session.get_one(Customer, order.customer_id),
        offering=session.get(ProductOffering, order.offering_id) if order.offering_id else None,
        line=session.get_one(Subscription, order.subscription_id)
        if order.subscription_id
        else None,
        site=session.get_one(Site, device.site_id) if device else None,
        device=device,
        change=session.get_one(ChangeRequest, order.change_request_id)
        if order.change_request_id
        else None,
    )


def order_by_key(session: Session, external_id: str) -> ProductOrder | None:
    """The order a caller's idempotency key made, if any."""
    return session.scalars(
        sa.select(ProductOrder).where(ProductOrder.external_id == external_id)
    ).first()


@dataclass(frozen=True)
class OrderRow:
    """One line of an order list: the order and its customer's name."""

    order: ProductOrder
    customer: str


def list_orders(
    session: Session,
    state: OrderState | None = None,
    limit: int = 20,
    *,
    oldest_first: bool = False,
) -> list[OrderRow]:
    """Orders (in `state` when given): the latest placed first, or with `oldest_first`
    the one waiting longest first."""
    query = sa.select(ProductOrder, Customer.name).join(
        Customer, Customer.id == ProductOrder.customer_id
    )
    if state is not None:
        query = query.where(ProductOrder.state == state)
    order = (
        (ProductOrder.created_at, ProductOrder.id) if oldest_first else (ProductOrder.id.desc(),)
    )
    return [OrderRow(o, name) for o, name in session.execute(query.order_by(*order).limit(limit))]


def count_orders(session: Session, state: OrderState | None = None) -> int:
    """How many orders there are (in `state` when given)."""
    query = sa.select(sa.func.count()).select_from(ProductOrder)
    if state is not None:
        query = query.where(ProductOrder.state == state)
    return int(session.scalar(query) or 0)
