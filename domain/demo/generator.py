"""Demo data for a believable Indian operator, generated column-wise with NumPy.

`generate(scale, seed, as_of)` returns every table as columns (name -> array or list)
in foreign-key order, plus the usage records as a lazy stream of chunks, so even
the large scale (20 million usage records) is generated and loaded in bounded memory.
The same seed and as_of date always give the same data.

Timestamps are int64 epoch seconds (UTC); NULL_TIME stands for no value, and NULL_ID
for no row in a nullable foreign key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from domain.billing.choices import InvoiceState, LineKind
from domain.billing.models import invoice_number
from domain.catalog.choices import ProductLine, Segment
from domain.changes.choices import ChangeState, Risk, TargetState
from domain.customers.choices import (
    AccountStatus,
    CustomerStatus,
    DunningState,
    IdDocument,
    PaymentMethod,
    SubscriptionState,
)
from domain.demo import reference as ref
from domain.demo.usage import Subscribers, generate_usage, imeis
from domain.faults.choices import (
    OPEN_TICKET_STATUSES,
    AckState,
    AlarmSource,
    AlarmState,
    PerceivedSeverity,
    TicketEventKind,
    TicketKind,
    TicketStatus,
)
from domain.fraud.choices import LabelSource
from domain.inventory.choices import (
    PLATFORMS,
    DeviceRole,
    DeviceStatus,
    InterfaceKind,
    OperStatus,
    Platform,
    SiteKind,
)
from domain.orders.choices import OrderAction, OrderState

Columns = dict[str, Any]
NULL_TIME = np.iinfo(np.int64).min
#: Stands for no row in a nullable foreign-key column.
NULL_ID = -1
#: SQL NULL inside an object column (typed Any so np.where accepts it).
NULL: Any = None
DAY = 86_400


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

USAGE_DAYS = 30
SLA_HOURS = {1: 4, 2: 8, 3: 24, 4: 72}
TAX_RATE = 0.18
PAYMENT_TERMS_DAYS = 15


@dataclass
class Dataset:
    """Every table's rows as columns, in the order they must be loaded."""

    tables: dict[str, Columns] = field(default_factory=dict)
    #: Filled while usage is generated: ground-truth fraud labels and handset changes.
    fraud_labels: list[tuple[int, str, int]] = field(default_factory=list)
    imei_changes: list[tuple[str, int]] = field(default_factory=list)


def epoch(d: date | datetime) -> int:
    if isinstance(d, datetime):
        return int(d.timestamp())
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def month_start(d: date, back: int = 0) -> date:
    y, m = d.year, d.month - back
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def _digits(rng: np.random.Generator, n: int, width: int, first_min: int = 0) -> np.ndarray:
    """n random digit strings of a given width (first digit at least first_min)."""
    lo = first_min * 10 ** (width - 1)
    nums = rng.integers(lo, 10**width, size=n, dtype=np.int64)
    return np.char.zfill(nums.astype(f"U{width}"), width)


