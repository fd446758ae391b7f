"""Rating: usage records priced against their plan's tariffs (TMF635 received -> rated).

A bill cycle is a calendar month (UTC), written YYYY-MM. Rating one reads the month's
records as columns once (domain/bulk.py), prices them in NumPy a million records at a
time and writes the results back in bulk; no Python loop ever walks the records.

The rules, in the order they apply:

* Zone: the longest Destination prefix that starts the counterpart number; when none
  does, the counterpart_country (the home country, or none as for data, is national;
  another known country takes the zone of its shortest prefix; an unknown one is
  intl_c). Data is always national: a data session has no destination.
* What is priced: outgoing calls and SMS, all data, and incoming calls while roaming
  (charged like an outgoing call to the caller's zone). Incoming calls and SMS at home,
  and incoming SMS abroad, cost nothing: they are rated with a zone and a charge of 0.
* Units, per record, by the tariff's unit: second (the duration), minute (the
  duration rounded up to whole minutes), message (1), megabyte (the volume; 1 MB is
  1,048,576 bytes, so a session is priced to the byte).
* Allowances: the offering's voice minutes, SMS and data MB each bill cycle cover
  national usage on the home network, consumed in started_at order (then record id)
  per subscription. The record that crosses an allowance is charged only for the part
  beyond it. Roaming, international and premium usage never draw on an allowance.
* Roaming: the offering's roaming_surcharge_pct is added to the price of a roaming record.
* Rounding: once per record, half up, to a whole minor unit.

A priced record whose plan has no tariff for its service and zone stays received and is
counted as such. Billed records are never touched, but they do count towards the
allowance, so usage arriving after the bill run is priced as if it had been there.
Rating a month again gives the same result and rewrites only what changed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from domain.billing.choices import UsageState
from domain.bulk import column_by_id, fetch_columns, placeholder, read_frame, write_by_id
from domain.catalog.choices import RatingUnit, Service, Zone
from domain.errors import DomainError, PolicyViolation

HOME_COUNTRY = "IN"
#: Bytes in the megabyte of data tariffs and allowances.
MEGABYTE = 1_048_576
#: Codes used in the NumPy columns (index into these tuples).
SERVICES: tuple[Service, ...] = (Service.VOICE, Service.SMS, Service.DATA)
ZONES: tuple[Zone, ...] = tuple(Zone)
if len(ZONES) > 7:  # pragma: no cover - a new zone needs a wider field
    raise RuntimeError("zone codes, and one more for none, must fit in three bits")
UNITS: tuple[RatingUnit, ...] = tuple(RatingUnit)
VOICE, SMS, DATA = 0, 1, 2
NATIONAL = ZONES.index(Zone.NATIONAL)
SECOND, MINUTE, MESSAGE, MB_UNIT = (
    UNITS.index(RatingUnit.SECOND),
    UNITS.index(RatingUnit.MINUTE),
    UNITS.index(RatingUnit.MESSAGE),
    UNITS.index(RatingUnit.MEGABYTE),
)
#: Usage states as codes in the NumPy columns.
RECEIVED, RATED, BILLED = 0, 1, 2
_STATE_NAMES = (UsageState.RECEIVED.value, UsageState.RATED.value, UsageState.BILLED.value)
_ZONE_CODE_SQL = (
    "CASE zone "
    + " ".join(f"WHEN '{z.value}' THEN {i}" for i, z in enumerate(ZONES))
    + f" ELSE {len(ZONES)} END"
)


class BadPeriod(DomainError):
    """A bill cycle given in a form that is not YYYY-MM."""

    hint = "write the month as YYYY-MM, e.g. --period 2026-10"


@dataclass(frozen=True, order=True)
class Period:
    """A bill cycle: one calendar month, UTC."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read "2026-10"; anything else is BadPeriod."""
        m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1970:
            raise BadPeriod(f"{text!r} is not a bill period")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, when: date | datetime) -> Period:
        return cls(when.year, when.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.next.first_day.toordinal() - 1)

    @property
    def days(self) -> int:
        return self.last_day.day

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return self.next.start


