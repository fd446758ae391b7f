"""Demo data for a believable Indian operator, generated column-wise with NumPy.

`Generation(scale, seed, as_of)` composes the parts, each in its own module:

* network.py: circles, sites, devices (the lab's among them), interfaces;
* catalog.py: offerings, tariffs, destinations;
* customers.py: customers, billing accounts, mobile and fixed subscriptions;
* history.py: alarms, tickets, past changes, orders;
* monthly_usage.py: the usage month in full and the past months' usage abroad, streamed
  in chunks so even the large scale (20 million records) fits in bounded memory;
* billing_history.py: how customers paid and disputed over the bill cycles before the
  usage month, and which lines they asked care to suspend. The seed replays it through
  the services (rating, bill run, payments, disputes, dunning, suspend orders): no
  amount is computed here, and no line is suspended without an order.

Settings (currency digits, payment terms, SLA hours, number block, lab port) come
from the configuration's sections. The same seed and as_of date always give the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from domain.config import Settings
from domain.customers.choices import SubscriptionState
from domain.demo.billing_history import (
    BillingPlan,
    disputes_for,
    plan_billing_history,
    plan_suspensions,
)
from domain.demo.catalog import catalog_tables
from domain.demo.columns import Columns
from domain.demo.customers import build_customers
from domain.demo.history import build_history
from domain.demo.monthly_usage import SeededUsage
from domain.demo.network import build_network
from domain.demo.timeline import Timeline


@dataclass(frozen=True)
class Scale:
    name: str
    devices: int
    subscriptions: int
    #: Usage records over the 30 days, spread over the active mobile lines.
    usage_records: int
    lab_devices: int
    tickets: int
    alarms: int
    orders: int
    changes: int
    #: Mobile subscriptions per usage chunk (bounds memory while seeding).
    usage_chunk: int = 25_000


SCALES: dict[str, Scale] = {
    "demo": Scale(
        "demo",
        devices=300,
        subscriptions=5_000,
        usage_records=560_000,
        lab_devices=8,
        tickets=260,
        alarms=400,
        orders=80,
        changes=12,
    ),
    "large": Scale(
        "large",
        devices=20_000,
        subscriptions=250_000,
        usage_records=21_000_000,
        lab_devices=8,
        tickets=12_000,
        alarms=20_000,
        orders=3_000,
        changes=400,
    ),
}


class Generation:
    """A seeded generation: the tables at once, usage and billing history for the seed."""

    def __init__(
        self,
        scale: Scale,
        seed: int,
        as_of: date,
        settings: Settings | None = None,
        lab_base_port: int | None = None,
    ) -> None:
        settings = settings or Settings()
        self.timeline = timeline = Timeline(as_of)
        minor_per_major = 10**settings.billing.minor_digits
        rng = np.random.default_rng([seed, 1])
        network = build_network(
            rng,
            scale.devices,
            scale.lab_devices,
            timeline.now,
            settings.devices.lab.base_port if lab_base_port is None else lab_base_port,
        )
        customers = build_customers(
            rng,
            scale.subscriptions,
            timeline,
            network,
            minor_per_major=minor_per_major,
            msisdn_prefix=settings.orders.msisdn_prefix,
        )
        disputes = disputes_for(scale.tickets)
        history = build_history(
            np.random.default_rng([seed, 3]),
            timeline,
            network.tables["devices"],
            customers,
            alarms=scale.alarms,
            tickets=scale.tickets - disputes,
            changes=scale.changes,
            orders=scale.orders,
            sla_hours=settings.tickets.sla_hours,
            minor_per_major=minor_per_major,
            access_ports=network.access_ports,
        )
        self.tables: dict[str, Columns] = {
            **network.tables,
            **catalog_tables(minor_per_major),
            **customers.tables,
            **history,
        }
        # Lines suspended as of now were suspended at their customers' request.
        held = np.flatnonzero(customers.sub_state == SubscriptionState.SUSPENDED.value)
        self.billing_plan: BillingPlan = plan_billing_history(
            np.random.default_rng([seed, 4]),
            customers.lines.size,
            timeline.past_months,
            payment_terms_days=settings.billing.payment_terms_days,
            disputes=disputes,
            suspensions=plan_suspensions(
                np.random.default_rng([seed, 7]),
                timeline,
                held + 1,
                customers.sub_fixed[held],
                customers.sub_activated[held],
            ),
        )
        self.usage = SeededUsage(
            seed,
            customers,
            network.tower_cells,
            timeline,
            records_per_month=scale.usage_records,
            lines_per_chunk=scale.usage_chunk,
        )