def _unique_numbers(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    """n distinct integers in [lo, hi), in a random (but seed-determined) order."""
    out = np.empty(0, dtype=np.int64)
    while out.size < n:
        draw = rng.integers(lo, hi, size=int((n - out.size) * 1.1) + 16, dtype=np.int64)
        both = np.concatenate([out, draw])
        _, first = np.unique(both, return_index=True)
        out = both[np.sort(first)]
    return out[:n]


class _Builder:
    def __init__(self, scale: Scale, seed: int, as_of: date, lab_base_port: int) -> None:
        self.scale = scale
        self.seed = seed
        self.rng = np.random.default_rng([seed, 1])
        self.as_of = as_of
        self.now = epoch(as_of) + 10 * 3600  # the data reads as of 10:00 UTC that day
        self.window_start = epoch(as_of) - USAGE_DAYS * DAY
        self.lab_base_port = lab_base_port
        self.data = Dataset()

    def put(self, table: str, columns: Columns) -> Columns:
        self.data.tables[table] = columns
        return columns

    # -- inventory ------------------------------------------------------------------

    def regions(self) -> None:
        self.put(
            "regions",
            {
                "id": list(range(1, len(ref.CIRCLES) + 1)),
                "code": [c.code for c in ref.CIRCLES],
                "name": [c.name for c in ref.CIRCLES],
            },
        )

    def sites_and_devices(self) -> None:
        rng = self.rng
        weights = np.array([c.weight for c in ref.CIRCLES])
        weights = weights / weights.sum()
        sites: dict[str, list[Any]] = {
            k: []
            for k in ("id", "code", "name", "kind", "region_id", "city", "latitude", "longitude")
        }
        devices: dict[str, list[Any]] = {
            k: []
            for k in (
                "id",
                "hostname",
                "site_id",
                "role",
                "platform",
                "vendor",
                "model",
                "os_version",
                "serial",
                "mgmt_host",
                "mgmt_port",
                "status",
                "lab",
                "created_at",
            )
        }
        models_by_role: dict[DeviceRole, list[ref.DeviceModel]] = {}
        for m in ref.DEVICE_MODELS:
            for role in m.roles:
                models_by_role.setdefault(role, []).append(m)

        def add_site(circle_ix: int, kind: SiteKind, code: str, name: str) -> int:
            c = ref.CIRCLES[circle_ix]
            sid = len(sites["id"]) + 1
            sites["id"].append(sid)
            sites["code"].append(code)
            sites["name"].append(name)
            sites["kind"].append(kind.value)
            sites["region_id"].append(circle_ix + 1)
            sites["city"].append(c.city)
            sites["latitude"].append(round(c.lat + float(rng.normal(0, 0.08)), 5))
            sites["longitude"].append(round(c.lon + float(rng.normal(0, 0.08)), 5))
            return sid

        def add_device(
            site_id: int,
            site_code: str,
            role: DeviceRole,
            n: int,
            hostname: str | None = None,
            platform: Platform | None = None,
        ) -> int:
            candidates = models_by_role[role]
            if platform is not None:
                candidates = [m for m in ref.DEVICE_MODELS if m.platform == platform] or candidates
            m = candidates[int(rng.integers(0, len(candidates)))]
            did = len(devices["id"]) + 1
            abbr = {
                "core": "cr",
                "aggregation": "agg",
                "access": "acc",
                "bng": "bng",
                "pe": "pe",
                "firewall": "fw",
                "ran": "csr",
            }[role.value]
            devices["id"].append(did)
            devices["hostname"].append(hostname or f"{abbr}{n:02d}-{site_code.lower()}")
            devices["site_id"].append(site_id)
            devices["role"].append(role.value)
            devices["platform"].append(m.platform.value)
            devices["vendor"].append(PLATFORMS[m.platform].vendor)
            devices["model"].append(m.model)
            devices["os_version"].append(m.os_versions[int(rng.integers(0, len(m.os_versions)))])
            prefix = {
                "Cisco": "FOC",
                "Juniper": "JN",
                "Arista": "JPE",
                "Huawei": "2102",
                "Nokia": "NS",
            }[PLATFORMS[m.platform].vendor]
            devices["serial"].append(f"{prefix}{did:05d}{int(rng.integers(0, 16**5)):05X}")
            # Inventory-only devices get loopback-range addresses that nothing listens on,
            # so a stray connection never leaves the machine.
            devices["mgmt_host"].append(f"127.{20 + (did >> 16)}.{(did >> 8) & 255}.{did & 255}")
            devices["mgmt_port"].append(22)
            r = rng.random()
            status = (
                DeviceStatus.ACTIVE
                if r < 0.95
                else DeviceStatus.OFFLINE
                if r < 0.97
                else DeviceStatus.PLANNED
                if r < 0.99
                else DeviceStatus.DECOMMISSIONING
            )
            devices["status"].append(status.value)
            devices["lab"].append(False)
            devices["created_at"].append(self.now - int(rng.integers(30, 2000)) * DAY)
            return did

        # Backbone per circle: a data centre, exchanges and a PoP; towers fill the rest.
        backbone = 0
        tower_budget = self.scale.devices - self.scale.lab_devices
        exchanges_per_circle = max(2, round(self.scale.devices / 2500))
        localities = list(ref.LOCALITIES)
        exchange_sites: list[tuple[int, str, int]] = []
        for ci, c in enumerate(ref.CIRCLES):
            dc = add_site(ci, SiteKind.DATA_CENTRE, f"{c.code}-DC1", f"{c.city} Data Centre 1")
            for role, count in ((DeviceRole.CORE, 2), (DeviceRole.FIREWALL, 2), (DeviceRole.PE, 2)):
                for k in range(1, count + 1):
                    add_device(dc, f"{c.code}-DC1", role, k)
                    backbone += 1
            pop = add_site(ci, SiteKind.POP, f"{c.code}-POP1", f"{c.city} Internet PoP")
            add_device(pop, f"{c.code}-POP1", DeviceRole.PE, 1)
            backbone += 1
            for e in range(exchanges_per_circle):
                loc = localities[(ci * 3 + e) % len(localities)]
                code = f"{c.code}-{loc[:3].upper()}{e + 1}"
                sid = add_site(ci, SiteKind.EXCHANGE, code, f"{loc} Exchange")
                exchange_sites.append((sid, code, ci))
                add_device(sid, code, DeviceRole.AGGREGATION, 1)
                add_device(sid, code, DeviceRole.ACCESS, 1)
                backbone += 2
                if e == 0:
                    add_device(sid, code, DeviceRole.BNG, 1)
                    backbone += 1
        towers = max(len(ref.CIRCLES) * 2, tower_budget - backbone)
        # Every circle gets towers (usage needs home cells), the rest by weight.
        per_circle = np.maximum(2, np.floor(weights * towers)).astype(int)
        self.tower_cells: list[list[str]] = [[] for _ in ref.CIRCLES]
        for ci, count in enumerate(per_circle):
            c = ref.CIRCLES[ci]
            for t in range(1, int(count) + 1):
                code = f"{c.code}-TWR-{t:04d}"
                sid = add_site(ci, SiteKind.TOWER, code, f"{c.city} tower {t}")
                add_device(sid, code, DeviceRole.RAN, 1)
                self.tower_cells[ci].extend(f"{code}-{sector}" for sector in (1, 2, 3))
        # The device lab: simulated devices over SSH on 127.0.0.1, at exchanges.
        for i in range(self.scale.lab_devices):
            # One circle after another: r1-mum, r2-del, r3-ka, ...
            sid, code, ci = exchange_sites[(i * exchanges_per_circle) % len(exchange_sites)]
            platform = ref.LAB_PLATFORMS[[0, 0, 1, 0, 0, 0, 1, 0][i % 8]]
            role = DeviceRole.ACCESS if i % 4 else DeviceRole.AGGREGATION
            did = add_device(
                sid,
                code,
                role,
                0,
                hostname=f"r{i + 1}-{ref.CIRCLES[ci].code.lower()}",
                platform=platform,
            )
            devices["mgmt_host"][did - 1] = "127.0.0.1"
            devices["mgmt_port"][did - 1] = self.lab_base_port + i
            devices["status"][did - 1] = DeviceStatus.ACTIVE.value
            devices["lab"][did - 1] = True
        self.exchange_sites = exchange_sites
        self.put("sites", sites)
        self.put("devices", devices)

    def interfaces(self) -> None:
        rng = self.rng
        dev = self.data.tables["devices"]
        ports_by_role = {
            "core": 16,
            "aggregation": 24,
            "access": 12,
            "bng": 12,
            "pe": 16,
            "firewall": 8,
            "ran": 6,
        }
        speed_by_role = {
            "core": 100_000,
            "aggregation": 10_000,
            "access": 1_000,
            "bng": 10_000,
            "pe": 100_000,
            "firewall": 10_000,
            "ran": 1_000,
        }
        cols: dict[str, list[Any]] = {
            k: []
            for k in (
                "id",
                "device_id",
                "name",
                "kind",
                "speed_mbps",
                "mtu",
                "description",
                "enabled",
                "oper_status",
                "ip_address",
            )
        }
        self.access_ports: dict[int, list[str]] = {}
        for did, role, platform, host in zip(
            dev["id"], dev["role"], dev["platform"], dev["hostname"], strict=True
        ):
            n = ports_by_role[role]
            names = [_port_name(Platform(platform), p) for p in range(n)]
            down = rng.random(n) < 0.04
            for p, name in enumerate(names):
                cols["name"].append(name)
                cols["kind"].append(InterfaceKind.ETHERNET.value)
                cols["speed_mbps"].append(speed_by_role[role])
                uplink = p < 2
                cols["description"].append("uplink" if uplink else "")
                cols["enabled"].append(True)
                cols["oper_status"].append((OperStatus.DOWN if down[p] else OperStatus.UP).value)
                cols["ip_address"].append(
                    f"10.{did >> 8 & 255}.{did & 255}.{4 * p + 1}/30" if uplink else None
                )
                cols["mtu"].append(9000 if uplink else 1500)
                cols["device_id"].append(did)
            if role == "access":
                self.access_ports[did] = names[2:]
            cols["device_id"].append(did)
            cols["name"].append("Loopback0" if platform != "juniper_junos" else "lo0.0")
            cols["kind"].append(InterfaceKind.LOOPBACK.value)
            cols["speed_mbps"].append(None)
            cols["mtu"].append(1500)
            cols["description"].append(f"router-id {host}")
            cols["enabled"].append(True)
            cols["oper_status"].append(OperStatus.UP.value)
            cols["ip_address"].append(f"172.16.{did >> 8 & 255}.{did & 255}/32")
        cols["id"] = list(range(1, len(cols["device_id"]) + 1))
        self.put("interfaces", cols)

    # -- catalog --------------------------------------------------------------------

    def catalog(self) -> None:
        offers = ref.OFFERINGS
        self.put(
            "product_offerings",
            {
                "id": list(range(1, len(offers) + 1)),
                "code": [o.code for o in offers],
                "name": [o.name for o in offers],
                "segment": [o.segment.value for o in offers],
                "product_line": [o.product_line.value for o in offers],
                "monthly_fee_minor": [o.monthly_fee * 100 for o in offers],
                "one_off_fee_minor": [o.one_off_fee * 100 for o in offers],
                "allowance_voice_min": [o.voice_min for o in offers],
                "allowance_sms": [o.sms for o in offers],
                "allowance_data_mb": [o.data_mb for o in offers],
                "roaming_surcharge_pct": [o.roaming_surcharge_pct for o in offers],
                "active": [True] * len(offers),
            },
        )
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
                discount = (
                    0.8 if o.segment == Segment.ENTERPRISE and zone.value != "national" else 1
                )
                tariffs["rate_minor"].append(round(rate * discount))
        tariffs["id"] = list(range(1, len(tariffs["offering_id"]) + 1))
        self.put("tariffs", tariffs)
        d = ref.DESTINATIONS
        self.put(
            "destinations",
            {
                "id": list(range(1, len(d) + 1)),
                "prefix": [x.prefix for x in d],
                "country": [x.country for x in d],
                "country_name": [x.name for x in d],
                "zone": [x.zone.value for x in d],
                "high_cost": [x.high_cost for x in d],
            },
        )

    # -- customers, accounts, subscriptions --------------------------------------------

    def customers(self) -> None:
        rng = self.rng
        n_subs = self.scale.subscriptions
        # Draw customers until their lines cover the subscriptions wanted.
        est = int(n_subs / 1.6) + 64
        enterprise = rng.random(est) < 0.04
        lines = np.where(enterprise, 3 + rng.geometric(1 / 12, est), 1 + rng.poisson(0.45, est))
        cum = np.cumsum(lines)
        n_cust = int(np.searchsorted(cum, n_subs)) + 1
        enterprise, lines = enterprise[:n_cust], lines[:n_cust].copy()
        lines[-1] -= int(cum[n_cust - 1] - n_subs)
        if lines[-1] <= 0:  # pragma: no cover - searchsorted guarantees a positive remainder
            lines[-1] = 1
        self.cust_enterprise, self.cust_lines = enterprise, lines

        w = np.array([c.weight for c in ref.CIRCLES])
        region_ix = rng.choice(len(ref.CIRCLES), size=n_cust, p=w / w.sum())
        first = np.array(ref.FIRST_NAMES)[rng.integers(0, len(ref.FIRST_NAMES), n_cust)]
        last = np.array(ref.LAST_NAMES)[rng.integers(0, len(ref.LAST_NAMES), n_cust)]
        company = np.char.add(
            np.char.add(last, " "),
            np.array(ref.COMPANY_WORDS)[rng.integers(0, len(ref.COMPANY_WORDS), n_cust)],
        )
        company = np.char.add(
            np.char.add(company, " "),
            np.array(ref.COMPANY_SUFFIX)[rng.integers(0, len(ref.COMPANY_SUFFIX), n_cust)],
        )
        person = np.char.add(np.char.add(first, " "), last)
        names = np.where(enterprise, company, person)
        ids = np.arange(1, n_cust + 1)
        aadhaar = _digits(rng, n_cust, 12, first_min=2)
        letters = rng.integers(65, 91, (n_cust, 6), dtype=np.uint8)
        pan = np.char.add(
            np.char.add(
                np.ascontiguousarray(letters[:, :5]).view("S5").ravel().astype("U5"),
                _digits(rng, n_cust, 4),
            ),
            np.ascontiguousarray(letters[:, 5:]).view("S1").ravel().astype("U1"),
        )
        state_code = np.char.zfill((region_ix + 10).astype("U2"), 2)
        gstin = np.char.add(np.char.add(state_code, pan), "1Z5")
        slug = np.char.lower(np.char.replace(np.char.replace(names, " ", "."), "'", ""))
        emails = np.char.add(np.char.add(slug, ids.astype("U")), "@example.in")
        house = rng.integers(1, 400, n_cust).astype("U")
        locality = np.array(ref.LOCALITIES)[rng.integers(0, len(ref.LOCALITIES), n_cust)]
        city = np.array([c.city for c in ref.CIRCLES])[region_ix]
        address = np.char.add(
            np.char.add(np.char.add(np.char.add(house, ", "), locality), ", "), city
        )
        created = self.now - rng.integers(60, 1500, n_cust) * DAY
        self.cust_region = region_ix
        self.cust_created = created
        self.put(
            "customers",
            {
                "id": ids,
                "name": names,
                "segment": np.where(enterprise, "enterprise", "consumer"),
                "status": np.full(n_cust, CustomerStatus.ACTIVE.value),
                "id_document": np.where(
                    enterprise, IdDocument.GSTIN.value, IdDocument.AADHAAR.value
                ),
                "id_number": np.where(enterprise, gstin, aadhaar),
                "email": emails,
                "phone": np.char.add("91", _digits(rng, n_cust, 10, first_min=6)),
                "address": address,
                "city": city,
                "region_id": region_ix + 1,
                "created_at": created,
            },
        )
        methods = np.array([m.value for m in PaymentMethod])
        self.put(
            "billing_accounts",
            {
                "id": ids,
                "account_number": np.char.add(
                    "BA", np.char.zfill((ids + 100_000_000).astype("U"), 9)
                ),
                "customer_id": ids,
                "status": np.full(n_cust, AccountStatus.ACTIVE.value),
                "bill_cycle_day": np.ones(n_cust, dtype=np.int64),
                "credit_limit_minor": np.where(
                    enterprise,
                    rng.integers(1, 50, n_cust) * 100_000_00,
                    rng.integers(2, 11, n_cust) * 1000_00,
                ),
                "balance_minor": np.zeros(n_cust, dtype=np.int64),
                "dunning_state": np.full(n_cust, DunningState.CURRENT.value),
                "payment_method": methods[
                    rng.choice(len(methods), n_cust, p=[0.35, 0.2, 0.15, 0.2, 0.05, 0.05])
                ],
                "created_at": created,
            },
        )

    def subscriptions(self) -> None:
        rng = self.rng
        n = int(self.cust_lines.sum())
        cust_ix = np.repeat(np.arange(self.cust_lines.size), self.cust_lines)
        ent = self.cust_enterprise[cust_ix]
        offers = ref.OFFERINGS
        cons = [i for i, o in enumerate(offers) if o.segment == Segment.CONSUMER]
        biz = [i for i, o in enumerate(offers) if o.segment == Segment.ENTERPRISE]
        pc = np.array([offers[i].weight for i in cons])
        pb = np.array([offers[i].weight for i in biz])
        offer_ix = np.where(
            ent,
            np.array(biz)[rng.choice(len(biz), n, p=pb / pb.sum())],
            np.array(cons)[rng.choice(len(cons), n, p=pc / pc.sum())],
        )
        fixed = np.array([offers[i].product_line.fixed for i in range(len(offers))])[offer_ix]
        ids = np.arange(1, n + 1)
        msisdn_num = _unique_numbers(rng, n, 6_000_000_000, 10_000_000_000)
        msisdn = np.char.add("91", msisdn_num.astype("U10"))
        region = self.cust_region[cust_ix]
        circle_codes = np.array([c.code for c in ref.CIRCLES])[region]
        kind = np.where(
            np.array(
                [offers[i].product_line == ProductLine.LEASED_LINE for i in range(len(offers))]
            )[offer_ix],
            "ILL",
            "FTTH",
        )
        circuit = np.char.add(
            np.char.add(np.char.add(np.char.add(circle_codes, "/"), kind), "/"),
            np.char.zfill(ids.astype("U"), 7),
        )
        handset = imeis(rng, n)
        imsi = np.char.add("40445", _digits(rng, n, 10))
        r = rng.random(n)
        state = np.select(
            [r < 0.93, r < 0.96, r < 0.985],
            [
                SubscriptionState.ACTIVE.value,
                SubscriptionState.SUSPENDED.value,
                SubscriptionState.TERMINATED.value,
            ],
            SubscriptionState.PENDING_ACTIVE.value,
        )
        cust_created = self.cust_created[cust_ix]
        activated = cust_created + rng.integers(0, 30, n) * DAY
        # A few lines are brand new: activated inside the usage window.
        new_line = rng.random(n) < 0.025
        activated = np.where(
            new_line,
            self.window_start + rng.integers(0, USAGE_DAYS - 3, n) * DAY + rng.integers(0, DAY, n),
            activated,
        )
        activated = np.minimum(activated, self.now - DAY)
        state = np.where(
            new_line & (state != SubscriptionState.PENDING_ACTIVE.value),
            SubscriptionState.ACTIVE.value,
            state,
        )
        pending = state == SubscriptionState.PENDING_ACTIVE.value
        activated_col = np.where(pending, NULL_TIME, activated)
        terminated = state == SubscriptionState.TERMINATED.value
        terminated_at = np.where(terminated, self.now - rng.integers(31, 200, n) * DAY, NULL_TIME)
        activated_col = np.where(
            terminated & (activated_col > terminated_at), terminated_at - 200 * DAY, activated_col
        )
        # Fixed lines are delivered on an access port at an exchange in their circle.
        site_id = np.full(n, NULL_ID, dtype=np.int64)
        device_id = np.full(n, NULL_ID, dtype=np.int64)
        ports = np.full(n, "", dtype=object)
        access = [
            (d, p)
            for d, p in self.access_ports.items()
            if not self.data.tables["devices"]["lab"][d - 1]
        ]
        dev_site = self.data.tables["devices"]["site_id"]
        site_region = self.data.tables["sites"]["region_id"]
        by_region: dict[int, list[tuple[int, list[str]]]] = {}
        for d, p in access:
            by_region.setdefault(site_region[dev_site[d - 1] - 1] - 1, []).append((d, p))
        used: dict[int, int] = {}
        for i in np.flatnonzero(fixed):
            options = by_region.get(int(region[i])) or access
            d, plist = options[int(rng.integers(0, len(options)))]
            k = used.get(d, 0)
            used[d] = k + 1
            device_id[i] = d
            site_id[i] = dev_site[d - 1]
            ports[i] = (
                f"{plist[k % len(plist)]}.{100 + k // len(plist)}" if k >= len(plist) else plist[k]
            )
        self.sub_customer = cust_ix + 1
        self.sub_offer = offer_ix
        self.sub_fixed = fixed
        self.sub_state = state
        self.sub_region = region
        self.sub_activated = activated_col
        self.sub_msisdn = msisdn
        self.sub_imei = handset
        self.put(
            "subscriptions",
            {
                "id": ids,
                "customer_id": cust_ix + 1,
                "billing_account_id": cust_ix + 1,
                "offering_id": offer_ix + 1,
                "msisdn": np.where(fixed, NULL, msisdn.astype(object)),
                "circuit_id": np.where(fixed, circuit.astype(object), NULL),
                "imsi": np.where(fixed, NULL, imsi.astype(object)),
                "imei": np.where(fixed, NULL, handset.astype(object)),
                "state": state,
                "site_id": np.where(fixed, site_id, NULL_ID),
                "device_id": np.where(fixed, device_id, NULL_ID),
                "port": np.where(fixed, ports, NULL),
                "activated_at": activated_col,
                "terminated_at": terminated_at,
                "created_at": np.where(
                    pending, self.now - rng.integers(1, 5, n) * DAY, activated - DAY
                ),
            },
        )

    # -- invoices and payments: the two bill cycles before the usage window -----------------

    def invoices(self) -> None:
        rng = self.rng
        subs = self.data.tables["subscriptions"]
        offers = ref.OFFERINGS
        fee = np.array([o.monthly_fee * 100 for o in offers], dtype=np.int64)[self.sub_offer]
        n_acc = self.cust_lines.size
        inv: dict[str, list[Any]] = {
            k: []
            for k in (
                "id",
                "number",
                "billing_account_id",
                "period_start",
                "period_end",
                "issued_at",
                "due_date",
                "state",
                "subtotal_minor",
                "tax_minor",
                "total_minor",
                "paid_minor",
                "disputed",
            )
        }
        lines: dict[str, list[Any]] = {
            k: []
            for k in (
                "invoice_id",
                "kind",
                "description",
                "subscription_id",
                "service",
                "quantity",
                "amount_minor",
                "tax_minor",
            )
        }
        pay: dict[str, list[Any]] = {
            k: []
            for k in (
                "id",
                "reference",
                "billing_account_id",
                "amount_minor",
                "received_at",
                "method",
                "unallocated_minor",
            )
        }
        alloc: dict[str, list[Any]] = {k: [] for k in ("payment_id", "invoice_id", "amount_minor")}
        methods = self.data.tables["billing_accounts"]["payment_method"]
        # Payment behaviour per account: most pay on time, some late, a few not at all.
        behaviour = rng.choice(4, n_acc, p=[0.78, 0.1, 0.07, 0.05])  # ontime, late, partial, none
        balance = np.zeros(n_acc, dtype=np.int64)
        oldest_unpaid_due: dict[int, date] = {}
        inv_id = 0
        # History ends before the month the seeded usage starts in, so that rating the
        # usage and running that month's bill makes real invoices instead of clashing.
        first_usage_month = datetime.fromtimestamp(self.window_start, UTC).date()
        for back in (2, 1):
            p_start = month_start(first_usage_month, back)
            p_end = month_start(first_usage_month, back - 1) - timedelta(days=1)
            issued = datetime(p_end.year, p_end.month, p_end.day, tzinfo=UTC) + timedelta(
                days=1, hours=2
            )
            due = issued.date() + timedelta(days=PAYMENT_TERMS_DAYS)
            period_s, period_e = epoch(p_start), epoch(p_end) + DAY
            act = np.asarray(subs["activated_at"])
            term = np.asarray(subs["terminated_at"])
            live = (act != NULL_TIME) & (act < period_e) & ((term == NULL_TIME) | (term > period_s))
            # Prorate lines active for part of the cycle.
            start = np.maximum(act, period_s)
            end = np.where(term == NULL_TIME, period_e, np.minimum(term, period_e))
            frac = np.clip((end - start) / (period_e - period_s), 0, 1)
            recurring = np.where(live, np.round(fee * frac), 0).astype(np.int64)
            usage_amt = np.where(
                live & ~self.sub_fixed,
                np.round(rng.gamma(1.2, 4000, fee.size) * (rng.random(fee.size) < 0.35)),
                0,
            ).astype(np.int64)
            acc_of_sub = self.sub_customer - 1
            order = np.argsort(acc_of_sub, kind="stable")
            bounds = np.searchsorted(acc_of_sub[order], np.arange(n_acc + 1))
            for a in range(n_acc):
                members = order[bounds[a] : bounds[a + 1]]
                members = members[live[members]]
                if members.size == 0:
                    continue
                inv_id += 1
                sub_total = 0
                tax_total = 0
                for s in members:
                    for kind, amount, text in (
                        (
                            LineKind.RECURRING,
                            int(recurring[s]),
                            f"{offers[self.sub_offer[s]].name} monthly charge",
                        ),
                        (LineKind.USAGE, int(usage_amt[s]), "Usage beyond allowance"),
                    ):
                        if amount <= 0:
                            continue
                        tax = round(amount * TAX_RATE)
                        lines["invoice_id"].append(inv_id)
                        lines["kind"].append(kind.value)
                        lines["description"].append(text)
                        lines["subscription_id"].append(int(s) + 1)
                        lines["service"].append(None)
                        lines["quantity"].append(
                            round(float(frac[s]), 4) if kind == LineKind.RECURRING else 1.0
                        )
                        lines["amount_minor"].append(amount)
                        lines["tax_minor"].append(tax)
                        sub_total += amount
                        tax_total += tax
                total = sub_total + tax_total
                b = behaviour[a]
                if back == 2 and b == 1:
                    b = 0  # late payers have caught up on the older bill
                overdue_days = (self.as_of - due).days
                if b == 0 or (b == 1 and overdue_days > 10):
                    paid = total
                elif b == 2:
                    paid = int(total * rng.uniform(0.2, 0.8))
                else:
                    paid = 0
                state = (
                    InvoiceState.SETTLED
                    if paid >= total
                    else InvoiceState.PARTIALLY_PAID
                    if paid > 0
                    else InvoiceState.SENT
                )
                inv["id"].append(inv_id)
                inv["number"].append(invoice_number(p_start, inv_id))
                inv["billing_account_id"].append(a + 1)
                inv["period_start"].append(p_start)
                inv["period_end"].append(p_end)
                inv["issued_at"].append(epoch(issued))
                inv["due_date"].append(due)
                inv["state"].append(state.value)
                inv["subtotal_minor"].append(sub_total)
                inv["tax_minor"].append(tax_total)
                inv["total_minor"].append(total)
                inv["paid_minor"].append(paid)
                inv["disputed"].append(False)
                if paid > 0:
                    pid = len(pay["id"]) + 1
                    late = b == 1
                    when = (
                        epoch(issued)
                        + int(rng.integers(1, PAYMENT_TERMS_DAYS + (20 if late else 0))) * DAY
                    )
                    when = min(when, self.now - 3600)
                    pay["id"].append(pid)
                    pay["reference"].append(f"PAY{pid:09d}")
                    pay["billing_account_id"].append(a + 1)
                    pay["amount_minor"].append(paid)
                    pay["received_at"].append(when + int(rng.integers(0, DAY)) // 2)
                    pay["method"].append(methods[a])
                    pay["unallocated_minor"].append(0)
                    alloc["payment_id"].append(pid)
                    alloc["invoice_id"].append(inv_id)
                    alloc["amount_minor"].append(paid)
                if paid < total:
                    balance[a] += total - paid
                    oldest_unpaid_due.setdefault(a, due)
        lines["id"] = list(range(1, len(lines["invoice_id"]) + 1))
        alloc["id"] = list(range(1, len(alloc["payment_id"]) + 1))
        # Dunning follows the oldest unpaid due date.
        dunning = np.full(n_acc, DunningState.CURRENT.value, dtype=object)
        for a, due in oldest_unpaid_due.items():
            days = (self.as_of - due).days
            if days >= 30:
                dunning[a] = DunningState.SUSPENDED.value
            elif days >= 15:
                dunning[a] = DunningState.REMINDED.value
        accounts = self.data.tables["billing_accounts"]
        accounts["balance_minor"] = balance
        accounts["dunning_state"] = dunning
        suspended_acc = dunning == DunningState.SUSPENDED.value
        accounts["status"] = np.where(
            suspended_acc, AccountStatus.SUSPENDED.value, AccountStatus.ACTIVE.value
        )
        # Lines on accounts suspended for debt are suspended too.
        hit = suspended_acc[self.sub_customer - 1] & (
            self.sub_state == SubscriptionState.ACTIVE.value
        )
        self.sub_state = np.where(hit, SubscriptionState.SUSPENDED.value, self.sub_state)
        subs["state"] = self.sub_state
        self.put("invoices", inv)
        self.put("invoice_lines", lines)
        self.put("payments", pay)
        self.put("payment_allocations", alloc)

    # -- operations: tickets, alarms, changes, orders ----------------------------------

    def faults(self) -> None:
        rng = self.rng
        dev = self.data.tables["devices"]
        n_dev = len(dev["id"])
        scale = self.scale
        # Alarm history over the usage window: mostly cleared, some still raised.
        alarm_types = (
            ("DeviceUnreachable", PerceivedSeverity.CRITICAL, True),
            ("LinkDown", PerceivedSeverity.MAJOR, True),
            ("BGPSessionDown", PerceivedSeverity.MAJOR, True),
            ("HighCPU", PerceivedSeverity.MINOR, False),
            ("MemoryHigh", PerceivedSeverity.WARNING, False),
            ("OpticalPowerLow", PerceivedSeverity.MINOR, False),
            ("InterfaceErrors", PerceivedSeverity.WARNING, False),
            ("PowerSupplyFailure", PerceivedSeverity.MAJOR, False),
            ("FanFailure", PerceivedSeverity.MINOR, False),
            ("HighTemperature", PerceivedSeverity.MAJOR, False),
        )
        n = scale.alarms
        kind = rng.choice(
            len(alarm_types), n, p=[0.08, 0.22, 0.08, 0.14, 0.1, 0.1, 0.12, 0.04, 0.06, 0.06]
        )
        device = rng.integers(1, n_dev + 1, n)
        raised = self.window_start + rng.integers(0, USAGE_DAYS * DAY, n)
        duration = (rng.lognormal(7.5, 1.3, n)).astype(np.int64) + 60  # median ~30 min
        cleared = raised + duration
        still_open = (cleared > self.now) | (rng.random(n) < 0.12)
        cleared = np.where(still_open, NULL_TIME, cleared)
        state = np.where(
            still_open,
            np.where(rng.random(n) < 0.5, AlarmState.RAISED.value, AlarmState.UPDATED.value),
            AlarmState.CLEARED.value,
        )
        acked = rng.random(n) < np.where(still_open, 0.3, 0.85)
        severity = np.array([t[1].value for t in alarm_types])[kind]
        hosts = np.array(dev["hostname"])[device - 1]
        types = np.array([t[0] for t in alarm_types])[kind]
        users = np.array(["alice", "bob"])
        fingerprints = np.array(
            [f"{x:016x}" for x in _unique_numbers(rng, n, 1 << 60, (1 << 63) - 1)]
        )
        self.put(
            "alarms",
            {
                "id": np.arange(1, n + 1),
                "fingerprint": fingerprints,
                "source": np.where(
                    rng.random(n) < 0.8, AlarmSource.ALERTMANAGER.value, AlarmSource.WEBHOOK.value
                ),
                "alarm_type": types,
                "perceived_severity": severity,
                "state": state,
                "ack_state": np.where(
                    acked, AckState.ACKNOWLEDGED.value, AckState.UNACKNOWLEDGED.value
                ),
                "acked_by": np.where(acked, users[rng.integers(0, 2, n)].astype(object), NULL),
                "acked_at": np.where(acked, raised + rng.integers(60, 1800, n), NULL_TIME),
                "device_id": device,
                "summary": np.char.add(np.char.add(types, " on "), hosts),
                "description": np.full(n, ""),
                "labels": [
                    f'{{"alertname": "{t}", "instance": "{h}"}}'
                    for t, h in zip(types.tolist(), hosts.tolist(), strict=True)
                ],
                "service_affecting": np.array([t[2] for t in alarm_types])[kind],
                "raised_at": raised,
                "updated_at": np.where(still_open, raised + rng.integers(0, 3600, n), cleared),
                "cleared_at": cleared,
                "repeat_count": 1 + rng.poisson(1.5, n),
                # History: nothing of it is news to post.
                "revision": np.ones(n, dtype=np.int64),
                "posted_revision": np.ones(n, dtype=np.int64),
            },
        )

        # Tickets: open work plus resolved history.
        nt = scale.tickets
        statuses = np.array(
            [
                s.value
                for s in (
                    TicketStatus.ACKNOWLEDGED,
                    TicketStatus.IN_PROGRESS,
                    TicketStatus.PENDING,
                    TicketStatus.HELD,
                    TicketStatus.RESOLVED,
                    TicketStatus.CLOSED,
                    TicketStatus.CANCELLED,
                )
            ]
        )
        status = statuses[
            rng.choice(len(statuses), nt, p=[0.08, 0.12, 0.05, 0.03, 0.12, 0.55, 0.05])
        ]
        severity_t = rng.choice([1, 2, 3, 4], nt, p=[0.05, 0.2, 0.5, 0.25])
        created = self.now - rng.integers(600, USAGE_DAYS * DAY, nt)
        sla = created + np.array([SLA_HOURS[int(s)] * 3600 for s in severity_t])
        open_ = np.isin(status, [s.value for s in OPEN_TICKET_STATUSES])
        resolved_at = np.where(
            open_ | (status == TicketStatus.CANCELLED.value),
            NULL_TIME,
            created + (rng.lognormal(9.5, 1.0, nt)).astype(np.int64),
        )
        resolved_at = np.where(
            resolved_at != NULL_TIME, np.minimum(resolved_at, self.now - 60), NULL_TIME
        )
        is_network = rng.random(nt) < 0.7
        kinds = np.where(
            is_network,
            TicketKind.INCIDENT.value,
            np.where(
                rng.random(nt) < 0.5,
                TicketKind.BILLING_DISPUTE.value,
                TicketKind.SERVICE_REQUEST.value,
            ),
        )
        t_dev = rng.integers(1, n_dev + 1, nt)
        t_cust = rng.integers(1, self.cust_lines.size + 1, nt)
        titles_net = np.array(
            [
                "Link flapping",
                "Device unreachable",
                "High packet loss",
                "Customer circuit down",
                "BGP neighbour down",
                "Power alarm at site",
            ]
        )
        titles_cust = np.array(
            [
                "Bill higher than expected",
                "No data since morning",
                "Call drops at home",
                "Request to change plan",
                "Roaming not working",
                "Refund not received",
            ]
        )
        title = np.where(
            is_network,
            titles_net[rng.integers(0, len(titles_net), nt)],
            titles_cust[rng.integers(0, len(titles_cust), nt)],
        )
        engineers = np.array(["alice", "bob", "carol"])
        assignee = np.where(
            status == TicketStatus.ACKNOWLEDGED.value,
            NULL,
            engineers[rng.integers(0, 3, nt)].astype(object),
        )
        self.put(
            "tickets",
            {
                "id": np.arange(1, nt + 1),
                "kind": kinds,
                "title": title,
                "description": np.full(nt, ""),
                "severity": severity_t,
                "status": status,
                "reporter": np.where(is_network, "noc-bot", "carol"),
                "assignee": assignee,
                "device_id": np.where(is_network, t_dev, NULL_ID),
                "customer_id": np.where(is_network, NULL_ID, t_cust),
                "subscription_id": np.full(nt, NULL_ID),
                "invoice_id": np.full(nt, NULL_ID),
                "sla_due_at": sla,
                "resolution": np.where(
                    resolved_at != NULL_TIME, "Fixed and verified with the customer", NULL
                ),
                "created_at": created,
                "updated_at": np.where(resolved_at != NULL_TIME, resolved_at, created + 600),
                "resolved_at": resolved_at,
            },
        )
        ev: dict[str, list[Any]] = {
            k: [] for k in ("ticket_id", "at", "actor", "kind", "text", "from_status", "to_status")
        }
        for i in range(nt):
            ev["ticket_id"].append(i + 1)
            ev["at"].append(int(created[i]))
            ev["actor"].append("noc-bot" if is_network[i] else "carol")
            ev["kind"].append(TicketEventKind.CREATED.value)
            ev["text"].append(str(title[i]))
            ev["from_status"].append(None)
            ev["to_status"].append(TicketStatus.ACKNOWLEDGED.value)
            if status[i] != TicketStatus.ACKNOWLEDGED.value:
                ev["ticket_id"].append(i + 1)
                ev["at"].append(int(created[i]) + 600)
                ev["actor"].append(str(assignee[i] or "noc-bot"))
                ev["kind"].append(TicketEventKind.STATUS.value)
                ev["text"].append("")
                ev["from_status"].append(TicketStatus.ACKNOWLEDGED.value)
                ev["to_status"].append(str(status[i]))
        ev["id"] = list(range(1, len(ev["ticket_id"]) + 1))
        self.put("ticket_events", ev)

    def changes(self) -> None:
        rng = self.rng
        dev = self.data.tables["devices"]
        candidates = [
            i + 1
            for i, (lab, role) in enumerate(zip(dev["lab"], dev["role"], strict=True))
            if not lab and role in ("access", "aggregation")
        ]
        cr: dict[str, list[Any]] = {
            k: []
            for k in (
                "id",
                "template",
                "params",
                "targets",
                "state",
                "risk",
                "needs_second_approval",
                "requested_by",
                "approved_by",
                "summary",
                "created_at",
                "approved_at",
                "started_at",
                "finished_at",
            )
        }
        tg: dict[str, list[Any]] = {
            k: []
            for k in (
                "change_id",
                "device_id",
                "state",
                "canary",
                "diff",
                "rollback",
                "error",
                "started_at",
                "finished_at",
            )
        }
        templates = (
            ("ntp", '{"servers": ["10.0.0.1", "10.0.0.2"]}', "ntp server 10.0.0.{k}"),
            ("syslog", '{"host": "10.0.1.10"}', "logging host 10.0.1.10"),
            ("banner", '{"text": "Authorised access only"}', "banner motd ^Authorised^"),
        )
        for c in range(1, self.scale.changes + 1):
            t = templates[int(rng.integers(0, len(templates)))]
            r = rng.random()
            state = (
                ChangeState.SUCCEEDED
                if r < 0.7
                else ChangeState.FAILED
                if r < 0.8
                else ChangeState.ROLLED_BACK
                if r < 0.9
                else ChangeState.CANCELLED
            )
            created = self.now - int(rng.integers(1, USAGE_DAYS)) * DAY
            n_targets = int(rng.integers(1, 6))
            targets = rng.choice(candidates, size=min(n_targets, len(candidates)), replace=False)
            ran = state != ChangeState.CANCELLED
            requester, approver = ("alice", "bob") if c % 2 else ("bob", "alice")
            cr["id"].append(c)
            cr["template"].append(t[0])
            cr["params"].append(t[1])
            cr["targets"].append(" ".join(dev["hostname"][d - 1] for d in targets))
            cr["state"].append(state.value)
            cr["risk"].append(Risk.LOW.value)
            cr["needs_second_approval"].append(False)
            cr["requested_by"].append(requester)
            cr["approved_by"].append(approver if ran else None)
            cr["summary"].append(f"{len(targets)} device(s): {state.value}")
            cr["created_at"].append(created)
            cr["approved_at"].append(created + 900 if ran else NULL_TIME)
            cr["started_at"].append(created + 1200 if ran else NULL_TIME)
            cr["finished_at"].append(created + 1500 if ran else NULL_TIME)
            for k, d in enumerate(targets):
                tstate = {
                    ChangeState.SUCCEEDED: TargetState.VERIFIED,
                    ChangeState.FAILED: TargetState.FAILED if k == 0 else TargetState.ROLLED_BACK,
                    ChangeState.ROLLED_BACK: TargetState.ROLLED_BACK,
                    ChangeState.CANCELLED: TargetState.PENDING,
                }[state]
                line = t[2].format(k=k + 1)
                tg["change_id"].append(c)
                tg["device_id"].append(int(d))
                tg["state"].append(tstate.value)
                tg["canary"].append(k == 0)
                tg["diff"].append(f"+ {line}")
                tg["rollback"].append(f"no {line}")
                tg["error"].append(
                    "post-check failed: line missing from running config"
                    if tstate == TargetState.FAILED
                    else None
                )
                tg["started_at"].append(created + 1200 if ran else NULL_TIME)
                tg["finished_at"].append(created + 1500 if ran else NULL_TIME)
        tg["id"] = list(range(1, len(tg["change_id"]) + 1))
        self.put("change_requests", cr)
        self.put("change_targets", tg)

    def orders(self) -> None:
        rng = self.rng
        n = self.scale.orders
        states = list(OrderState)
        # Every state appears; the rest are mostly completed.
        state = np.array(
            [s.value for s in states]
            + [
                states[i].value
                for i in rng.choice(
                    len(states), n - len(states), p=[0.05, 0.12, 0.08, 0.5, 0.06, 0.07, 0.07, 0.05]
                )
            ]
        )
        rng.shuffle(state)
        cust = rng.integers(1, self.cust_lines.size + 1, n)
        enterprise = self.cust_enterprise[cust - 1]
        offers = ref.OFFERINGS
        cons = [i for i, o in enumerate(offers) if o.segment == Segment.CONSUMER]
        biz = [i for i, o in enumerate(offers) if o.segment == Segment.ENTERPRISE]
        offer = np.where(
            enterprise,
            np.array(biz)[rng.integers(0, len(biz), n)],
            np.array(cons)[rng.integers(0, len(cons), n)],
        )
        created = self.now - rng.integers(600, 20 * DAY, n)
        decided = np.isin(state, ["inProgress", "completed", "failed", "rejected"])
        requesters = np.array(["carol", "alice", "bob"])
        subs_of: dict[int, int] = {}
        for sid, cid in enumerate(self.sub_customer, start=1):
            subs_of.setdefault(int(cid), sid)
        completed = state == "completed"
        sub_link = np.array(
            [
                subs_of.get(int(c), NULL_ID) if done else NULL_ID
                for c, done in zip(cust, completed, strict=True)
            ]
        )
        fee = np.array([o.monthly_fee * 100 for o in offers])[offer]
        one_off = np.array([o.one_off_fee * 100 for o in offers])[offer]
        self.put(
            "product_orders",
            {
                "id": np.arange(1, n + 1),
                "action": np.full(n, OrderAction.ADD.value),
                "state": state,
                "customer_id": cust,
                "offering_id": offer + 1,
                "subscription_id": sub_link,
                "site_id": np.full(n, NULL_ID),
                "device_id": np.full(n, NULL_ID),
                "port": np.full(n, None, dtype=object),
                "one_off_minor": one_off,
                "monthly_minor": fee,
                "requested_by": requesters[rng.integers(0, 3, n)],
                "decided_by": np.where(decided, "dave", NULL),
                "decided_at": np.where(decided, created + 3600, NULL_TIME),
                "decision_note": np.where(state == "rejected", "Credit check failed", NULL),
                "change_request_id": np.full(n, NULL_ID),
                "failure_reason": np.where(
                    state == "failed", "provisioning failed: access port did not come up", NULL
                ),
                "created_at": created,
                "updated_at": created + 3600,
                "completed_at": np.where(completed, created + 7200, NULL_TIME),
                # History: whatever was approved was taken up by provisioning back then,
                # so serve's order worker never starts it again.
                "fulfilment_started_at": np.where(
                    np.isin(state, ["inProgress", "completed", "failed"]),
                    created + 3700,
                    NULL_TIME,
                ),
            },
        )

    # -- usage (streamed) ----------------------------------------------------------------

    def usage(self) -> Iterator[Columns]:
        mobile = np.flatnonzero(
            ~self.sub_fixed & (self.sub_state == SubscriptionState.ACTIVE.value)
        )
        cells = [np.array(c) for c in self.tower_cells]
        next_id = 1
        chunk = self.scale.usage_chunk
        per_line = self.scale.usage_records / max(1, mobile.size)
        for k, start in enumerate(range(0, mobile.size, chunk)):
            part = mobile[start : start + chunk]
            activated = self.sub_activated[part]
            subscribers = Subscribers(
                subscription_id=(part + 1).astype(np.int64),
                msisdn=self.sub_msisdn[part],
                imei=self.sub_imei[part],
                enterprise=self.cust_enterprise[self.sub_customer[part] - 1],
                region=self.sub_region[part].astype(np.int64),
                activated_day=((activated - self.window_start) // DAY).astype(np.int64),
            )
            batch = generate_usage(
                np.random.default_rng([self.seed, 2, k]),
                subscribers,
                cells,
                self.window_start,
                days=USAGE_DAYS,
                records_per_subscriber=per_line,
            )
            self.data.fraud_labels.extend(batch.labels)
            changed = np.flatnonzero(batch.final_imei != subscribers.imei)
            self.data.imei_changes.extend(
                zip(batch.final_imei[changed].tolist(), (part[changed] + 1).tolist(), strict=True)
            )
            cols = batch.columns
            n = len(cols["subscription_id"])
            cols["id"] = np.arange(next_id, next_id + n, dtype=np.int64)
            next_id += n
            cols["state"] = np.full(n, "received")
            yield cols

    def fraud_label_table(self) -> Columns:
        labels = sorted(self.data.fraud_labels)
        return {
            "id": list(range(1, len(labels) + 1)),
            "subscription_id": [s for s, _, _ in labels],
            "is_fraud": [True] * len(labels),
            "kind": [k for _, k, _ in labels],
            "source": [LabelSource.SEED.value] * len(labels),
            "since": [t for _, _, t in labels],
        }


def _port_name(platform: Platform, p: int) -> str:
    return {
        Platform.CISCO_IOS: f"GigabitEthernet0/0/{p}",
        Platform.CISCO_XR: f"HundredGigE0/0/0/{p}",
        Platform.CISCO_NXOS: f"Ethernet1/{p + 1}",
        Platform.ARISTA_EOS: f"Ethernet{p + 1}",
        Platform.JUNIPER_JUNOS: f"xe-0/0/{p}",
        Platform.HUAWEI_VRP: f"GigabitEthernet0/1/{p}",
        Platform.NOKIA_SROS: f"1/1/{p + 1}",
    }[platform]


class Generation:
    """A seeded generation in progress: static tables now, usage when iterated."""

    def __init__(self, scale: Scale, seed: int, as_of: date, lab_base_port: int = 6000) -> None:
        b = _Builder(scale, seed, as_of, lab_base_port)
        b.regions()
        b.sites_and_devices()
        b.interfaces()
        b.catalog()
        b.customers()
        b.subscriptions()
        b.invoices()
        b.faults()
        b.changes()
        b.orders()
        self._builder = b
        self.tables = b.data.tables
        self.window_start = b.window_start

    def usage_chunks(self) -> Iterator[Columns]:
        return self._builder.usage()

    def fraud_labels(self) -> Columns:
        """Ground truth, complete once usage_chunks() has been consumed."""
        return self._builder.fraud_label_table()

    def imei_changes(self) -> list[tuple[str, int]]:
        """(new imei, subscription id) for handsets that changed during the window."""
        return self._builder.data.imei_changes