@dataclass(frozen=True)
class RatingReport:
    """What rating one period did."""

    period: Period
    #: Usage records in the period, billed ones included.
    records: int
    #: Records rated now (not billed before); `changed` of them were written.
    rated: int
    changed: int
    already_billed: int
    #: Priced records left received because their plan has no tariff for them.
    no_tariff: int
    #: Sum of charge_minor over the rated records.
    charge_minor: int
    seconds: float
    #: Of those seconds: reading the month, and writing the results back.
    reading_s: float = 0.0
    writing_s: float = 0.0

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


# -- database helpers shared with the bill run --------------------------------------------


def period_bounds(conn: Connection, period: Period) -> tuple[Any, Any]:
    """The period's start and end as the driver compares them with started_at."""
    if conn.dialect.name == "sqlite":
        # Stored as naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff" (see UtcDateTime).
        return (
            period.start.strftime("%Y-%m-%d %H:%M:%S.%f"),
            period.end.strftime("%Y-%m-%d %H:%M:%S.%f"),
        )
    return period.start, period.end


def in_period_sql(conn: Connection, column: str = "started_at") -> str:
    """A WHERE condition for `column` in [start, end) with two driver placeholders.

    On SQLite the month-wide range is read by scanning the table ("+" keeps the
    planner off the started_at index): a month is most of the table, and reaching
    it row by row through the index costs several times a sequential scan.
    """
    mark = placeholder(conn)
    col = f"+{column}" if conn.dialect.name == "sqlite" else column
    return f"{col} >= {mark} AND {col} < {mark}"


def epoch_sql(conn: Connection, column: str) -> str:
    """SQL for a timestamp column as whole seconds since the epoch."""
    if conn.dialect.name == "sqlite":
        return f"unixepoch({column})"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"


def round_half_up(numerator: np.ndarray, denominator: np.ndarray | int) -> np.ndarray:
    """numerator / denominator rounded half away from zero, in integers (exact)."""
    num = np.asarray(numerator, dtype=np.int64)
    q = (np.abs(num) * 2 + denominator) // (2 * np.asarray(denominator, dtype=np.int64))
    return np.where(num < 0, -q, q).astype(np.int64)


#: Records per slice in element-wise work. A month-long temporary is fresh memory, which
#: costs a page fault per page; a slice's temporaries are freed and reused at once.
_SLICE = 1 << 20


def by_slices(
    fn: Callable[..., tuple[np.ndarray, ...]], *arrays: np.ndarray
) -> tuple[np.ndarray, ...]:
    """`fn` over consecutive slices of equally long `arrays`, its results joined.

    Slices run two at a time: NumPy lets go of the GIL inside its loops, so the work
    spreads over two cores. `fn` must only read its arguments.
    """
    n = arrays[0].size if arrays else 0
    if any(a.shape != (n,) for a in arrays):
        raise ValueError("by_slices takes arrays of one length")
    if n <= _SLICE:
        return fn(*arrays)
    starts = range(0, n, _SLICE)
    first = fn(*(a[:_SLICE] for a in arrays))
    out = tuple(np.empty(n, dtype=p.dtype) for p in first)

    def run(lo: int) -> None:
        part = first if lo == 0 else fn(*(a[lo : lo + _SLICE] for a in arrays))
        if any(p.shape != (min(_SLICE, n - lo),) for p in part):
            raise ValueError("by_slices needs one result per record of the slice")
        for whole, p in zip(out, part, strict=True):
            whole[lo : lo + p.size] = p

    with ThreadPoolExecutor(2, thread_name_prefix="slices") as pool:
        list(pool.map(run, starts))
    return out


# -- the plan side: offerings, tariffs, destinations -----------------------------------------


@dataclass
class Plans:
    """Offerings and tariffs as dense arrays indexed by offering position."""

    offering_ids: np.ndarray  # sorted
    allowance: np.ndarray  # [offering, service] in the allowance's own unit
    surcharge_pct: np.ndarray  # [offering]
    #: [offering, service, zone]: rate in minor units, unit code (-1: no tariff).
    rate: np.ndarray
    unit: np.ndarray
    #: Destinations: prefixes, their zone codes, and the zone of each country.
    prefixes: list[str]
    prefix_zones: np.ndarray
    country_zones: dict[str, int]

    @property
    def prefix_width(self) -> int:
        return max((len(p) for p in self.prefixes), default=1)

    def position(self, offering_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offering_ids, offering_ids)


