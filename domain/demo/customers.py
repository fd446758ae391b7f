"""Customers, their billing accounts, and their mobile and fixed subscriptions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from domain.catalog.choices import ProductLine, Segment
from domain.config import AccessVlans
from domain.customers.choices import (
    AccountStatus,
    CustomerStatus,
    DunningState,
    IdDocument,
    PaymentMethod,
    SubscriptionState,
)
from domain.demo import reference as ref
from domain.demo.columns import (
    DAY,
    NULL,
    NULL_ID,
    NULL_TIME,
    Columns,
    digits,
    unique_numbers,
)
from domain.demo.network import Network
from domain.demo.timeline import USAGE_DAYS, Timeline
from domain.demo.usage import imeis

#: The demo operator gives customer VLANs from the default range.
ACCESS_VLANS = AccessVlans()


@dataclass(frozen=True)
class Customers:
    """The customer tables, and per-customer and per-line facts the rest is built from.

    Arrays are in id order: customer (and its one billing account) i + 1 is at index i,
    subscription j + 1 at index j.
    """

    tables: dict[str, Columns]
    enterprise: np.ndarray
    lines: np.ndarray
    #: Each line's customer (and billing account) id.
    sub_customer: np.ndarray
    #: Each line's offering, as an index into reference.OFFERINGS.
    sub_offer: np.ndarray
    sub_fixed: np.ndarray
    #: Each line's state as of the data's now, before dunning. A suspended one is loaded
    #: active: its customer asks care to suspend it, and the bill-cycle replay does so
    #: through an order (see `domain.demo.billing_history.plan_suspensions`).
    sub_state: np.ndarray
    sub_region: np.ndarray
    #: Epoch seconds; NULL_TIME for none.
    sub_activated: np.ndarray
    sub_terminated: np.ndarray
    sub_msisdn: np.ndarray
    sub_imei: np.ndarray


def build_customers(
    rng: np.random.Generator,
    n_subscriptions: int,
    timeline: Timeline,
    network: Network,
    *,
    minor_per_major: int,
    msisdn_prefix: str,
) -> Customers:
    """Customers with enough lines between them for `n_subscriptions` subscriptions.

    Mobile numbers stay out of the block new orders take theirs from (msisdn_prefix).
    """
    customers = _customers(rng, n_subscriptions, timeline.now, minor_per_major)
    return _subscriptions(rng, customers, timeline, network, msisdn_prefix)


@dataclass(frozen=True)
class _Drawn:
    tables: dict[str, Columns]
    enterprise: np.ndarray
    lines: np.ndarray
    region: np.ndarray
    created: np.ndarray


def _customers(rng: np.random.Generator, n_subs: int, now: int, minor_per_major: int) -> _Drawn:
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
    aadhaar = digits(rng, n_cust, 12, first_min=2)
    letters = rng.integers(65, 91, (n_cust, 6), dtype=np.uint8)
    pan = np.char.add(
        np.char.add(
            np.ascontiguousarray(letters[:, :5]).view("S5").ravel().astype("U5"),
            digits(rng, n_cust, 4),
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
    address = np.char.add(np.char.add(np.char.add(np.char.add(house, ", "), locality), ", "), city)
    created = now - rng.integers(60, 1500, n_cust) * DAY
    customers = {
        "id": ids,
        "name": names,
        "segment": np.where(enterprise, "enterprise", "consumer"),
        "status": np.full(n_cust, CustomerStatus.ACTIVE.value),
        "id_document": np.where(enterprise, IdDocument.GSTIN.value, IdDocument.AADHAAR.value),
        "id_number": np.where(enterprise, gstin, aadhaar),
        "email": emails,
        "phone": np.char.add("91", digits(rng, n_cust, 10, first_min=6)),
        "address": address,
        "city": city,
        "region_id": region_ix + 1,
        "created_at": created,
    }
    methods = np.array([m.value for m in PaymentMethod])
    # Balances and dunning states start clean: the bill cycles replayed later set them.
    accounts = {
        "id": ids,
        "account_number": np.char.add("BA", np.char.zfill((ids + 100_000_000).astype("U"), 9)),
        "customer_id": ids,
        "status": np.full(n_cust, AccountStatus.ACTIVE.value),
        "bill_cycle_day": np.ones(n_cust, dtype=np.int64),
        "credit_limit_minor": np.where(
            enterprise,
            rng.integers(1, 50, n_cust) * 100_000 * minor_per_major,
            rng.integers(2, 11, n_cust) * 1000 * minor_per_major,
        ),
        "balance_minor": np.zeros(n_cust, dtype=np.int64),
        "dunning_state": np.full(n_cust, DunningState.CURRENT.value),
        "payment_method": methods[
            rng.choice(len(methods), n_cust, p=[0.35, 0.2, 0.15, 0.2, 0.05, 0.05])
        ],
        "created_at": created,
    }
    return _Drawn(
        {"customers": customers, "billing_accounts": accounts},
        enterprise,
        lines,
        region_ix,
        created,
    )


def _msisdn_block(prefix: str) -> tuple[int, int]:
    """The national numbers (10 digits after 91) that start with an MSISDN prefix."""
    national = prefix.removeprefix("91")
    low = int(national.ljust(10, "0"))
    return low, low + 10 ** (10 - len(national))


def _subscriptions(
    rng: np.random.Generator,
    drawn: _Drawn,
    timeline: Timeline,
    network: Network,
    msisdn_prefix: str,
) -> Customers:
    now, window_start = timeline.now, timeline.window_start
    n = int(drawn.lines.sum())
    cust_ix = np.repeat(np.arange(drawn.lines.size), drawn.lines)
    ent = drawn.enterprise[cust_ix]
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
    msisdn_num = unique_numbers(
        rng, n, 6_000_000_000, 10_000_000_000, avoid=_msisdn_block(msisdn_prefix)
    )
    msisdn = np.char.add("91", msisdn_num.astype("U10"))
    region = drawn.region[cust_ix]
    circle_codes = np.array([c.code for c in ref.CIRCLES])[region]
    kind = np.where(
        np.array([offers[i].product_line == ProductLine.LEASED_LINE for i in range(len(offers))])[
            offer_ix
        ],
        "ILL",
        "FTTH",
    )
    circuit = np.char.add(
        np.char.add(np.char.add(np.char.add(circle_codes, "/"), kind), "/"),
        np.char.zfill(ids.astype("U"), 7),
    )
    handset = imeis(rng, n)
    imsi = np.char.add("40445", digits(rng, n, 10))
    r = rng.random(n)
    # A suspended line is one its customer asked care to suspend, by an order made
    # when the bill cycles are replayed; until then it is active.
    state = np.select(
        [r < 0.93, r < 0.96, r < 0.985],
        [
            SubscriptionState.ACTIVE.value,
            SubscriptionState.SUSPENDED.value,
            SubscriptionState.TERMINATED.value,
        ],
        SubscriptionState.PENDING_ACTIVE.value,
    )
    cust_created = drawn.created[cust_ix]
    activated = cust_created + rng.integers(0, 30, n) * DAY
    # A few lines are brand new: activated inside the usage window.
    new_line = rng.random(n) < 0.025
    activated = np.where(
        new_line,
        window_start + rng.integers(0, USAGE_DAYS - 3, n) * DAY + rng.integers(0, DAY, n),
        activated,
    )
    activated = np.minimum(activated, now - DAY)
    state = np.where(
        new_line & (state != SubscriptionState.PENDING_ACTIVE.value),
        SubscriptionState.ACTIVE.value,
        state,
    )
    pending = state == SubscriptionState.PENDING_ACTIVE.value
    activated_col = np.where(pending, NULL_TIME, activated)
    terminated = state == SubscriptionState.TERMINATED.value
    terminated_at = np.where(terminated, now - rng.integers(31, 200, n) * DAY, NULL_TIME)
    activated_col = np.where(
        terminated & (activated_col > terminated_at), terminated_at - 200 * DAY, activated_col
    )
    # Fixed lines are delivered on an access port at an exchange in their circle.
    site_id = np.full(n, NULL_ID, dtype=np.int64)
    device_id = np.full(n, NULL_ID, dtype=np.int64)
    ports = np.full(n, "", dtype=object)
    vlans = np.full(n, NULL_ID, dtype=np.int64)
    devices, sites = network.tables["devices"], network.tables["sites"]
    access = [(d, p) for d, p in network.access_ports.items() if not devices["lab"][d - 1]]
    dev_site = devices["site_id"]
    site_region = sites["region_id"]
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
        # The k-th line on a device gets the k-th customer VLAN (config's access_vlans).
        if k < ACCESS_VLANS.last - ACCESS_VLANS.first + 1:
            vlans[i] = ACCESS_VLANS.first + k
    subscriptions = {
        "id": ids,
        "customer_id": cust_ix + 1,
        "billing_account_id": cust_ix + 1,
        "offering_id": offer_ix + 1,
        "msisdn": np.where(fixed, NULL, msisdn.astype(object)),
        "circuit_id": np.where(fixed, circuit.astype(object), NULL),
        "imsi": np.where(fixed, NULL, imsi.astype(object)),
        "imei": np.where(fixed, NULL, handset.astype(object)),
        # Suspended only through the order the replay makes when its customer asks.
        "state": np.where(
            state == SubscriptionState.SUSPENDED.value, SubscriptionState.ACTIVE.value, state
        ),
        "site_id": np.where(fixed, site_id, NULL_ID),
        "device_id": np.where(fixed, device_id, NULL_ID),
        "port": np.where(fixed, ports, NULL),
        "vlan": np.where(fixed, vlans, NULL_ID),
        "activated_at": activated_col,
        "terminated_at": terminated_at,
        "created_at": np.where(pending, now - rng.integers(1, 5, n) * DAY, activated - DAY),
    }
    return Customers(
        tables={**drawn.tables, "subscriptions": subscriptions},
        enterprise=drawn.enterprise,
        lines=drawn.lines,
        sub_customer=cust_ix + 1,
        sub_offer=offer_ix,
        sub_fixed=fixed,
        sub_state=state,
        sub_region=region,
        sub_activated=activated_col,
        sub_terminated=terminated_at,
        sub_msisdn=msisdn,
        sub_imei=handset,
    )
