"""Rating: usage records priced against their plan's tariffs (TMF635 received -> rated).

A bill cycle is a calendar month (UTC), written YYYY-MM. Rating one reads the month's
records into NumPy columns once, prices them all at once and writes the results back
through a temporary table in one UPDATE; no Python loop ever walks the records.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from domain.catalog.choices import RatingUnit, Service, Zone
from domain.errors import DomainError

HOME_COUNTRY = "IN"
#: Bytes in the megabyte of data tariffs and allowances.
MEGABYTE = 1_048_576
#: Codes used in the NumPy columns (index into these tuples).
SERVICES: tuple[Service, ...] = (Service.VOICE, Service.SMS, Service.DATA)
ZONES: tuple[Zone, ...] = tuple(Zone)
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
_STATE_NAMES = np.array(["received", "rated", "billed"], dtype=object)
_ZONE_NAMES = np.array([z.value for z in ZONES] + [None], dtype=object)
_CHUNK = 100_000
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


def placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.name == "sqlite" else "%s"


def driver_cursor(conn: Connection) -> Any:
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    return dbapi.cursor()


def fetch_columns(
    conn: Connection, sql: str, params: Sequence[Any], n_cols: int
) -> list[list[Any]]:
    """Run a query on the driver's cursor and return its result as column lists."""
    cur = driver_cursor(conn)
    try:
        cur.execute(sql, tuple(params))
        cols: list[list[Any]] = [[] for _ in range(n_cols)]
        while True:
            rows = cur.fetchmany(_CHUNK)
            if not rows:
                break
            for col, values in zip(cols, zip(*rows, strict=True), strict=True):
                col.extend(values)
        return cols
    finally:
        cur.close()


def fetch_arrays(
    conn: Connection, sql: str, params: Sequence[Any], dtypes: Sequence[str]
) -> list[np.ndarray]:
    """Run a query on the driver's cursor and return its columns as NumPy arrays.

    Each batch becomes arrays at once: millions of Python objects kept in lists would
    make every garbage collection walk them all.
    """
    cur = driver_cursor(conn)
    try:
        cur.execute(sql, tuple(params))
        parts: list[list[np.ndarray]] = [[] for _ in dtypes]
        while True:
            rows = cur.fetchmany(_CHUNK)
            if not rows:
                break
            for part, values, dtype in zip(parts, zip(*rows, strict=True), dtypes, strict=True):
                part.append(np.array(values, dtype=dtype))
        return [
            np.concatenate(p) if p else np.array([], dtype=d)
            for p, d in zip(parts, dtypes, strict=True)
        ]
    finally:
        cur.close()


def bulk_insert(
    conn: Connection, table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert rows fast: COPY on PostgreSQL, executemany on SQLite."""
    if conn.dialect.name == "postgresql":
        cols = ", ".join(names)
        cur = driver_cursor(conn)
        try:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cur.close()
        return
    marks = ", ".join("?" for _ in names)
    cur = driver_cursor(conn)
    try:
        cur.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
    finally:
        cur.close()


def temp_table(conn: Connection, name: str, columns: str) -> None:
    """A fresh temporary table for this transaction's bulk work."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns})")


def round_half_up(numerator: np.ndarray, denominator: np.ndarray | int) -> np.ndarray:
    """numerator / denominator rounded half away from zero, in integers (exact)."""
    num = np.asarray(numerator, dtype=np.int64)
    q = (np.abs(num) * 2 + denominator) // (2 * np.asarray(denominator, dtype=np.int64))
    return np.where(num < 0, -q, q).astype(np.int64)


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
    unit = np.full((ids.size, len(SERVICES), len(ZONES)), -1, dtype=np.int64)
    t = fetch_columns(
        conn, "SELECT offering_id, service, zone, unit, rate_minor FROM tariffs", (), 5
    )
    if t[0]:
        pos = np.searchsorted(ids, np.array(t[0], dtype=np.int64))
        svc = np.array([SERVICES.index(Service(s)) for s in t[1]], dtype=np.int64)
        zone = np.array([ZONES.index(Zone(z)) for z in t[2]], dtype=np.int64)
        rate[pos, svc, zone] = np.array(t[4], dtype=np.int64)
        unit[pos, svc, zone] = np.array([UNITS.index(RatingUnit(u)) for u in t[3]])
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
        np.array(off[4], dtype=np.int64),
        rate,
        unit,
        list(d[0]),
        np.array(zones, dtype=np.int64),
        by_country,
    )


def _packed(chars: np.ndarray, length: int) -> np.ndarray:
    """The first `length` characters of each row (code points, 0-padded) as one integer."""
    out = np.zeros(chars.shape[0], dtype=np.int64)
    for i in range(length):
        out |= np.minimum(chars[:, i], 255).astype(np.int64) << (8 * i)
    return out


def _as_chars(values: Sequence[str] | np.ndarray, width: int) -> np.ndarray:
    arr = np.array(values, dtype=f"<U{max(width, 1)}")
    return arr.view(np.uint32).reshape(arr.size, max(width, 1))