def load_plans(conn: Connection) -> Plans:
    off = fetch_columns(
        conn,
        "SELECT id, allowance_voice_min, allowance_sms, allowance_data_mb, "
        "roaming_surcharge_pct FROM product_offerings ORDER BY id",
        (),
        5,
    )
    ids = np.array(off[0], dtype=np.int64)
    allowance = np.stack(
        [np.array(off[i], dtype=np.int64).reshape(-1) for i in (1, 2, 3)], axis=1
    ).reshape(ids.size, 3)
    rate = np.zeros((ids.size, len(SERVICES), len(ZONES)), dtype=np.int64)
    # Codes travel as int8: a month of them is 21 MB where int64 would be 168 MB.
    unit = np.full((ids.size, len(SERVICES), len(ZONES)), -1, dtype=np.int8)
    t = fetch_columns(
        conn, "SELECT offering_id, service, zone, unit, rate_minor FROM tariffs", (), 5
    )
    if t[0]:
        pos = np.searchsorted(ids, np.array(t[0], dtype=np.int64))
        svc = np.array([SERVICES.index(Service(s)) for s in t[1]], dtype=np.int64)
        zone = np.array([ZONES.index(Zone(z)) for z in t[2]], dtype=np.int64)
        rate[pos, svc, zone] = np.array(t[4], dtype=np.int64)
        unit[pos, svc, zone] = np.array([UNITS.index(RatingUnit(u)) for u in t[3]])
    surcharge = np.array(off[4], dtype=np.int64)
    # Charges are never negative: money owed back is an adjustment, not a tariff.
    fix = "fix the tariff in the catalog; credits are adjustments (/dispute resolve)"
    if (rate < 0).any():
        off_at, svc_at, zone_at = np.argwhere(rate < 0)[0]
        raise PolicyViolation(
            f"offering {ids[off_at]} has a negative rate for "
            f"{SERVICES[svc_at].value} to {ZONES[zone_at].value}",
            hint=fix,
        )
    if (surcharge < -100).any():
        raise PolicyViolation(
            f"offering {ids[np.argmax(surcharge < -100)]} has a roaming surcharge below -100%",
            hint=fix,
        )
    d = fetch_columns(conn, "SELECT prefix, country, zone FROM destinations", (), 3)
    zones = [ZONES.index(Zone(z)) for z in d[2]]
    by_country: dict[str, int] = {}
    # A country's own zone is that of its shortest prefix ("1" over "1876").
    for _, country, code in sorted(zip(d[0], d[1], zones, strict=True), key=lambda x: len(x[0])):
        by_country.setdefault(country, code)
    by_country[HOME_COUNTRY] = NATIONAL
    by_country[""] = NATIONAL
    return Plans(
        ids,
        allowance,
        surcharge,
        rate,
        unit,
        list(d[0]),
        np.array(zones, dtype=np.int64),
        by_country,
    )


def zones_of(
    plans: Plans, service: np.ndarray, prefix: pl.Series, country: pl.Series
) -> np.ndarray:
    """Zone codes: longest destination prefix, else the country, national for data.

    `prefix` holds each counterpart's first `plans.prefix_width` characters.
    """
    by_length: dict[int, dict[str, int]] = {}
    for p, code in zip(plans.prefixes, plans.prefix_zones.tolist(), strict=True):
        by_length.setdefault(len(p), {})[p] = code
    lengths = sorted(by_length, reverse=True)

    def prefix_zone(text: str) -> int:
        for length in lengths:
            code = by_length[length].get(text[:length])
            if code is not None:
                return code
        return -1

    intl_c = ZONES.index(Zone.INTL_C)
    by_prefix = _per_distinct(prefix, prefix_zone)
    by_country = _per_distinct(country, lambda cc: plans.country_zones.get(cc, intl_c))

    def combine(svc: np.ndarray, p: np.ndarray, c: np.ndarray) -> tuple[np.ndarray]:
        return (np.where(svc == DATA, NATIONAL, np.where(p < 0, c, p)),)

    return by_slices(combine, service, by_prefix, by_country)[0]


