"""Every entity, imported once so the metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

from domain.audit.models import AuditEvent, ProcessedRequest
from domain.billing.models import (
    Adjustment,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    UsageRecord,
)
from domain.catalog.models import Destination, ProductOffering, Tariff
from domain.changes.models import ChangeRequest, ChangeTarget, ConfigBackup, DeviceLock
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.db import Base
from domain.faults.models import Alarm, AlarmStorm, Ticket, TicketEvent
from domain.fraud.models import FraudCase, FraudLabel
from domain.inventory.models import Device, Interface, Region, Site
from domain.jobs import SCHEDULER_JOBS, DigestSubscription
from domain.orders.models import ProductOrder

metadata = Base.metadata

__all__ = [
    "SCHEDULER_JOBS",
    "Adjustment",
    "Alarm",
    "AlarmStorm",
    "AuditEvent",
    "Base",
    "BillingAccount",
    "ChangeRequest",
    "ChangeTarget",
    "ConfigBackup",
    "Customer",
    "Destination",
    "Device",
    "DeviceLock",
    "DigestSubscription",
    "FraudCase",
    "FraudLabel",
    "Interface",
    "Invoice",
    "InvoiceLine",
    "Payment",
    "PaymentAllocation",
    "ProcessedRequest",
    "ProductOffering",
    "ProductOrder",
    "Region",
    "Site",
    "Subscription",
    "Tariff",
    "Ticket",
    "TicketEvent",
    "UsageRecord",
    "metadata",
]
