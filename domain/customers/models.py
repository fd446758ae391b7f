"""Customer entities: Customer, BillingAccount, Subscription."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.catalog.choices import Segment
from domain.catalog.models import ProductOffering
from domain.customers.choices import (
    AccountStatus,
    CustomerStatus,
    DunningState,
    IdDocument,
    PaymentMethod,
    SubscriptionState,
)
from domain.db import Base, UtcDateTime, enum_column, utcnow


class Customer(Base):
    """A person or an enterprise the operator serves."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), index=True)
    segment: Mapped[Segment] = mapped_column(enum_column(Segment))
    status: Mapped[CustomerStatus] = mapped_column(
        enum_column(CustomerStatus), default=CustomerStatus.ACTIVE
    )
    id_document: Mapped[IdDocument] = mapped_column(enum_column(IdDocument))
    #: Identity number; shown masked to care agents.
    id_number: Mapped[str] = mapped_column(sa.String(32))
    email: Mapped[str] = mapped_column(sa.String(160))
    phone: Mapped[str] = mapped_column(sa.String(20))
    address: Mapped[str] = mapped_column(sa.String(240))
    city: Mapped[str] = mapped_column(sa.String(80))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    accounts: Mapped[list[BillingAccount]] = relationship(back_populates="customer")
    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="customer")


class BillingAccount(Base):
    """Where a customer's charges collect. Amounts are in the currency's minor unit."""

    __tablename__ = "billing_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    status: Mapped[AccountStatus] = mapped_column(
        enum_column(AccountStatus), default=AccountStatus.ACTIVE
    )
    #: Day of the month the bill cycle starts (1-28).
    bill_cycle_day: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    credit_limit_minor: Mapped[int] = mapped_column(sa.BigInteger)
    #: What the customer owes now: invoiced and unpaid, less unallocated credit.
    balance_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    dunning_state: Mapped[DunningState] = mapped_column(
        enum_column(DunningState), default=DunningState.CURRENT
    )
    payment_method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("bill_cycle_day BETWEEN 1 AND 28", name="cycle_day"),)

    customer: Mapped[Customer] = relationship(back_populates="accounts")
    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="account")


class Subscription(Base):
    """A product a customer holds: a mobile line (MSISDN) or a fixed circuit."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    billing_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("billing_accounts.id"), index=True
    )
    offering_id: Mapped[int] = mapped_column(sa.ForeignKey("product_offerings.id"))
    msisdn: Mapped[str | None] = mapped_column(sa.String(15), unique=True)
    circuit_id: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    imsi: Mapped[str | None] = mapped_column(sa.String(15))
    #: The handset last seen with this SIM.
    imei: Mapped[str | None] = mapped_column(sa.String(16))
    state: Mapped[SubscriptionState] = mapped_column(
        enum_column(SubscriptionState), default=SubscriptionState.CREATED, index=True
    )
    # A state move is compare-and-set on the state itself, so two people acting on
    # the same record at once cannot both succeed.
    __mapper_args__ = {"version_id_col": state, "version_id_generator": False}
    #: Where a fixed circuit is delivered: access device and port.
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"))
    port: Mapped[str | None] = mapped_column(sa.String(64))
    #: The customer VLAN the fixed line was given on that port.
    vlan: Mapped[int | None] = mapped_column(sa.Integer)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="subscriptions")
    account: Mapped[BillingAccount] = relationship(back_populates="subscriptions")
    offering: Mapped[ProductOffering] = relationship()

    @property
    def identifier(self) -> str:
        """The number care agents use: MSISDN or circuit id."""
        return self.msisdn or self.circuit_id or f"subscription {self.id}"
