"""A small world of real rows to act on, shared by integration and scenario tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from automation.drivers import Opener
from bot.access import Access
from bot.bootstrap import build_services, load_skills
from bot.router import Router
from domain.catalog.choices import ProductLine, Segment
from domain.config import PROJECT_ROOT, Settings, load_settings
from domain.customers.choices import IdDocument, PaymentMethod, SubscriptionState
from domain.db import Database
from domain.demo.generator import Scale
from domain.inventory.choices import DeviceRole, Platform, SiteKind
from domain.schema import (
    BillingAccount,
    Customer,
    Device,
    ProductOffering,
    Region,
    Site,
    Subscription,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

#: A small seeded operator for tests that need believable data, lab devices included.
SMALL = Scale(
    "small",
    devices=80,
    subscriptions=600,
    usage_records=25_000,
    lab_devices=8,
    tickets=40,
    alarms=60,
    orders=16,
    changes=3,
)
AS_OF = date(2026, 11, 1)


def populate_world(db: Database) -> Database:
    """One region, site, device, customer, account, offering and mobile line."""
    rows = [
        Region(id=1, code="MUM", name="Mumbai"),
        Site(
            id=1,
            code="MUM-AND1",
            name="Andheri Exchange",
            kind=SiteKind.EXCHANGE,
            region_id=1,
            city="Mumbai",
        ),
        Device(
            id=1,
            hostname="r1-mum",
            site_id=1,
            role=DeviceRole.ACCESS,
            platform=Platform.CISCO_IOS,
            vendor="Cisco",
            model="ASR-920",
            os_version="17.6",
            serial="FOC0001",
            mgmt_host="127.0.0.1",
            mgmt_port=6000,
        ),
        ProductOffering(
            id=1,
            code="POST-399",
            name="Postpaid 399",
            segment=Segment.CONSUMER,
            product_line=ProductLine.MOBILE_POSTPAID,
            monthly_fee_minor=39900,
        ),
        Customer(
            id=1,
            name="Priya Nair",
            segment=Segment.CONSUMER,
            id_document=IdDocument.AADHAAR,
            id_number="234567890123",
            email="priya@example.in",
            phone="919800000001",
            address="1, Powai",
            city="Mumbai",
            region_id=1,
        ),
        BillingAccount(
            id=1,
            account_number="BA100000001",
            customer_id=1,
            credit_limit_minor=500000,
            payment_method=PaymentMethod.UPI,
        ),
        Subscription(
            id=1,
            customer_id=1,
            billing_account_id=1,
            offering_id=1,
            msisdn="919876543210",
            state=SubscriptionState.ACTIVE,
            activated_at=NOW - timedelta(days=100),
        ),
    ]
    with db.transaction() as s:
        for row in rows:  # one by one: these tables have no relationships to order them
            s.add(row)
            s.flush()
    reset_sequences(db)
    return db


def reset_sequences(db: Database) -> None:
    """After rows written with their ids, PostgreSQL's sequences hand out the next ones."""
    if db.dialect != "postgresql":
        return
    with db.transaction() as s:
        for (table,) in s.execute(
            sa.text(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name = 'id' "
                "AND column_default LIKE 'nextval%'"
            )
        ):
            s.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f'COALESCE((SELECT max(id) FROM "{table}"), 0) + 1, false)'
                )
            )


def lab_settings() -> Settings:
    """The shipped settings with the lab fixture's device credentials."""
    return load_settings(
        PROJECT_ROOT / "config.yaml",
        env={"SWITCHBOARD_DEVICE_USER": "netops", "SWITCHBOARD_DEVICE_PASSWORD": "lab-pw"},
    )


def make_router(
    db: Database,
    settings: Settings,
    clock: Callable[[], datetime] | None = None,
    opener: Opener | None = None,
) -> Router:
    """A router over the services bootstrap would build (the clock pinned, and devices
    opened in memory, when given)."""
    services = build_services(
        settings,
        db,
        **({"clock": clock} if clock else {}),
        **({"opener": opener} if opener else {}),
    )
    return Router(load_skills(), services)


def lab_router(db: Database) -> tuple[Router, Access]:
    """The shipped settings with the lab fixture's device credentials, and a router."""
    settings = lab_settings()
    return make_router(db, settings), Access(settings)
