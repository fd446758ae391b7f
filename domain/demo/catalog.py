"""The product catalog: offerings with their tariffs by zone, and the destinations."""

from __future__ import annotations

from typing import Any

from domain.catalog.choices import Segment
from domain.demo import reference as ref
from domain.demo.columns import Columns


def catalog_tables(minor_per_major: int) -> dict[str, Columns]:
    """Offerings (fees in minor units), tariffs and destinations from the reference data."""
    offers = ref.OFFERINGS
    offerings = {
        "id": list(range(1, len(offers) + 1)),
        "code": [o.code for o in offers],
        "name": [o.name for o in offers],
        "segment": [o.segment.value for o in offers],
        "product_line": [o.product_line.value for o in offers],
        "monthly_fee_minor": [o.monthly_fee * minor_per_major for o in offers],
        "one_off_fee_minor": [o.one_off_fee * minor_per_major for o in offers],
        "allowance_voice_min": [o.voice_min for o in offers],
        "allowance_sms": [o.sms for o in offers],
        "allowance_data_mb": [o.data_mb for o in offers],
        "roaming_surcharge_pct": [o.roaming_surcharge_pct for o in offers],
        "active": [True] * len(offers),
    }
    tariffs: dict[str, list[Any]] = {
        k: [] for k in ("offering_id", "service", "zone", "unit", "rate_minor")
    }
    for oid, o in enumerate(offers, start=1):
        if o.product_line.fixed:
            continue
        for service, zone, unit, rate in ref.TARIFFS:
            tariffs["offering_id"].append(oid)
            tariffs["service"].append(service.value)
            tariffs["zone"].append(zone.value)
            tariffs["unit"].append(unit.value)
            # Business plans pay less for international calls.
            discount = 0.8 if o.segment == Segment.ENTERPRISE and zone.value != "national" else 1
            # The reference prices are in paise, a hundredth of the rupee.
            tariffs["rate_minor"].append(round(rate * discount * minor_per_major / 100))
    tariffs["id"] = list(range(1, len(tariffs["offering_id"]) + 1))
    d = ref.DESTINATIONS
    destinations = {
        "id": list(range(1, len(d) + 1)),
        "prefix": [x.prefix for x in d],
        "country": [x.country for x in d],
        "country_name": [x.name for x in d],
        "zone": [x.zone.value for x in d],
        "high_cost": [x.high_cost for x in d],
    }
    return {"product_offerings": offerings, "tariffs": tariffs, "destinations": destinations}