def zones_of(
    plans: Plans,
    service: np.ndarray,
    prefix: Sequence[str] | np.ndarray,
    country: Sequence[str] | np.ndarray,
) -> np.ndarray:
    """Zone codes: longest destination prefix, else the country, national for data.

    `prefix` holds each counterpart's first `plans.prefix_width` characters.
    """
    n = service.size
    width = plans.prefix_width
    zone = np.full(n, -1, dtype=np.int64)
    if plans.prefixes and n:
        chars = _as_chars(prefix, width)
        lengths = np.array([len(p) for p in plans.prefixes])
        pchars = _as_chars(plans.prefixes, width)
        for length in sorted(set(lengths.tolist()), reverse=True):
            mine = np.flatnonzero(lengths == length)
            keys = _packed(pchars[mine], length)
            order = np.argsort(keys)
            keys, mine = keys[order], mine[order]
            row_keys = _packed(chars, length)
            at = np.minimum(np.searchsorted(keys, row_keys), keys.size - 1)
            hit = (keys[at] == row_keys) & (zone < 0)
            zone[hit] = plans.prefix_zones[mine[at[hit]]]
    names = np.array(sorted(plans.country_zones), dtype="<U2")
    codes = np.array([plans.country_zones[str(k)] for k in names], dtype=np.int64)
    cc = np.array(country, dtype="<U2") if n else np.array([], dtype="<U2")
    at = np.minimum(np.searchsorted(names, cc), names.size - 1)
    fallback = np.where(names[at] == cc, codes[at], ZONES.index(Zone.INTL_C))
    zone = np.where(zone < 0, fallback, zone)
    return np.where(service == DATA, NATIONAL, zone)


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
    unit = plans.unit[u.offering, u.service, u.zone]
    priced = (u.service == DATA) | u.outgoing | ((u.service == VOICE) & u.roaming)
    tariffed = unit >= 0
    units = np.select(
        [unit == SECOND, unit == MINUTE, unit == MESSAGE, unit == MB_UNIT],
        [u.duration_s, (u.duration_s + 59) // 60, np.ones_like(u.duration_s), u.volume_bytes],
        0,
    ).astype(np.int64)
    return Units(priced, tariffed, unit, np.where(priced & tariffed, units, 0))


#: Given positions of records, their started_at in microseconds (only the order matters).
StartTimes = Callable[[np.ndarray], np.ndarray]


def price(u: Usage, plans: Plans, started_at: StartTimes) -> Priced:
    """Price every record at once; allowances are consumed in started_at order.

    Only the subscriptions that use up an allowance need their records in time order,
    so only theirs are asked of `started_at`.
    """
    base = units_of(u, plans)
    unit, units = base.unit, base.units
    eligible = base.priced & base.tariffed & (u.zone == NATIONAL) & ~u.roaming
    allowance = plans.allowance[u.offering, u.service] * np.where(
        (u.service == VOICE) & (unit == SECOND), 60, np.where(unit == MB_UNIT, MEGABYTE, 1)
    )
    beyond = np.where(eligible, 0, units)
    e = np.flatnonzero(eligible)
    if e.size:
        groups, group_of = np.unique(u.subscription_id[e] * 4 + u.service[e], return_inverse=True)
        total = np.bincount(group_of, weights=units[e], minlength=groups.size)
        limit = np.zeros(groups.size)
        limit[group_of] = allowance[e]
        crossing = e[(total > limit)[group_of]]
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
    rate = plans.rate[u.offering, u.service, u.zone]
    divisor = np.where(unit == MB_UNIT, MEGABYTE, 1) * 100
    pct = 100 + np.where(u.roaming, plans.surcharge_pct[u.offering], 0)
    charge = round_half_up(beyond * rate * pct, divisor)
    return Priced(base.priced, base.tariffed, unit, units, beyond, np.where(base.priced, charge, 0))


def _started_us_sql(conn: Connection, column: str) -> str:
    if conn.dialect.name == "sqlite":
        return f"unixepoch({column}) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER)"
    return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"


def read_usage(
    conn: Connection, period: Period, plans: Plans, *, states: str, stored_zone: bool = False
) -> tuple[Usage, list[np.ndarray]]:
    """The period's usage records (in the states named by an SQL list) as columns.

    The zone is worked out from the destinations, or with `stored_zone` read as rated.
    Returns the usage and the extra columns: state code, zone code (len(ZONES) for
    none) and charge_minor (-1 for none).
    """
    # Subscription, flags, state and the zone already set travel packed in one integer:
    # every column read costs a Python object per row.
    where = (
        "" if stored_zone else f"substr(counterpart, 1, {plans.prefix_width}), counterpart_country,"
    )
    sql = f"""
        SELECT id,
               subscription_id * 1024
                 + CASE service WHEN 'voice' THEN 0 WHEN 'sms' THEN 1 ELSE 2 END
                 + CASE WHEN direction = 'out' THEN 4 ELSE 0 END
                 + CASE WHEN roaming THEN 8 ELSE 0 END
                 + 16 * CASE state WHEN 'received' THEN 0 WHEN 'rated' THEN 1 ELSE 2 END
                 + 64 * {_ZONE_CODE_SQL},
               CASE WHEN service = 'data' THEN volume_bytes ELSE duration_s END,
               {where}
               COALESCE(charge_minor, -1)
        FROM usage_records
        WHERE {in_period_sql(conn)} AND state IN ({states})
    """
    width = f"<U{plans.prefix_width}"
    dtypes = ["i8", "i8", "i8"] + ([] if stored_zone else [width, "<U2"]) + ["i8"]
    cols = fetch_arrays(conn, sql, period_bounds(conn, period), dtypes)
    packed = cols[1]
    sub, flags = packed >> 10, packed & 1023
    service = flags & 3
    amount = cols[2]
    stored = flags >> 6
    s = fetch_columns(conn, "SELECT id, offering_id FROM subscriptions ORDER BY id", (), 2)
    sub_ids, sub_off = np.array(s[0], dtype=np.int64), np.array(s[1], dtype=np.int64)
    offering = plans.position(sub_off[np.searchsorted(sub_ids, sub)]) if sub.size else sub
    usage = Usage(
        id=cols[0],
        subscription_id=sub,
        service=service,
        outgoing=(flags & 4) > 0,
        roaming=(flags & 8) > 0,
        duration_s=np.where(service == DATA, 0, amount),
        volume_bytes=np.where(service == DATA, amount, 0),
        zone=np.minimum(stored, len(ZONES) - 1)
        if stored_zone
        else zones_of(plans, service, cols[3], cols[4]),
        offering=offering,
    )
    return usage, [(flags >> 4) & 3, stored, cols[-1]]


def started_at_reader(conn: Connection, period: Period, usage: Usage) -> StartTimes:
    """Read started_at for given records, a subscription at a time (by its index)."""

    def read(positions: np.ndarray) -> np.ndarray:
        subs = np.unique(usage.subscription_id[positions])
        temp_table(conn, "rating_crossing", "subscription_id BIGINT PRIMARY KEY")
        bulk_insert(conn, "rating_crossing", ("subscription_id",), ((s,) for s in subs.tolist()))
        ids, when = fetch_arrays(
            conn,
            f"SELECT u.id, {_started_us_sql(conn, 'u.started_at')} FROM usage_records u "
            "JOIN rating_crossing c ON c.subscription_id = u.subscription_id "
            f"WHERE {in_period_sql(conn, 'u.started_at')}",
            period_bounds(conn, period),
            ("i8", "i8"),
        )
        conn.exec_driver_sql("DROP TABLE rating_crossing")
        order = np.argsort(ids)
        return when[order][np.searchsorted(ids[order], usage.id[positions])]

    return read


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
    usage, (old_state, old_zone_code, old_charge_arr) = read_usage(
        conn, period, plans, states="'received', 'rated', 'billed'"
    )
    p = price(usage, plans, started_at_reader(conn, period, usage))
    billed = old_state == BILLED
    rateable = ~billed & ~(p.priced & ~p.tariffed)
    new_state = np.where(rateable, RATED, RECEIVED)
    zone_out = np.where(rateable, usage.zone, len(ZONES))  # the last name is NULL
    charge_out = np.where(rateable, p.charge, -1)
    changed = ~billed & (
        (new_state != old_state) | (zone_out != old_zone_code) | (charge_out != old_charge_arr)
    )
    write = np.flatnonzero(changed)
    if write.size:
        temp_table(
            conn,
            "rating_results",
            "id BIGINT PRIMARY KEY, state VARCHAR(16), zone VARCHAR(16), charge_minor BIGINT",
        )
        bulk_insert(
            conn,
            "rating_results",
            ("id", "state", "zone", "charge_minor"),
            _result_rows(usage.id[write], new_state[write], zone_out[write], charge_out[write]),
        )
        conn.exec_driver_sql(
            "UPDATE usage_records SET state = r.state, zone = r.zone, "
            "charge_minor = r.charge_minor FROM rating_results r WHERE usage_records.id = r.id"
        )
        conn.exec_driver_sql("DROP TABLE rating_results")
    rated = rateable
    return RatingReport(
        period=period,
        records=int(usage.id.size),
        rated=int(rated.sum()),
        changed=int(write.size),
        already_billed=int(billed.sum()),
        no_tariff=int((~billed & ~rateable).sum()),
        charge_minor=int(p.charge[rated].sum()),
        seconds=time.perf_counter() - started,
    )


def _result_rows(
    ids: np.ndarray, state: np.ndarray, zone: np.ndarray, charge: np.ndarray
) -> Iterator[tuple[Any, ...]]:
    """Rows for rating_results, made a batch at a time (charge -1 is NULL)."""
    for lo in range(0, ids.size, _CHUNK):
        part = slice(lo, lo + _CHUNK)
        charges: list[Any] = charge[part].tolist()
        for i in np.flatnonzero(charge[part] < 0).tolist():
            charges[i] = None
        yield from zip(
            ids[part].tolist(),
            _STATE_NAMES[state[part]].tolist(),
            _ZONE_NAMES[zone[part]].tolist(),
            charges,
            strict=True,
        )