def _per_distinct(values: pl.Series, fn: Callable[[str], int]) -> np.ndarray:
    """fn of each row's value, worked out once per distinct value (a month has few)."""
    cat = values.fill_null("").cast(pl.Categorical)
    codes = cat.to_physical().to_numpy()
    distinct = cat.unique()
    table = np.zeros(int(codes.max()) + 1 if codes.size else 1, dtype=np.int8)
    table[distinct.to_physical().to_numpy()] = [fn(v) for v in distinct.cast(pl.String).to_list()]
    return table[codes]


# -- pricing -----------------------------------------------------------------------------


@dataclass
class Usage:
    """A period's usage records as columns (codes as above)."""

    id: np.ndarray
    subscription_id: np.ndarray
    service: np.ndarray
    outgoing: np.ndarray
    roaming: np.ndarray
    duration_s: np.ndarray
    volume_bytes: np.ndarray
    zone: np.ndarray
    offering: np.ndarray  # position in Plans


@dataclass
class Units:
    """What each record is priced in."""

    priced: np.ndarray  # bool: the record costs something per unit
    tariffed: np.ndarray  # bool: a tariff applies (priced or not)
    unit: np.ndarray  # unit code, -1 without a tariff
    units: np.ndarray  # in the tariff's base (seconds, minutes, messages, bytes); 0 if free


@dataclass
class Priced(Units):
    beyond: np.ndarray  # of the units, those no allowance covers
    charge: np.ndarray  # minor units


