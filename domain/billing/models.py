"""Billing entities: UsageRecord, Invoice with lines, Payment with allocations.

Amounts are integers in the currency's minor unit (paise for INR), so sums are exact.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.billing.choices import CreditState, Direction, InvoiceState, LineKind, UsageState
from domain.catalog.choices import Service, Zone
from domain.customers.choices import PaymentMethod
from domain.db import Base, BigId, UtcDateTime, enum_column, make_ref, utcnow


class UsageRecord(Base):
    """One call, message or data session (TMF635)."""

    __tablename__ = "usage_records"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscriptions.id"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    service: Mapped[Service] = mapped_column(enum_column(Service))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction))
    counterpart: Mapped[str] = mapped_column(sa.String(24), default="")
    #: ISO 3166 code of the other party ("" for data).
    counterpart_country: Mapped[str] = mapped_column(sa.String(2), default="")
    duration_s: Mapped[int] = mapped_column(default=0)
    volume_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    cell_id: Mapped[str] = mapped_column(sa.String(24))
    imei: Mapped[str] = mapped_column(sa.String(16))
    roaming: Mapped[bool] = mapped_column(default=False)
    state: Mapped[UsageState] = mapped_column(enum_column(UsageState), default=UsageState.RECEIVED)
    zone: Mapped[Zone | None] = mapped_column(enum_column(Zone))
    charge_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))

    __table_args__ = (
        sa.Index("ix_usage_records_subscription_started", "subscription_id", "started_at"),
        sa.Index("ix_usage_records_started_at", "started_at"),
        sa.CheckConstraint("duration_s >= 0 AND volume_bytes >= 0", name="non_negative"),
    )


def invoice_number(period_start: date, invoice_id: int) -> str:
    """An invoice's number: its bill cycle and its id, INV-202610-0000123."""
    return f"INV-{period_start:%Y%m}-{invoice_id:07d}"


class Invoice(Base):
    """A customer bill for one account and one bill cycle (TMF678)."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    billing_account_id: Mapped[int] = mapped_column(sa.ForeignKey("billing_accounts.id"))
    period_start: Mapped[date]
    period_end: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_date: Mapped[date]
    state: Mapped[InvoiceState] = mapped_column(
        enum_column(InvoiceState), default=InvoiceState.NEW, index=True
    )
    # A state move is compare-and-set on the state itself, so two people acting on
    # the same record at once cannot both succeed.
    __mapper_args__ = {"version_id_col": state, "version_id_generator": False}
    subtotal_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    paid_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    disputed: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        sa.UniqueConstraint("billing_account_id", "period_start"),
        sa.Index("ix_invoices_period_start", "period_start"),
        sa.Index("ix_invoices_issued_at", "issued_at"),
        sa.CheckConstraint("total_minor = subtotal_minor + tax_minor", name="total_adds_up"),
    )

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.id"
    )

    @property
    def next_period_start(self) -> date:
        return self.period_end + timedelta(days=1)

    @property
    def amount_due_minor(self) -> int:
        return self.total_minor - self.paid_minor


class InvoiceLine(Base):
    """One charge on an invoice, with its own tax."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[LineKind] = mapped_column(enum_column(LineKind))
    description: Mapped[str] = mapped_column(sa.String(200))
    subscription_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subscriptions.id"))
    service: Mapped[Service | None] = mapped_column(enum_column(Service))
    quantity: Mapped[float] = mapped_column(default=1.0)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    tax_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(Base):
    """Money received on an account (TMF676), allocated to invoices oldest first."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(40), unique=True)
    billing_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("billing_accounts.id"), index=True
    )
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    unallocated_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="positive"),
        sa.Index("ix_payments_received_at", "received_at"),
    )

    allocations: Mapped[list[PaymentAllocation]] = relationship(back_populates="payment")


class PaymentAllocation(Base):
    """The part of a payment that settles one invoice."""

    __tablename__ = "payment_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)

    payment: Mapped[Payment] = relationship(back_populates="allocations")


class Adjustment(Base):
    """A credit (negative) or charge (positive) on an account, billed on its next invoice.

    A resolved billing dispute issues one; the bill run puts it on the invoice as an
    adjustment line and records which invoice carried it.
    """

    __tablename__ = "adjustments"
    ref_prefix = "ADJ"

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("billing_accounts.id"), index=True
    )
    #: Before tax, in the minor unit; negative for a credit.
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.String(200))
    #: The invoice it is about (a disputed one), if any.
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The invoice that carried it; None until a bill run does.
    billed_invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"), index=True)

    __table_args__ = (sa.CheckConstraint("amount_minor <> 0", name="not_zero"),)

    @property
    def ref(self) -> str:
        return make_ref(self.ref_prefix, self.id)


class CreditRequest(Base):
    """A credit that waits for a second person (a manager) before it becomes an adjustment.

    A credit above `billing.credit_approval_above`, or on a dispute its resolver opened,
    is kept here as pending; it counts against what the invoice may still be credited, so
    nothing approved later can pass that. Approval issues the Adjustment; rejection
    frees the room again.
    """

    __tablename__ = "credit_requests"
    ref_prefix = "CRD"

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_account_id: Mapped[int] = mapped_column(sa.ForeignKey("billing_accounts.id"))
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    #: The credit, before tax, in the minor unit; positive.
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.String(200))
    #: Why it needs a second person, in words ("above ₹5,000.00").
    why: Mapped[str] = mapped_column(sa.String(200))
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    state: Mapped[CreditState] = mapped_column(
        enum_column(CreditState), default=CreditState.PENDING, index=True
    )
    # Deciding is compare-and-set on the state, so two managers cannot both decide it.
    __mapper_args__ = {"version_id_col": state, "version_id_generator": False}
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))
    #: The adjustment an approval issued.
    adjustment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("adjustments.id"))
    #: The credit's card in the approvals channel, and whether it is behind the credit.
    slack_channel: Mapped[str | None] = mapped_column(sa.String(32))
    slack_ts: Mapped[str | None] = mapped_column(sa.String(32))
    channel_due: Mapped[bool | None] = mapped_column(default=False, server_default=sa.false())
    #: The requester has not yet been told how the credit was decided.
    requester_due: Mapped[bool | None] = mapped_column(default=False, server_default=sa.false())

    __table_args__ = (sa.CheckConstraint("amount_minor > 0", name="positive"),)

    @property
    def ref(self) -> str:
        return make_ref(self.ref_prefix, self.id)
