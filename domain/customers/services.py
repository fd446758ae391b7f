"""Customer services: finding subscriptions and moving them through TMF637 states."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.customers.choices import SUBSCRIPTION_LIFECYCLE, SubscriptionState
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.db import utcnow
from domain.errors import DomainError
from domain.faults.choices import OPEN_TICKET_STATUSES
from domain.faults.models import Ticket
from domain.lookup import CARE, MOBILE_LINE, SubjectKind, resolve_subject
from domain.orders.choices import OPEN_ORDER_STATES
from domain.orders.models import ProductOrder


def subscription_by_msisdn(session: Session, text: str) -> Subscription:
    """The mobile line a number names, however it is written (domain/lookup.py's rule)."""
    subject = resolve_subject(session, text, MOBILE_LINE)
    return session.get_one(Subscription, subject.subscription_id)


def move_subscription(
    session: Session, subscription: Subscription, to: SubscriptionState, now: datetime | None = None
) -> Subscription:
    now = now or utcnow()
    SUBSCRIPTION_LIFECYCLE.check(subscription.identifier, subscription.state, to)
    subscription.state = to
    if to == SubscriptionState.ACTIVE and subscription.activated_at is None:
        subscription.activated_at = now
    if to == SubscriptionState.TERMINATED:
        subscription.terminated_at = now
    return subscription


# -- finding a customer's account from what a caller says ---------------------------------


def account_by_number(session: Session, number: str) -> BillingAccount:
    """A billing account by its number (BA100000001)."""
    subject = resolve_subject(session, number, {SubjectKind.ACCOUNT})
    return session.get_one(BillingAccount, subject.account_id)


def resolve_customer(session: Session, query: str) -> tuple[Customer, Subscription | None]:
    """The customer a care agent means, and the line when they named one (lookup grammar)."""
    subject = resolve_subject(session, query, CARE)
    sub = session.get(Subscription, subject.subscription_id) if subject.subscription_id else None
    return session.get_one(Customer, subject.customer_id), sub


def resolve_account(session: Session, query: str) -> BillingAccount:
    """The billing account a care agent means: named, the line's or the invoice's, or the
    customer's only one."""
    subject = resolve_subject(session, query, CARE)
    if subject.account_id is not None:
        return session.get_one(BillingAccount, subject.account_id)
    customer = session.get_one(Customer, subject.customer_id)
    accounts = customer.accounts
    if len(accounts) != 1:
        numbers = ", ".join(a.account_number for a in accounts[:5]) or "none"
        raise DomainError(
            f"{customer.name} has {len(accounts)} billing accounts ({numbers})",
            hint="name the account number",
        )
    return accounts[0]


# -- a customer's open work ------------------------------------------------------------------


def customer_work(session: Session, customer_id: int) -> tuple[list[Ticket], list[ProductOrder]]:
    """A customer's open tickets and orders still in flight."""
    tickets = list(
        session.scalars(
            sa.select(Ticket)
            .where(Ticket.customer_id == customer_id, Ticket.status.in_(OPEN_TICKET_STATUSES))
            .order_by(Ticket.sla_due_at)
            .limit(10)
        )
    )
    orders = list(
        session.scalars(
            sa.select(ProductOrder)
            .where(
                ProductOrder.customer_id == customer_id, ProductOrder.state.in_(OPEN_ORDER_STATES)
            )
            .order_by(ProductOrder.id.desc())
            .limit(10)
        )
    )
    return tickets, orders