def units_of(u: Usage, plans: Plans) -> Units:
    """Each record's tariff unit and its count of those units."""

    def slice_units(*a: np.ndarray) -> tuple[np.ndarray, ...]:
        offering, service, zone, outgoing, roaming, duration, volume = a
        unit = plans.unit[offering, service, zone]
        priced = (service == DATA) | outgoing | ((service == VOICE) & roaming)
        tariffed = unit >= 0
        units = np.select(
            [unit == SECOND, unit == MINUTE, unit == MESSAGE, unit == MB_UNIT],
            [duration, (duration + 59) // 60, 1, volume],
            0,
        ).astype(np.int64, copy=False)
        units[~(priced & tariffed)] = 0
        return priced, tariffed, unit, units

    return Units(
        *by_slices(
            slice_units,
            u.offering,
            u.service,
            u.zone,
            u.outgoing,
            u.roaming,
            u.duration_s,
            u.volume_bytes,
        )
    )


#: Given positions of records, their started_at in microseconds (only the order matters).
StartTimes = Callable[[np.ndarray], np.ndarray]


def price(u: Usage, plans: Plans, started_at: StartTimes) -> Priced:
    """Price every record at once; allowances are consumed in started_at order.

    Only the subscriptions that use up an allowance need their records in time order,
    so only theirs are asked of `started_at`.
    """
    base = units_of(u, plans)
    unit, units = base.unit, base.units

    def slice_eligible(*a: np.ndarray) -> tuple[np.ndarray, ...]:
        priced, tariffed, zone, roaming, used = a
        eligible = priced & tariffed & (zone == NATIONAL) & ~roaming
        return eligible, np.where(eligible, 0, used)

    eligible, beyond = by_slices(
        slice_eligible, base.priced, base.tariffed, u.zone, u.roaming, units
    )
    e = np.flatnonzero(eligible)
    if e.size:
        # Each record's allowance in its tariff's unit (seconds, minutes, messages, bytes).
        allowance = np.zeros(units.size, dtype=np.int64)
        allowance[e] = plans.allowance[u.offering[e], u.service[e]] * np.where(
            (u.service[e] == VOICE) & (unit[e] == SECOND),
            60,
            np.where(unit[e] == MB_UNIT, MEGABYTE, 1),
        )
        group = u.subscription_id[e] * 4 + u.service[e]
        if group.max() < 8 * e.size:
            # Subscription ids are dense: sum per (subscription, service) without sorting.
            total = np.bincount(group, weights=units[e])[group]
        else:
            _, group_of = np.unique(group, return_inverse=True)
            total = np.bincount(group_of, weights=units[e])[group_of]
        crossing = e[total > allowance[e]]
        if crossing.size:
            when = started_at(crossing)
            order = np.lexsort(
                (u.id[crossing], when, u.service[crossing], u.subscription_id[crossing])
            )
            rows = crossing[order]
            used = units[rows]
            running = np.cumsum(used)
            key = u.subscription_id[rows] * 4 + u.service[rows]
            first = np.r_[True, key[1:] != key[:-1]]
            group_start = np.maximum.accumulate(np.where(first, np.arange(rows.size), 0))
            before = running - used - (running[group_start] - used[group_start])
            beyond[rows] = used - np.clip(allowance[rows] - before, 0, used)

    def slice_charge(*a: np.ndarray) -> tuple[np.ndarray]:
        over, priced, offering, service, zone, roaming, per = a
        # Only records with units beyond any allowance cost anything.
        charge = np.zeros(over.size, dtype=np.int64)
        c = np.flatnonzero((over > 0) & priced)
        rate = plans.rate[offering[c], service[c], zone[c]]
        divisor = np.where(per[c] == MB_UNIT, MEGABYTE, 1) * 100
        pct = 100 + np.where(roaming[c], plans.surcharge_pct[offering[c]], 0)
        charge[c] = round_half_up(over[c] * rate * pct, divisor)
        return (charge,)

    (charge,) = by_slices(
        slice_charge, beyond, base.priced, u.offering, u.service, u.zone, u.roaming, unit
    )
    return Priced(base.priced, base.tariffed, unit, units, beyond, charge)


def _started_us_sql(conn: Connection, column: str) -> str:
    if conn.dialect.name == "sqlite":
        return f"unixepoch({column}) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER)"
    return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"


def read_usage(
    conn: Connection,
    period: Period,
    plans: Plans,
    *,
    states: str,
    stored_zone: bool = False,
    started: bool = False,
) -> tuple[Usage, list[np.ndarray]]:
    """The period's usage records (in the states named by an SQL list) as columns.

    The zone is worked out from the destinations, or with `stored_zone` read as rated.
    Returns the usage and the extra columns: state code, zone code (len(ZONES) for
    none), charge_minor (-1 for none) and, with `started`, started_at in microseconds.
    """
    # Subscription, flags, state and the zone already set travel packed in one integer:
    # every column read costs time per row, and arithmetic in SQL costs least.
    columns: dict[str, tuple[str, Any]] = {
        "id": ("id", pl.Int64),
        "packed": (
            f"""subscription_id * 1024
                 + CASE service WHEN 'voice' THEN 0 WHEN 'sms' THEN 1 ELSE 2 END
                 + CASE WHEN direction = 'out' THEN 4 ELSE 0 END
                 + CASE WHEN roaming THEN 8 ELSE 0 END
                 + 16 * CASE state WHEN 'received' THEN 0 WHEN 'rated' THEN 1 ELSE 2 END
                 + 64 * {_ZONE_CODE_SQL}""",
            pl.Int64,
        ),
        "amount": (
            "CASE WHEN service = 'data' THEN volume_bytes ELSE duration_s END",
            pl.Int64,
        ),
        "charge": ("COALESCE(charge_minor, -1)", pl.Int64),
    }
    if not stored_zone:
        columns["prefix"] = (f"substr(counterpart, 1, {plans.prefix_width})", pl.String)
        columns["country"] = ("counterpart_country", pl.String)
    if started:
        columns["started"] = (_started_us_sql(conn, "started_at"), pl.Int64)
    frame = read_frame(
        conn,
        "usage_records",
        columns,
        f"{in_period_sql(conn)} AND state IN ({states})",
        period_bounds(conn, period),
    )

    def decode(packed: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, ...]:
        flags = packed & 1023
        service = (flags & 3).astype(np.int8)
        data = service == DATA
        return (
            packed >> 10,
            service,
            (flags & 4) > 0,
            (flags & 8) > 0,
            ((flags >> 4) & 3).astype(np.int8),
            (flags >> 6).astype(np.int8),
            np.where(data, 0, amount),
            np.where(data, amount, 0),
        )

    sub, service, outgoing, roaming, state, stored, duration, volume = by_slices(
        decode, frame["packed"].to_numpy(), frame["amount"].to_numpy()
    )
    offering = plans.position(column_by_id(conn, "subscriptions", "offering_id"))[sub]
    usage = Usage(
        id=frame["id"].to_numpy(),
        subscription_id=sub,
        service=service,
        outgoing=outgoing,
        roaming=roaming,
        duration_s=duration,
        volume_bytes=volume,
        zone=np.minimum(stored, len(ZONES) - 1)
        if stored_zone
        else zones_of(plans, service, frame["prefix"], frame["country"]),
        offering=offering,
    )
    extra = [state, stored, frame["charge"].to_numpy()]
    if started:
        extra.append(frame["started"].to_numpy())
    return usage, extra


# -- the service -------------------------------------------------------------------------


def periods_to_rate(session: Session) -> list[Period]:
    """Every period that holds received usage, oldest first."""
    conn = session.connection()
    low, high = conn.execute(
        sa.text("SELECT MIN(started_at), MAX(started_at) FROM usage_records")
    ).one()
    if low is None:
        return []
    first, last = Period.of(_as_datetime(low)), Period.of(_as_datetime(high))
    out: list[Period] = []
    p = first
    while p <= last:
        (found,) = conn.exec_driver_sql(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM usage_records WHERE {in_period_sql(conn)} "
            "AND state = 'received' LIMIT 1) x",
            tuple(period_bounds(conn, p)),
        ).one()
        if found:
            out.append(p)
        p = p.next
    return out


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def rate_usage(session: Session, period: Period) -> RatingReport:
    """Rate the period's unbilled usage (received or rated) against the plans' tariffs."""
    started = time.perf_counter()
    conn = session.connection()
    plans = load_plans(conn)
    usage, (old_state, old_zone_code, old_charge_arr, started_us) = read_usage(
        conn, period, plans, states="'received', 'rated', 'billed'", started=True
    )
    read_at = time.perf_counter()
    p = price(usage, plans, lambda positions: started_us[positions])

    def results(*a: np.ndarray) -> tuple[np.ndarray, ...]:
        state, zone, charge, priced, tariffed, zone_now, charge_now = a
        billed = state == BILLED
        rateable = ~billed & ~(priced & ~tariffed)
        new_state = np.where(rateable, RATED, RECEIVED)
        zone_out = np.where(rateable, zone_now, len(ZONES))  # the last name is NULL
        charge_out = np.where(rateable, charge_now, -1)
        changed = ~billed & ((new_state != state) | (zone_out != zone) | (charge_out != charge))
        # A result travels as one integer: see _result_assignments.
        value = ((charge_out + 1) << 5) | (new_state << 3) | zone_out
        return billed, rateable, changed, value, np.where(rateable, charge_now, 0)

    billed, rateable, changed, value, rated_charge = by_slices(
        results,
        old_state,
        old_zone_code,
        old_charge_arr,
        p.priced,
        p.tariffed,
        usage.zone,
        p.charge,
    )
    write = np.flatnonzero(changed)
    values = value[write]
    states = (values >> 3) & 3
    write_at = time.perf_counter()
    write_by_id(
        conn,
        "usage_records",
        usage.id[write],
        values,
        _result_assignments(
            int(states[0]) if states.size and states.min() == states.max() else None
        ),
    )
    done = time.perf_counter()
    return RatingReport(
        period=period,
        records=int(usage.id.size),
        rated=int(rateable.sum()),
        changed=int(write.size),
        already_billed=int(billed.sum()),
        no_tariff=int((~billed & ~rateable).sum()),
        charge_minor=int(rated_charge.sum()),
        seconds=done - started,
        reading_s=read_at - started,
        writing_s=done - write_at,
    )


def _result_assignments(state: int | None) -> str:
    """SET clauses for rating results sent as one integer each (see `write_by_id`).

    The integer is (charge_minor + 1) << 5 | state << 3 | zone code, where charge -1
    and zone code len(ZONES) stand for NULL. When every row gets the same `state` (a
    month's first rating) it is written as a constant: one expression less per row.
    """
    zone = (
        "zone = CASE ({v} & 7) "
        + " ".join(f"WHEN {i} THEN '{z.value}'" for i, z in enumerate(ZONES))
        + " ELSE NULL END"
    )
    charge = "charge_minor = NULLIF({v} >> 5, 0) - 1"
    if state is None:
        states = "state = CASE (({v} >> 3) & 3) WHEN 0 THEN 'received' ELSE 'rated' END"
    else:
        states = f"state = '{_STATE_NAMES[state]}'"
    return ", ".join((states, zone, charge))
