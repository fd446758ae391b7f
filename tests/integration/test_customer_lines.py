"""/customer shows what each line holds, as its records say: a fibre line is a device,
port and VLAN, never a mobile number; a mobile line its SIM (masked unless unmasked)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import sqlalchemy as sa

from bot.access import Access
from domain.catalog.choices import ProductLine
from domain.catalog.models import ProductOffering
from domain.config import PROJECT_ROOT, load_settings
from domain.customers.models import Subscription
from domain.db import Database
from domain.demo.seed import seed
from domain.inventory.models import Device
from domain.orders.queries import service_of
from tests.world import AS_OF, SMALL, make_router

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
ACCESS = Access(SETTINGS)
NOW = datetime.combine(AS_OF, time(9, 0), UTC)


def test_each_line_says_what_it_holds(db: Database) -> None:
    seed(db, SMALL, seed=11, as_of=AS_OF)
    with db.read() as s:
        rows = s.execute(
            sa.select(Subscription, ProductOffering.product_line).join(
                ProductOffering, ProductOffering.id == Subscription.offering_id
            )
        ).all()
        fixed = next(
            sub for sub, line in rows if ProductLine(line).fixed and sub.device_id is not None
        )
        mobile = next(sub for sub, line in rows if not ProductLine(line).fixed and sub.imsi)
        fixed_view = service_of(s, fixed.id)
        device = s.get_one(Device, fixed.device_id).hostname
        assert fixed.msisdn is None, "a fixed line never holds a mobile number"
        circuit, number, imsi, port = fixed.circuit_id, mobile.msisdn, mobile.imsi, fixed.port
    router = make_router(db, SETTINGS, clock=lambda: NOW)
    shown = router.handle(ACCESS.user("carol"), f"/customer {circuit}")
    assert shown.ok, shown.text
    (row,) = [r for r in shown.tables[0].rows if r[0] == circuit]
    assert row[-1] == fixed_view.holds
    assert row[-1].startswith(f"{device} {port} VLAN "), row
    mobile_rows = router.handle(ACCESS.user("carol"), f"/customer {number}").tables[0].rows
    (held,) = [r[-1] for r in mobile_rows if r[0] == number]
    assert held.startswith(f"number {number}, SIM ") and imsi not in held
    assert held.endswith(imsi[-4:])
