"""Billing choices: usage (TMF635), invoices (TMF678) and payments (TMF676)."""

from __future__ import annotations

from enum import StrEnum

from domain.states import Lifecycle


class Direction(StrEnum):
    OUT = "out"
    IN = "in"


class UsageState(StrEnum):
    RECEIVED = "received"
    RATED = "rated"
    BILLED = "billed"


class InvoiceState(StrEnum):
    NEW = "new"
    ON_HOLD = "onHold"
    SENT = "sent"
    PARTIALLY_PAID = "partiallyPaid"
    SETTLED = "settled"


INVOICE_LIFECYCLE = Lifecycle(
    "invoice",
    {
        InvoiceState.NEW: [InvoiceState.SENT, InvoiceState.ON_HOLD],
        InvoiceState.ON_HOLD: [InvoiceState.NEW, InvoiceState.SENT],
        InvoiceState.SENT: [
            InvoiceState.PARTIALLY_PAID,
            InvoiceState.SETTLED,
            InvoiceState.ON_HOLD,
        ],
        InvoiceState.PARTIALLY_PAID: [InvoiceState.SETTLED, InvoiceState.ON_HOLD],
        InvoiceState.SETTLED: [],
    },
)

UNPAID_INVOICE_STATES = frozenset({InvoiceState.SENT, InvoiceState.PARTIALLY_PAID})


class CreditState(StrEnum):
    """A credit that needs a second person: it waits, then is approved or rejected."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


CREDIT_LIFECYCLE = Lifecycle(
    "credit",
    {
        CreditState.PENDING: [CreditState.APPROVED, CreditState.REJECTED],
        CreditState.APPROVED: [],
        CreditState.REJECTED: [],
    },
)


class LineKind(StrEnum):
    RECURRING = "recurring"
    ONE_OFF = "one_off"
    USAGE = "usage"
    ADJUSTMENT = "adjustment"
    DISCOUNT = "discount"
