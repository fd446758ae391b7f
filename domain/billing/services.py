"""Billing services: the invoice lifecycle (TMF678)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.billing.choices import INVOICE_LIFECYCLE, InvoiceState
from domain.billing.models import Invoice
from domain.errors import NotFound


def invoice_by_number(session: Session, number: str) -> Invoice:
    invoice = session.scalars(
        sa.select(Invoice).where(Invoice.number == number.strip().upper())
    ).one_or_none()
    if invoice is None:
        raise NotFound(f"no invoice {number}", hint="invoice numbers look like INV-202610-0000123")
    return invoice


def move_invoice(session: Session, invoice: Invoice, to: InvoiceState) -> Invoice:
    INVOICE_LIFECYCLE.check(invoice.number, invoice.state, to)
    invoice.state = to
    return invoice
