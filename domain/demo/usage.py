"""Synthetic mobile usage records (CDRs) with injected fraud and ground-truth labels.

`generate_usage` turns a set of mobile subscriptions into `days` days of voice, SMS and
data records for an Indian operator. Everything is drawn column-wise with NumPy from the
caller's `Generator` (no Python loop over records), so the same generator state and
inputs always give byte-identical arrays.

How records come about
----------------------
Each channel (voice out/in, SMS out/in, data, Gulf calls out/in) has a per-subscriber
daily rate: a base rate for the subscriber's behaviour profile times a gamma "activity"
factor and a lognormal per-channel jitter. Per-(subscriber, day) counts are Poisson; the
time of day comes from a profile's hourly curve in IST (UTC+5:30), then stored as UTC.
All ordinary rates are scaled by one factor so the expected total is
``n * records_per_subscriber`` (fraud records included).

Ordinary profiles (none of these should look like fraud):

* light / heavy consumers: voice out and in about balanced, SMS, data; few events
  01:00-06:00 IST, peaks late morning and evening; most calls go to a small contact book
  (a handful of numbers, the first few called most), the rest to random Indian mobiles;
  2-6 home cells, the first the most used.
* enterprise (``Subscribers.enterprise``): many calls in business hours, mostly on
  weekdays, a large contact book plus many random counterparts, about 5% international
  (mostly intl_b).
* migrant-worker families: about one long call a day to one or two Gulf numbers
  (AE/SA/QA/KW/OM), and calls back from them.
* travellers: one trip of 3-8 days abroad (a ROAMING_COUNTRIES network); during it every
  record is ``roaming`` on a foreign cell ("AE-424-02-31877"), calls and SMS still go home
  to India, data continues (lighter).
* heavy data users (many, larger sessions), night workers (the whole curve shifted to
  the night).
* device upgrades (~5% of ordinary lines): the IMEI changes once mid-window to a handset
  with another TAC and stays.

Fraud (about ``fraud_share`` of active subscribers, split over the six `FraudKind`s; each
gets one label ``(subscription_id, kind, since)``; every fraud-pattern record is at or after
``since``; before it the line has its ordinary background usage):

* sim_box: SIMs in groups of 3-8 (when there are at least 3) go into one gateway: from
  ``since`` they all use the gateway's single IMEI and one cell, and each makes ~120-600
  outgoing calls a day to distinct random Indian numbers, receives almost nothing and
  has no SMS or data.
* irsf: 2-5 days of 12-80 calls a day to one high-cost range (DESTINATIONS with
  ``high_cost``), dialled sequentially (5322000101, 5322000102, ...), lasting 10-60
  minutes, concentrated at night IST.
* sms_pumping: for 2-5 days, about 1.5 bursts a day of 80-320 SMS within 2-15 minutes to
  sequential numbers of one international range (intl_c or high-cost).
* subscription_fraud: a line activated inside the window (``activated_day >= 0``; only if
  there is none, any line, with ``since`` later in the window) calls international
  numbers heavily (15-90 a day, long, many distinct numbers) from its first day for
  5-12 days.
* account_takeover (SIM swap): at ``since`` the line moves to a new IMEI (another TAC) and
  to cells of another region; the owner's usage stops and for 2-5 days the line makes
  12-80 calls a day, mostly international / premium.
* roaming_fraud: from ``since`` for 3-7 days the line is abroad (foreign cells) making
  30-150 calls a day, mostly to high-cost and intl_c numbers, long durations.

If fraud alone would exceed half the target total (a tiny ``records_per_subscriber``),
fraud records are thinned at random to that half.

Activation: ``activated_day`` is a day offset, the instant within that day is unknown,
so a line activated inside the window has usage from the next day on (start of
``activated_day + 1``); it is never before the real activation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from domain.catalog.choices import Zone
from domain.demo.reference import (
    DESTINATIONS,
    HANDSET_TACS,
    ROAMING_COUNTRIES,
    DestinationSpec,
)
from domain.fraud.choices import FraudKind

DAY = 86_400
_IST = 19_800  # IST = UTC + 5:30
_NEVER = np.iinfo(np.int64).max

_VOICE, _SMS, _DATA = 0, 1, 2
_OUT, _IN = 0, 1
_SERVICE_NAMES = np.array(["voice", "sms", "data"])
_DIRECTION_NAMES = np.array(["out", "in"])

# -- numbering plans (national significant number length, leading digits) ----------------

_NUMBERING: dict[str, tuple[int, str]] = {
    "IN": (10, "6789"),
    "AE": (9, "5"),
    "SA": (9, "5"),
    "QA": (8, "3567"),
    "KW": (8, "569"),
    "OM": (8, "79"),
    "BH": (8, "36"),
    "NP": (10, "9"),
    "BD": (10, "1"),
    "LK": (9, "7"),
    "US": (10, "23456789"),
    "GB": (10, "7"),
    "DE": (11, "1"),
    "FR": (9, "67"),
    "SG": (8, "89"),
    "AU": (9, "4"),
    "JP": (10, "789"),
    "MY": (9, "1"),
    "NG": (10, "789"),
    "KE": (9, "17"),
    "ZA": (9, "678"),
    "BR": (11, "1234"),
    "RU": (10, "9"),
    "ID": (10, "8"),
    "CU": (8, "5"),
    "SO": (8, "6"),
    "SL": (8, "7"),
    "GN": (9, "6"),
    "PG": (8, "7"),
    "TV": (6, "9"),
    "NR": (7, "5"),
    "ST": (7, "9"),
    "LV": (7, "0123456789"),
    "XS": (8, "2345"),
}
_DEFAULT_NUMBERING = (9, "23456789")
_LEAD_WIDTH = 12

_POW10 = 10 ** np.arange(19, dtype=np.int64)
_DEST_CC = np.array([d.country for d in DESTINATIONS] + [""])  # index -1 -> "" (data)
_DEST_PREFIX = np.array([int(d.prefix) for d in DESTINATIONS], dtype=np.int64)
_DEST_NSN = np.array(
    [
        min(_NUMBERING.get(d.country, _DEFAULT_NUMBERING)[0], 15 - len(d.prefix))
        for d in DESTINATIONS
    ],
    dtype=np.int64,
)
#: Total digits of a number, by destination; the extra last entry (index -1) is data: 0.
_DEST_LEN = np.array([len(d.prefix) for d in DESTINATIONS] + [0], dtype=np.int64)
_DEST_LEN[:-1] += _DEST_NSN
_DEST_LEADS = np.array(
    [
        [
            int(c)
            for c in (_NUMBERING.get(d.country, _DEFAULT_NUMBERING)[1] * _LEAD_WIDTH)[:_LEAD_WIDTH]
        ]
        for d in DESTINATIONS
    ],
    dtype=np.int64,
)


def _where(pred: Callable[[DestinationSpec], bool]) -> np.ndarray:
    return np.array([i for i, d in enumerate(DESTINATIONS) if pred(d)], dtype=np.int64)


_IN = int(_where(lambda d: d.country == "IN")[0])
_GULF = _where(lambda d: d.country in ("AE", "SA", "QA", "KW", "OM"))
_HIGH = _where(lambda d: d.high_cost)
_INTL_A = _where(lambda d: d.zone == Zone.INTL_A and not d.high_cost)
_INTL_B = _where(lambda d: d.zone == Zone.INTL_B and not d.high_cost)
_INTL_C = _where(lambda d: d.zone == Zone.INTL_C and not d.high_cost)
_PUMP = np.concatenate([_INTL_C, _HIGH])

_RC_CC = np.array([c for c, _ in ROAMING_COUNTRIES])
_RC_MCC = np.array([m for _, m in ROAMING_COUNTRIES])
_TACS = np.array(HANDSET_TACS)
_TAC_INT = np.array([int(t) for t in HANDSET_TACS], dtype=np.int64)

# -- diurnal curves: relative activity per IST hour 0..23 ----------------------------------

_CONSUMER = [
    0.5,
    0.25,
    0.12,
    0.08,
    0.08,
    0.15,
    0.5,
    1.4,
    2.8,
    3.8,
    4.6,
    5.2,
    5.0,
    4.6,
    4.4,
    4.5,
    4.8,
    5.2,
    5.8,
    6.3,
    6.4,
    5.6,
    3.6,
    1.6,
]
_BUSINESS = [
    0.1,
    0.05,
    0.03,
    0.03,
    0.03,
    0.05,
    0.2,
    0.8,
    2.5,
    6.0,
    8.0,
    8.5,
    7.5,
    6.5,
    7.5,
    8.0,
    7.5,
    6.5,
    4.5,
    2.5,
    1.5,
    1.0,
    0.6,
    0.3,
]
_DATA_CURVE = [
    1.5,
    0.8,
    0.4,
    0.3,
    0.3,
    0.5,
    1.2,
    2.5,
    3.5,
    4.0,
    4.2,
    4.3,
    4.3,
    4.2,
    4.1,
    4.2,
    4.4,
    4.7,
    5.2,
    6.0,
    6.6,
    6.8,
    5.5,
    3.2,
]
_SIMBOX = [1.0, 0.5, 0.3, 0.3, 0.3, 0.5, 1.5, 3.0] + [4.0] * 13 + [3.5, 3.0, 2.0]
_NIGHT_FRAUD = [6, 6, 6, 6, 5, 4, 1.5, 0.5] + [0.3] * 11 + [0.5, 1, 2, 4, 6]
_CURVES = np.array(
    [
        _CONSUMER,  # 0
        _BUSINESS,  # 1
        np.roll(_CONSUMER, 9),  # 2 night worker: evening peak moves to ~04:00
        _DATA_CURVE,  # 3
        np.roll(_DATA_CURVE, 9),  # 4 night worker data
        _SIMBOX,  # 5
        _NIGHT_FRAUD,  # 6
        [1.0] * 24,  # 7 round the clock
    ],
    dtype=np.float64,
)
_C_CONSUMER, _C_BUSINESS, _C_NIGHT, _C_DATA, _C_NIGHT_DATA, _C_SIMBOX, _C_NIGHT_FRAUD, _C_FLAT = (
    range(8)
)
_CDF = np.cumsum(_CURVES, axis=1)
_CDF /= _CDF[:, -1:]
_CDF[:, -1] = 1.0
#: Row p shifted by p, so one searchsorted serves events with different curves.
_CDF_FLAT = (_CDF + np.arange(len(_CURVES))[:, None]).ravel()

# -- ordinary behaviour profiles ------------------------------------------------------------

_LIGHT, _HEAVY, _ENTERPRISE, _MIGRANT, _TRAVELLER, _DATA_HEAVY, _NIGHT = range(7)
#: Share of non-enterprise lines per profile (enterprise comes from Subscribers.enterprise).
_PROFILE_SHARE = np.array([0.50, 0.20, 0.0, 0.07, 0.05, 0.10, 0.08])
#: Base daily rates: voice out, voice in, sms out, sms in, data sessions, gulf out, gulf in.
_RATES = np.array(
    [
        [0.45, 0.45, 0.10, 0.25, 0.45, 0.0, 0.0],  # light
        [1.50, 1.45, 0.35, 0.55, 2.00, 0.0, 0.0],  # heavy
        [3.20, 2.80, 0.30, 0.50, 1.20, 0.0, 0.0],  # enterprise (weekday; weekends x0.3)
        [0.40, 0.45, 0.10, 0.25, 0.40, 0.9, 0.4],  # migrant family
        [0.90, 0.90, 0.20, 0.40, 1.40, 0.0, 0.0],  # traveller
        [0.30, 0.30, 0.05, 0.25, 6.00, 0.0, 0.0],  # heavy data
        [1.00, 1.00, 0.20, 0.40, 1.60, 0.0, 0.0],  # night worker
    ]
)
_VOICE_MEDIAN_S = np.array([55.0, 75.0, 95.0, 60.0, 70.0, 45.0, 70.0])
_VOICE_CURVE = np.array(
    [_C_CONSUMER, _C_CONSUMER, _C_BUSINESS, _C_CONSUMER, _C_CONSUMER, _C_CONSUMER, _C_NIGHT]
)
_DATA_CURVE_OF = np.array([_C_DATA, _C_DATA, _C_DATA, _C_DATA, _C_DATA, _C_DATA, _C_NIGHT_DATA])
_P_BOOK = np.array([0.82, 0.80, 0.45, 0.80, 0.78, 0.80, 0.75])
#: Of the calls/SMS not to the contact book: share international, and of those intl_b.
_P_INTL = np.array([0.008, 0.010, 0.100, 0.015, 0.010, 0.008, 0.008])
_P_INTL_B = np.array([0.4, 0.4, 0.7, 0.2, 0.5, 0.4, 0.4])

_KINDS = list(FraudKind)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Subscribers:
    """Mobile subscriptions to generate usage for; all arrays have the same length n."""

    subscription_id: np.ndarray  # int64
    msisdn: np.ndarray  # str, like "919876543210"
    imei: np.ndarray  # str, 15 digits: the handset at the start of the window
    enterprise: np.ndarray  # bool
    region: np.ndarray  # int64 index into cells_by_region
    #: Day offset of activation relative to the window start (negative = before the window;
    #: 0..days-1 = new during the window).
    activated_day: np.ndarray
    #: A stable number per line (uint64), or None. With it a line keeps its habits in
    #: every window: behaviour profile, how busy it is, contact book, home cells and
    #: Gulf numbers.
    traits: np.ndarray | None = None


@dataclass
class UsageBatch:
    #: subscription_id, started_at, service, direction, counterpart, counterpart_country,
    #: duration_s, volume_bytes, cell_id, imei, roaming; sorted by (started_at, subscription_id).
    columns: dict[str, np.ndarray]
    #: (subscription_id, FraudKind value, since epoch seconds), one per fraudulent line.
    labels: list[tuple[int, str, int]]
    #: The handset last seen per subscriber, in Subscribers order.
    final_imei: np.ndarray


# -- small vectorised helpers ----------------------------------------------------------------


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays: a stateless, deterministic hash."""
    x = x + _GOLD
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _nonneg(x: np.ndarray) -> np.ndarray:
    return (x >> np.uint64(1)).astype(np.int64)


def _trait(traits: np.ndarray, salt: int) -> np.ndarray:
    """A uniform draw in [0, 1) per line, the same for the same traits and salt."""
    x = _mix(traits ^ np.uint64(salt * int(_GOLD) % 2**64))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _numbers(dest: np.ndarray, h: np.ndarray) -> np.ndarray:
    """International numbers (as int64 digits) in `dest` made from non-negative ints `h`."""
    nsn = _DEST_NSN[dest]
    lead = _DEST_LEADS[dest, h % _LEAD_WIDTH]
    rest = (h // _LEAD_WIDTH) % _POW10[nsn - 1]
    return _DEST_PREFIX[dest] * _POW10[nsn] + lead * _POW10[nsn - 1] + rest


def _range_starts(dest: np.ndarray, h: np.ndarray) -> np.ndarray:
    """First number of a block in `dest` (ending in 01) with room for 9,000 more after it."""
    nsn = _DEST_NSN[dest]
    span = np.maximum(_POW10[nsn - 1] - 10_000, 1)
    lead = _DEST_LEADS[dest, h % _LEAD_WIDTH]
    body = ((h // _LEAD_WIDTH) % span) // 100 * 100 + 101
    return _DEST_PREFIX[dest] * _POW10[nsn] + lead * _POW10[nsn - 1] + body


_DIG4 = np.array([f"{i:04d}" for i in range(10_000)]).view(np.uint32).reshape(10_000, 4)


def _digits_str(values: np.ndarray, lengths: np.ndarray, width: int = 15) -> np.ndarray:
    """Zero-padded decimal strings of `lengths[i]` digits ('' where 0), as <U{width}."""
    out = np.zeros(values.size, dtype=f"<U{width}")
    for length in np.unique(lengths).tolist():
        if length == 0:
            continue
        sel = np.flatnonzero(lengths == length)
        v = values[sel]
        chunks = -(-length // 4)
        d = np.empty((sel.size, 4 * chunks), dtype=np.uint32)
        for c in range(chunks - 1, -1, -1):
            d[:, 4 * c : 4 * c + 4] = _DIG4[v % 10_000]
            v = v // 10_000
        tail = np.ascontiguousarray(d[:, 4 * chunks - length :])
        out[sel] = tail.view(f"<U{length}").ravel()
    return out


def _luhn(body: np.ndarray) -> np.ndarray:
    """Luhn check digit for 14-digit int64 bodies."""
    total = np.zeros(body.size, dtype=np.int64)
    v = body.copy()
    for k in range(14):  # k = 0 is the rightmost body digit, which gets doubled
        d = v % 10
        v //= 10
        if k % 2 == 0:
            d = d * 2
            d = np.where(d > 9, d - 9, d)
        total += d
    return (10 - total % 10) % 10


def _new_imeis(rng: np.random.Generator, old: np.ndarray) -> np.ndarray:
    """Fresh IMEIs (int64) on a handset TAC different from the old IMEI's."""
    m = old.size
    tac = rng.integers(0, len(_TACS), m)
    if len(_TACS) > 1 and m:
        same = np.asarray(old).astype("U8") == _TACS[tac]
        tac = np.where(same, (tac + 1 + rng.integers(0, len(_TACS) - 1, m)) % len(_TACS), tac)
    body = _TAC_INT[tac] * 1_000_000 + rng.integers(0, 1_000_000, m)
    return body * 10 + _luhn(body)


def imeis(rng: np.random.Generator, n: int) -> np.ndarray:
    """n valid (Luhn-checked) IMEIs on common handset TACs, as 15-digit strings."""
    tac = rng.integers(0, len(_TACS), n)
    body = _TAC_INT[tac] * 1_000_000 + rng.integers(0, 1_000_000, n)
    return (body * 10 + _luhn(body)).astype("U15")


def _lognormal_int(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, lo: int, hi: int, size: int
) -> np.ndarray:
    x = np.asarray(median) * np.exp(sigma * rng.standard_normal(size))
    return np.clip(x, lo, hi).astype(np.int64)


def _group_ranks(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within runs of equal values of an already grouped `keys`."""
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    lengths = np.diff(np.append(starts, keys.size))
    return np.arange(keys.size, dtype=np.int64) - np.repeat(starts, lengths)


def _pick(rng: np.random.Generator, size: int, pools: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """Destination indices: a pool chosen by weight, then uniformly within it."""
    pools = [(p, w) for p, w in pools if p.size and w > 0]
    weights = np.array([w for _, w in pools])
    which = np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(size), side="right")
    which = np.minimum(which, len(pools) - 1)
    out = np.empty(size, dtype=np.int64)
    u = rng.random(size)
    for i, (pool, _) in enumerate(pools):
        sel = which == i
        out[sel] = pool[(u[sel] * pool.size).astype(np.int64)]
    return out


def _daily(
    rng: np.random.Generator, rows: np.ndarray, rates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson counts per (row, day) of `rates` (len(rows) x days) -> (row, day) per event."""
    days = rates.shape[1]
    counts = rng.poisson(rates).ravel()
    cell = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    return rows[cell // days], cell % days


@dataclass
class _Events:
    sub: np.ndarray  # int64 position in Subscribers
    t: np.ndarray  # int64 epoch seconds
    service: np.ndarray  # int8
    direction: np.ndarray  # int8
    cp: np.ndarray  # int64 counterpart digits (0 for data)
    dest: np.ndarray  # int64 index into DESTINATIONS, -1 for data
    duration: np.ndarray  # int64
    volume: np.ndarray  # int64
    cell: np.ndarray  # int64 index into the home cell table, -1 when roaming
    fcell: np.ndarray  # int64 foreign cell code, -1 at home
    imei: np.ndarray  # int64 index into the IMEI table

    def take(self, idx: np.ndarray) -> _Events:
        return _Events(*(getattr(self, f)[idx] for f in _EVENT_FIELDS))

    @staticmethod
    def concat(parts: list[_Events]) -> _Events:
        return _Events(*(np.concatenate([getattr(p, f) for p in parts]) for f in _EVENT_FIELDS))


_EVENT_FIELDS = (
    "sub",
    "t",
    "service",
    "direction",
    "cp",
    "dest",
    "duration",
    "volume",
    "cell",
    "fcell",
    "imei",
)


class _Ctx:
    """Per-subscriber state shared by the ordinary and fraud generators."""

    def __init__(
        self,
        rng: np.random.Generator,
        subs: Subscribers,
        cells_by_region: list[np.ndarray],
        start: int,
        days: int,
    ) -> None:
        n = subs.subscription_id.size
        self.n = n
        self.start = start
        self.days = days
        self.end = start + days * DAY
        self.act = np.asarray(subs.activated_day, dtype=np.int64)
        self.start_imei = np.asarray(subs.imei).astype("U15")
        #: First day with usage (the activation day itself is skipped, see module doc).
        self.first_day = np.where(self.act >= 0, self.act + 1, 0)
        self.active = self.first_day < days
        self.region = np.asarray(subs.region, dtype=np.int64)
        self.reg_len = np.array([len(c) for c in cells_by_region], dtype=np.int64)
        self.reg_off = np.concatenate([[0], np.cumsum(self.reg_len)[:-1]]).astype(np.int64)
        if n and (self.region.min() < 0 or self.region.max() >= len(cells_by_region)):
            raise ValueError("subscriber region outside cells_by_region")
        if np.any(self.reg_len[self.region[self.active]] == 0):
            raise ValueError("an active subscriber's region has no cells")
        self.cells_with = np.flatnonzero(self.reg_len > 0)

        self.key = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
        self.cell_start = rng.integers(0, 2**31, n) % np.maximum(self.reg_len[self.region], 1)
        self.n_cells = rng.integers(2, 7, n)
        # Stable traits replace the draws above, which still happen: the rest of the
        # stream stays the same.
        self.traits = None if subs.traits is None else np.asarray(subs.traits, dtype=np.uint64)
        if self.traits is not None:
            self.key = _mix(self.traits)
            self.cell_start = (_trait(self.traits, 1) * 2**31).astype(np.int64) % np.maximum(
                self.reg_len[self.region], 1
            )
            self.n_cells = 2 + (_trait(self.traits, 2) * 5).astype(np.int64)
        # Later relocations (SIM swap to another region, SIM-box gateway at one cell).
        self.mv_t = np.full(n, _NEVER, dtype=np.int64)
        self.mv_region = self.region.copy()
        self.mv_start = self.cell_start.copy()
        self.mv_n = self.n_cells.copy()
        # Handset changes: from sw_t on the line uses IMEI table entry sw_imei.
        self.sw_t = np.full(n, _NEVER, dtype=np.int64)
        self.sw_imei = np.arange(n, dtype=np.int64)
        self.new_imeis: list[np.ndarray] = []
        # Ordinary (background) usage suppressed in [blk0, blk1).
        self.blk0 = np.full(n, _NEVER, dtype=np.int64)
        self.blk1 = np.full(n, _NEVER, dtype=np.int64)
        # Trips abroad: [trip0, trip1) on the visited network below.
        self.trip0 = np.full(n, _NEVER, dtype=np.int64)
        self.trip1 = np.full(n, _NEVER, dtype=np.int64)
        self.trip_rc = rng.integers(0, len(ROAMING_COUNTRIES), n)
        self.trip_mnc = rng.integers(1, 4, n)
        self.trip_cell = rng.integers(0, 55_000, n)
        # Ordinary behaviour, filled in by _ordinary_setup.
        self.profile = np.zeros(n, dtype=np.int64)
        self.book_size = np.ones(n, dtype=np.int64)
        self.gulf_dest = np.zeros((n, 2), dtype=np.int64)
        self.gulf_h = np.zeros((n, 2), dtype=np.int64)

    def add_imeis(self, values: np.ndarray) -> np.ndarray:
        """Register new IMEIs (int64), returning their IMEI-table indices."""
        first = self.n + sum(v.size for v in self.new_imeis)
        self.new_imeis.append(values)
        return np.arange(first, first + values.size, dtype=np.int64)

    def times(
        self,
        rng: np.random.Generator,
        day: np.ndarray,
        curve: np.ndarray | int,
    ) -> np.ndarray:
        """Epoch seconds on UTC `day` with the IST hour drawn from `curve`."""
        k = day.size
        u = rng.random(k) + curve
        hour = np.searchsorted(_CDF_FLAT, u, side="right") - np.asarray(curve) * 24
        hour = np.clip(hour, 0, 23)
        sec = (hour * 3600 + rng.integers(0, 3600, k) - _IST) % DAY
        return self.start + day * DAY + sec

    def home_cells(self, rng: np.random.Generator, sub: np.ndarray, t: np.ndarray) -> np.ndarray:
        moved = t >= self.mv_t[sub]
        reg = np.where(moved, self.mv_region[sub], self.region[sub])
        first = np.where(moved, self.mv_start[sub], self.cell_start[sub])
        count = np.where(moved, self.mv_n[sub], self.n_cells[sub])
        u = rng.random(sub.size)
        j = (count * u * u).astype(np.int64)  # the first cell is the most used
        return self.reg_off[reg] + (first + j) % self.reg_len[reg]

    def foreign_cells(self, rng: np.random.Generator, sub: np.ndarray) -> np.ndarray:
        j = rng.integers(0, 3, sub.size)
        num = 10_000 + (self.trip_cell[sub] + j * 7_919) % 55_000
        return self.trip_rc[sub] * 10**7 + self.trip_mnc[sub] * 10**5 + num

    def imei_at(self, sub: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.where(t >= self.sw_t[sub], self.sw_imei[sub], sub)

    def events(
        self,
        rng: np.random.Generator,
        sub: np.ndarray,
        t: np.ndarray,
        service: int,
        direction: int,
        cp: np.ndarray | None = None,
        dest: np.ndarray | None = None,
        duration: np.ndarray | None = None,
        volume: np.ndarray | None = None,
        roaming: bool = False,
    ) -> _Events:
        k = sub.size
        if roaming:
            cell = np.full(k, -1, dtype=np.int64)
            fcell = self.foreign_cells(rng, sub)
        else:
            cell = self.home_cells(rng, sub, t)
            fcell = np.full(k, -1, dtype=np.int64)
        zeros = np.zeros(k, dtype=np.int64)
        return _Events(
            sub=sub,
            t=t,
            service=np.full(k, service, dtype=np.int8),
            direction=np.full(k, direction, dtype=np.int8),
            cp=zeros if cp is None else cp,
            dest=np.full(k, -1, dtype=np.int64) if dest is None else dest,
            duration=zeros if duration is None else duration,
            volume=zeros if volume is None else volume,
            cell=cell,
            fcell=fcell,
            imei=self.imei_at(sub, t),
        )

    def since_days(
        self, rng: np.random.Generator, rows: np.ndarray, history: int, tail: int
    ) -> np.ndarray:
        """A fraud start day per row with `history` ordinary days before it if possible."""
        hi = np.maximum(self.days - tail, self.first_day[rows])
        hi = np.minimum(hi, self.days - 1)
        lo = np.minimum(self.first_day[rows] + history, hi)
        return rng.integers(lo, hi + 1)

    def attack_rates(self, day0: np.ndarray, day1: np.ndarray, rate: np.ndarray) -> np.ndarray:
        """Daily rates: `rate` on days [day0, day1), zero otherwise (one row per line)."""
        d = np.arange(self.days)
        on = (d >= day0[:, None]) & (d < day1[:, None])
        return rate[:, None] * on


# -- fraud ---------------------------------------------------------------------------------


def _split_kinds(rng: np.random.Generator, n_fraud: int) -> np.ndarray:
    """How many lines per FraudKind (in _KINDS order)."""
    k = len(_KINDS)
    counts = np.zeros(k, dtype=np.int64)
    if n_fraud <= 0:
        return counts
    sim = _KINDS.index(FraudKind.SIM_BOX)
    if n_fraud < 8:
        counts += n_fraud // k
        counts[rng.permutation(k)[: n_fraud % k]] += 1
        return counts
    counts[sim] = max(3, n_fraud // k)
    others = np.array([i for i in range(k) if i != sim])
    rest = n_fraud - counts[sim]
    counts[others] += rest // others.size
    counts[others[rng.permutation(others.size)[: rest % others.size]]] += 1
    return counts


def _choose_fraudsters(
    rng: np.random.Generator, ctx: _Ctx, fraud_share: float
) -> dict[FraudKind, np.ndarray]:
    eligible = ctx.active & (ctx.first_day <= ctx.days - 4)
    n_fraud = min(round(fraud_share * ctx.n), int(eligible.sum()))
    counts = _split_kinds(rng, n_fraud)
    taken = np.zeros(ctx.n, dtype=bool)
    chosen: dict[FraudKind, np.ndarray] = {}
    order = np.argsort(rng.random(ctx.n), kind="stable")  # one shuffle serves every pick

    def pick(mask: np.ndarray, m: int) -> np.ndarray:
        cand = order[mask[order] & ~taken[order]]
        got = cand[:m]
        taken[got] = True
        return got

    sub_fraud = _KINDS.index(FraudKind.SUBSCRIPTION_FRAUD)
    new = pick(eligible & (ctx.act >= 0), int(counts[sub_fraud]))
    if new.size < counts[sub_fraud]:  # no (or too few) new lines: fall back to any line
        new = np.concatenate([new, pick(eligible, int(counts[sub_fraud]) - new.size)])
    chosen[FraudKind.SUBSCRIPTION_FRAUD] = new
    for i, kind in enumerate(_KINDS):
        if kind is FraudKind.SUBSCRIPTION_FRAUD:
            continue
        got = pick(eligible & (ctx.act < 0), int(counts[i]))
        if got.size < counts[i]:
            got = np.concatenate([got, pick(eligible, int(counts[i]) - got.size)])
        chosen[kind] = np.sort(got)
    return chosen


def _sim_box(
    rng: np.random.Generator, ctx: _Ctx, rows: np.ndarray, since: np.ndarray
) -> list[_Events]:
    m = rows.size
    if m == 0:
        return []
    # Groups of 3-8 SIMs sharing one gateway (one IMEI, one cell).
    sizes: list[int] = []
    while sum(sizes) < m:
        sizes.append(int(rng.integers(3, 9)))
    sizes[-1] = m - sum(sizes[:-1])
    if len(sizes) > 1 and sizes[-1] < 3:
        both = sizes.pop() + sizes.pop()
        sizes += [both] if both < 6 else [both // 2, both - both // 2]
    group = np.repeat(np.arange(len(sizes)), sizes)
    members = rows[rng.permutation(m)]
    g_first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    g_region = ctx.region[members[g_first]]
    g_cell = rng.integers(0, 2**31, len(sizes)) % ctx.reg_len[g_region]
    g_day = np.empty(len(sizes), dtype=np.int64)
    for g in range(len(sizes)):  # per group: everyone must be active by then
        mem = members[group == g]
        g_day[g] = ctx.since_days(rng, mem[np.argmax(ctx.first_day[mem])][None], 2, 6)[0]
    g_imei = ctx.add_imeis(_new_imeis(rng, np.array(["00000000"] * len(sizes))))
    day0 = g_day[group]
    since_t = ctx.start + day0 * DAY + rng.integers(0, 4 * 3600, m)
    since[members] = since_t
    ctx.sw_t[members] = since_t
    ctx.sw_imei[members] = g_imei[group]
    ctx.mv_t[members] = since_t
    ctx.mv_region[members] = g_region[group]
    ctx.mv_start[members] = g_cell[group]
    ctx.mv_n[members] = 1
    ctx.blk0[members] = since_t
    rate = np.clip(rng.gamma(8.0, 280 / 8.0, m), 120, 600)
    end = np.full(m, ctx.days)
    sub, day = _daily(rng, members, ctx.attack_rates(day0, end, rate))
    t = ctx.times(rng, day, _C_SIMBOX)
    dest = np.full(sub.size, _IN)
    out = ctx.events(
        rng,
        sub,
        t,
        _VOICE,
        _OUT,
        cp=_numbers(dest, rng.integers(0, 2**62, sub.size)),
        dest=dest,
        duration=_lognormal_int(rng, 75.0, 0.7, 8, 1800, sub.size),
    )
    # Almost nothing comes in (a call-back now and then).
    sub, day = _daily(rng, members, ctx.attack_rates(day0, end, np.full(m, 0.3)))
    t = ctx.times(rng, day, _C_CONSUMER)
    dest = np.full(sub.size, _IN)
    inc = ctx.events(
        rng,
        sub,
        t,
        _VOICE,
        _IN,
        cp=_numbers(dest, rng.integers(0, 2**62, sub.size)),
        dest=dest,
        duration=_lognormal_int(rng, 40.0, 0.8, 3, 600, sub.size),
    )
    return [out, inc]


def _irsf(
    rng: np.random.Generator, ctx: _Ctx, rows: np.ndarray, since: np.ndarray
) -> list[_Events]:
    m = rows.size
    if m == 0:
        return []
    day0 = ctx.since_days(rng, rows, 3, 3)
    since[rows] = ctx.start + day0 * DAY + rng.integers(0, 8 * 3600, m)
    day1 = np.minimum(day0 + rng.integers(2, 6, m), ctx.days)
    rate = np.clip(rng.gamma(6.0, 35 / 6.0, m), 12, 80)
    sub, day = _daily(rng, rows, ctx.attack_rates(day0, day1, rate))
    t = ctx.times(rng, day, _C_NIGHT_FRAUD)
    order = np.lexsort((t, sub))
    sub, t = sub[order], t[order]
    # One high-cost range per fraudster, dialled in sequence.
    r_dest = _HIGH[rng.integers(0, _HIGH.size, m)]
    r_first = _range_starts(r_dest, rng.integers(0, 2**62, m))
    pos = np.searchsorted(rows, sub)
    cp = r_first[pos] + _group_ranks(sub)
    ev = ctx.events(
        rng,
        sub,
        t,
        _VOICE,
        _OUT,
        cp=cp,
        dest=r_dest[pos],
        duration=rng.integers(600, 3601, sub.size),
    )
    return [ev]


def _sms_pumping(
    rng: np.random.Generator, ctx: _Ctx, rows: np.ndarray, since: np.ndarray
) -> list[_Events]:
    m = rows.size
    if m == 0:
        return []
    day0 = ctx.since_days(rng, rows, 3, 3)
    since_t = ctx.start + day0 * DAY + rng.integers(0, 6 * 3600, m)
    since[rows] = since_t
    day1 = np.minimum(day0 + rng.integers(2, 6, m), ctx.days)
    b_sub, b_day = _daily(rng, rows, ctx.attack_rates(day0, day1, np.full(m, 1.5)))
    # The first burst opens the attack, the rest fall at random over its days.
    b_sub = np.concatenate([rows, b_sub])
    b_start = np.concatenate([since_t + rng.integers(0, 3600, m), ctx.times(rng, b_day, _C_FLAT)])
    nb = b_sub.size
    b_size = rng.integers(80, 321, nb)
    b_span = rng.integers(120, 901, nb)
    b_dest = _PUMP[rng.integers(0, _PUMP.size, nb)]
    b_first = _range_starts(b_dest, rng.integers(0, 2**62, nb))
    burst = np.repeat(np.arange(nb), b_size)
    rank = _group_ranks(burst)
    t = b_start[burst] + rank * b_span[burst] // b_size[burst]
    sub = b_sub[burst]
    ev = ctx.events(rng, sub, t, _SMS, _OUT, cp=b_first[burst] + rank, dest=b_dest[burst])
    return [ev]


def _subscription_fraud(
    rng: np.random.Generator, ctx: _Ctx, rows: np.ndarray, since: np.ndarray
) -> list[_Events]:
    m = rows.size
    if m == 0:
        return []
    new = ctx.act[rows] >= 0
    # New lines go bad on their first day; the fallback (an old line) later in the window.
    day0 = np.where(new, ctx.first_day[rows], ctx.since_days(rng, rows, 3, 3))
    since[rows] = ctx.start + day0 * DAY + rng.integers(0, 3 * 3600, m)
    day1 = np.minimum(day0 + rng.integers(5, 13, m), ctx.days)
    rate = np.clip(rng.gamma(5.0, 40 / 5.0, m), 15, 90)
    sub, day = _daily(rng, rows, ctx.attack_rates(day0, day1, rate))
    t = ctx.times(rng, day, _C_CONSUMER)
    dest = _pick(rng, sub.size, [(_INTL_B, 0.3), (_INTL_C, 0.4), (_HIGH, 0.2), (_INTL_A, 0.1)])
    ev = ctx.events(
        rng,
        sub,
        t,
        _VOICE,
        _OUT,
        cp=_numbers(dest, rng.integers(0, 2**62, sub.size)),
        dest=dest,
        duration=_lognormal_int(rng, 600.0, 0.7, 60, 3600, sub.size),
    )
    return [ev]


def _account_takeover(
    rng: np.random.Generator, ctx: _Ctx, rows: np.ndarray, since: np.ndarray
) -> list[_Events]:
    m = rows.size
    if m == 0:
        return []
    day0 = ctx.since_days(rng, rows, 6, 3)
    since_t = ctx.start + day0 * DAY + rng.integers(0, 12 * 3600, m)
    since[rows] = since_t
    # The SIM is swapped onto the fraudster's handset somewhere else.
    ctx.sw_t[rows] = since_t
    ctx.sw_imei[rows] = ctx.add_imeis(_new_imeis(rng, ctx.start_imei[rows]))
    home = ctx.region[rows]
    regions = ctx.cells_with
    if regions.size > 1:  # any other region with cells
        r = rng.integers(0, regions.size - 1, m)
        r += r >= np.searchsorted(regions, home)
        new_region = regions[r]
    else:
        new_region = home
    ctx.mv_t[rows] = since_t
    ctx.mv_region[rows] = new_region
    ctx.mv_start[rows] = rng.integers(0, 2**31, m) % ctx.reg_len[new_region]
    ctx.mv_n[rows] = rng.integers(1, 3, m)
    ctx.blk0[rows] = since_t
    day1 = np.minimum(day0 + rng.integers(2, 6, m), ctx.days)
    rate = np.clip(rng.gamma(6.0, 35 / 6.0, m), 12, 80)
    sub, day = _daily(rng, rows, ctx.attack_rates(day0, day1, rate))
    t = ctx.times(rng, day, _C_FLAT)
    dest = _pick(
        rng, sub.size, [(_HIGH, 0.25), (_INTL_C, 0.2), (_INTL_B, 0.15), (np.array([_IN]), 0.4)]
    )
    ev = ctx.events(
        rng,
        sub,
        t,
        _VOICE,
        _OUT,
        cp=_numbers(dest, rng.integers(0, 2**62, sub.size)),
        dest=dest,
        duration=_lognormal_int(rng, 300.0, 0.8, 20, 3600, sub.size),
    )
    return [ev]


def _roaming_fraud(
    rng: np.random.Generator, ctx: _Ctx, rows: np.ndarray, since: np.ndarray
) -> list[_Events]:
    m = rows.size
    if m == 0:
        return []
    day0 = ctx.since_days(rng, rows, 3, 3)
    since_t = ctx.start + day0 * DAY + rng.integers(0, 8 * 3600, m)
    since[rows] = since_t
    day1 = np.minimum(day0 + rng.integers(3, 8, m), ctx.days)
    ctx.blk0[rows] = since_t
    ctx.blk1[rows] = ctx.start + day1 * DAY
    rate = np.clip(rng.gamma(6.0, 70 / 6.0, m), 30, 150)
    sub, day = _daily(rng, rows, ctx.attack_rates(day0, day1, rate))
    t = ctx.times(rng, day, _C_FLAT)
    dest = _pick(
        rng, sub.size, [(_HIGH, 0.5), (_INTL_C, 0.25), (_INTL_B, 0.15), (np.array([_IN]), 0.1)]
    )
    calls = ctx.events(
        rng,
        sub,
        t,
        _VOICE,
        _OUT,
        cp=_numbers(dest, rng.integers(0, 2**62, sub.size)),
        dest=dest,
        duration=_lognormal_int(rng, 900.0, 0.7, 60, 3600, sub.size),
        roaming=True,
    )
    sub, day = _daily(rng, rows, ctx.attack_rates(day0, day1, np.full(m, 2.0)))
    t = ctx.times(rng, day, _C_DATA)
    dur = _lognormal_int(rng, 600.0, 1.0, 5, 14_400, sub.size)
    data = ctx.events(
        rng,
        sub,
        t,
        _DATA,
        _OUT,
        duration=dur,
        volume=(dur * np.exp(rng.normal(np.log(5_000), 0.8, sub.size))).astype(np.int64),
        roaming=True,
    )
    return [calls, data]


_FRAUD_GENERATORS = {
    FraudKind.SIM_BOX: _sim_box,
    FraudKind.IRSF: _irsf,
    FraudKind.SMS_PUMPING: _sms_pumping,
    FraudKind.SUBSCRIPTION_FRAUD: _subscription_fraud,
    FraudKind.ACCOUNT_TAKEOVER: _account_takeover,
    FraudKind.ROAMING_FRAUD: _roaming_fraud,
}


# -- ordinary usage --------------------------------------------------------------------------


def _ordinary_setup(
    rng: np.random.Generator, ctx: _Ctx, enterprise: np.ndarray, fraud: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Profiles, per-channel daily rates (n x 7) and day weights (n x days)."""
    n, days = ctx.n, ctx.days
    share = _PROFILE_SHARE / _PROFILE_SHARE.sum()
    drawn = rng.random(n)  # drawn even with traits, so the rest of the stream is the same
    prof = np.searchsorted(
        np.cumsum(share), drawn if ctx.traits is None else _trait(ctx.traits, 3), side="right"
    )
    prof = np.minimum(prof, len(share) - 1)
    prof = np.where(fraud & (prof == _TRAVELLER), _HEAVY, prof)
    prof = np.where(enterprise, _ENTERPRISE, prof)
    activity = rng.gamma(2.0, 0.5, n)
    if ctx.traits is not None:  # the same gamma(2, 0.5), as the sum of two exponentials
        t = ctx.traits
        activity = -0.5 * (np.log1p(-_trait(t, 11)) + np.log1p(-_trait(t, 12)))
    activity = np.clip(activity, 0.12, 4.0)
    jitter = np.exp(rng.normal(0.0, 0.3, (n, _RATES.shape[1])))
    rates = _RATES[prof] * activity[:, None] * jitter
    rates[:, 1] = (
        rates[:, 0] * (_RATES[prof, 1] / _RATES[prof, 0]) * np.exp(rng.normal(0.0, 0.25, n))
    )
    ctx.profile = prof
    ctx.book_size = np.where(prof == _ENTERPRISE, rng.integers(30, 151, n), rng.integers(3, 13, n))
    n_gulf = rng.integers(1, 3, n)
    ctx.gulf_dest = _GULF[rng.integers(0, _GULF.size, (n, 2))]
    ctx.gulf_h = rng.integers(0, 2**62, (n, 2))
    if ctx.traits is not None:
        t = ctx.traits
        ctx.book_size = np.where(
            prof == _ENTERPRISE,
            30 + (_trait(t, 4) * 121).astype(np.int64),
            3 + (_trait(t, 5) * 10).astype(np.int64),
        )
        n_gulf = 1 + (_trait(t, 6) < 0.5)
        ctx.gulf_dest = _GULF[(np.stack([_trait(t, 7), _trait(t, 8)], 1) * _GULF.size).astype(int)]
        gulf = np.stack([_mix(t ^ np.uint64(9)), _mix(t ^ np.uint64(10))], 1)
        ctx.gulf_h = (gulf >> np.uint64(2)).astype(np.int64)  # as drawn: below 2**62
    ctx.gulf_dest[:, 1] = np.where(n_gulf == 2, ctx.gulf_dest[:, 1], ctx.gulf_dest[:, 0])
    ctx.gulf_h[:, 1] = np.where(n_gulf == 2, ctx.gulf_h[:, 1], ctx.gulf_h[:, 0])

    # Trips abroad for travellers.
    trav = np.flatnonzero((prof == _TRAVELLER) & ctx.active)
    length = rng.integers(3, 9, trav.size)
    first = ctx.first_day[trav]
    d0 = first + (rng.random(trav.size) * np.maximum(days - length - first, 1)).astype(np.int64)
    d0 = np.minimum(d0, days - 1)
    ctx.trip0[trav] = ctx.start + d0 * DAY + rng.integers(0, 14 * 3600, trav.size)
    ctx.trip1[trav] = np.minimum(ctx.trip0[trav] + length * DAY, ctx.end)

    # Device upgrades.
    upg = np.flatnonzero(ctx.active & ~fraud & (rng.random(n) < 0.05) & (ctx.first_day < days - 1))
    d = (
        ctx.first_day[upg]
        + 1
        + (rng.random(upg.size) * (days - 1 - ctx.first_day[upg])).astype(np.int64)
    )
    d = np.minimum(d, days - 1)
    ctx.sw_t[upg] = ctx.start + d * DAY + rng.integers(0, DAY, upg.size)
    ctx.sw_imei[upg] = ctx.add_imeis(_new_imeis(rng, ctx.start_imei[upg]))

    # Day weights: active days, weekday pattern for business lines, blocked whole days.
    dd = np.arange(days)
    weekday = (ctx.start // DAY + dd + 3) % 7  # 1970-01-01 was a Thursday
    weekend = weekday >= 5
    weights = (dd >= ctx.first_day[:, None]).astype(np.float64)
    weights[(prof == _ENTERPRISE)[:, None] & weekend[None, :]] *= 0.3
    day_start = ctx.start + dd * DAY
    blocked = (day_start[None, :] >= ctx.blk0[:, None]) & (
        day_start[None, :] + DAY <= ctx.blk1[:, None]
    )
    weights[blocked] = 0.0
    return prof, rates, weights


def _contacts(
    rng: np.random.Generator,
    ctx: _Ctx,
    sub: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Counterparts for ordinary calls/SMS: contact book mostly, random numbers otherwise."""
    k = sub.size
    prof = ctx.profile[sub]
    u = rng.random(k)
    book = rng.random(k) < _P_BOOK[prof]
    slot = (ctx.book_size[sub] * u * u).astype(np.uint64)  # the first contacts most often
    h_book = _nonneg(_mix(ctx.key[sub] ^ (slot * _GOLD)))
    intl = ~book & (rng.random(k) < _P_INTL[prof])
    dest = np.full(k, _IN, dtype=np.int64)
    ni = int(intl.sum())
    if ni:
        use_b = rng.random(ni) < _P_INTL_B[prof[intl]]
        ua = rng.random(ni)
        dest[intl] = np.where(
            use_b,
            _INTL_B[(ua * _INTL_B.size).astype(np.int64)],
            _INTL_A[(ua * _INTL_A.size).astype(np.int64)],
        )
    h = np.where(book, h_book, rng.integers(0, 2**62, k))
    return _numbers(dest, h), dest


def _ordinary(
    rng: np.random.Generator, ctx: _Ctx, rates: np.ndarray, weights: np.ndarray, scale: float
) -> tuple[list[_Events], list[np.ndarray]]:
    """Ordinary usage per channel, with a keep-mask per part (False: suppressed)."""
    prof = ctx.profile
    parts: list[_Events] = []
    for ch in range(rates.shape[1]):
        rows = np.flatnonzero(rates[:, ch] > 0)
        lam = (scale * rates[rows, ch])[:, None] * weights[rows]
        sub, day = _daily(rng, rows, lam)
        k = sub.size
        p = prof[sub]
        if ch in (0, 1):  # voice
            t = ctx.times(rng, day, _VOICE_CURVE[p])
            cp, dest = _contacts(rng, ctx, sub)
            dur = _lognormal_int(rng, _VOICE_MEDIAN_S[p], 1.0, 3, 5400, k)
            parts.append(ctx.events(rng, sub, t, _VOICE, ch, cp=cp, dest=dest, duration=dur))
        elif ch in (2, 3):  # sms
            t = ctx.times(rng, day, _VOICE_CURVE[p])
            cp, dest = _contacts(rng, ctx, sub)
            parts.append(ctx.events(rng, sub, t, _SMS, ch - 2, cp=cp, dest=dest))
        elif ch == 4:  # data
            t = ctx.times(rng, day, _DATA_CURVE_OF[p])
            heavy = p == _DATA_HEAVY
            dur = _lognormal_int(rng, np.where(heavy, 1200.0, 600.0), 1.0, 5, 14_400, k)
            rate = np.exp(rng.normal(np.where(heavy, np.log(120_000), np.log(20_000)), 0.8))
            parts.append(
                ctx.events(
                    rng, sub, t, _DATA, _OUT, duration=dur, volume=(dur * rate).astype(np.int64)
                )
            )
        else:  # calls to / from family in the Gulf
            t = ctx.times(rng, day, _C_CONSUMER)
            which = (rng.random(k) < 0.35).astype(np.int64)
            dest = ctx.gulf_dest[sub, which]
            cp = _numbers(dest, ctx.gulf_h[sub, which])
            dur = _lognormal_int(rng, 700.0, 0.6, 60, 5400, k)
            parts.append(ctx.events(rng, sub, t, _VOICE, ch - 5, cp=cp, dest=dest, duration=dur))
    keeps: list[np.ndarray] = []
    for ev in parts:
        # The owner's usage stops while the line is in a fraudster's hands (dropped later).
        keeps.append(~((ev.t >= ctx.blk0[ev.sub]) & (ev.t < ctx.blk1[ev.sub])))
        # Travellers: everything during the trip is on a visited network.
        trip = np.flatnonzero((ev.t >= ctx.trip0[ev.sub]) & (ev.t < ctx.trip1[ev.sub]))
        if trip.size:
            ev.fcell[trip] = ctx.foreign_cells(rng, ev.sub[trip])
            ev.cell[trip] = -1
            ev.volume[trip] = ev.volume[trip] * 3 // 10
    return parts, keeps


# -- entry point -----------------------------------------------------------------------------


def generate_usage(
    rng: np.random.Generator,
    subscribers: Subscribers,
    cells_by_region: list[np.ndarray],
    window_start_epoch: int,
    days: int = 30,
    records_per_subscriber: float = 110.0,
    fraud_share: float = 0.015,
) -> UsageBatch:
    """`days` days of usage for `subscribers`, sorted by (started_at, subscription_id)."""
    n = int(np.asarray(subscribers.subscription_id).size)
    for name in ("msisdn", "imei", "enterprise", "region", "activated_day"):
        if np.asarray(getattr(subscribers, name)).size != n:
            raise ValueError(f"Subscribers.{name} has not {n} entries")
    if days < 1:
        raise ValueError("days must be at least 1")
    if records_per_subscriber < 0 or not 0 <= fraud_share <= 1:
        raise ValueError("records_per_subscriber must be >= 0 and fraud_share in [0, 1]")
    start = int(window_start_epoch)
    ctx = _Ctx(rng, subscribers, cells_by_region, start, days)
    sid = np.asarray(subscribers.subscription_id, dtype=np.int64)

    # Fraud first: it changes handsets, cells and the owner's background usage.
    chosen = _choose_fraudsters(rng, ctx, fraud_share) if fraud_share > 0 else {}
    since = np.full(n, _NEVER, dtype=np.int64)
    fraud_parts: list[_Events] = []
    for kind in _KINDS:
        rows = chosen.get(kind, np.zeros(0, dtype=np.int64))
        fraud_parts += _FRAUD_GENERATORS[kind](rng, ctx, rows, since)
    fraud = since != _NEVER
    target = n * float(records_per_subscriber)
    f_ev = _Events.concat(fraud_parts) if fraud_parts else None
    if f_ev is not None:
        keep = (f_ev.t >= since[f_ev.sub]) & (f_ev.t < ctx.end)
        f_ev = f_ev.take(np.flatnonzero(keep))
        if f_ev.t.size > 0.5 * target:
            f_ev = f_ev.take(np.flatnonzero(rng.random(f_ev.t.size) < 0.5 * target / f_ev.t.size))
    n_fraud_rec = 0 if f_ev is None else f_ev.t.size

    _, rates, weights = _ordinary_setup(rng, ctx, np.asarray(subscribers.enterprise, bool), fraud)
    expected = float((rates * weights.sum(axis=1)[:, None]).sum())
    scale = max(target - n_fraud_rec, 0.0) / expected if expected > 0 else 0.0
    parts, keeps = _ordinary(rng, ctx, rates, weights, scale)
    if f_ev is not None:
        parts.append(f_ev)
        keeps.append(np.ones(f_ev.t.size, dtype=bool))
    ev = _Events.concat(parts)
    kept = np.flatnonzero(np.concatenate(keeps))
    del parts, keeps, f_ev

    # Sort by (started_at, subscription_id); stable, so equal keys keep generation order.
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(sid, kind="stable")] = np.arange(n)
    key = (ev.t[kept] - start) * max(n, 1) + rank[ev.sub[kept]]
    ev = ev.take(kept[np.argsort(key, kind="stable")])

    imei_table = ctx.start_imei
    if ctx.new_imeis:
        extra = np.concatenate(ctx.new_imeis)
        imei_table = np.concatenate([imei_table, _digits_str(extra, np.full(extra.size, 15), 15)])
    final = np.where(ctx.sw_t < ctx.end, ctx.sw_imei, np.arange(n))

    labels = sorted(
        (int(sid[i]), kind.value, int(since[i]))
        for kind, rows in chosen.items()
        for i in rows.tolist()
    )
    columns = {
        "subscription_id": sid[ev.sub],
        "started_at": ev.t,
        "service": _SERVICE_NAMES[ev.service],
        "direction": _DIRECTION_NAMES[ev.direction],
        "counterpart": _digits_str(ev.cp, _DEST_LEN[ev.dest]),
        "counterpart_country": _DEST_CC[ev.dest],
        "duration_s": ev.duration,
        "volume_bytes": ev.volume,
        "cell_id": _cell_ids(cells_by_region, ev.cell, ev.fcell),
        "imei": imei_table[ev.imei],
        "roaming": ev.fcell >= 0,
    }
    return UsageBatch(columns=columns, labels=labels, final_imei=imei_table[final])


def _cell_ids(cells_by_region: list[np.ndarray], cell: np.ndarray, fcell: np.ndarray) -> np.ndarray:
    home = np.concatenate([np.asarray(c, dtype=str) for c in cells_by_region] + [np.array([""])])
    roam = np.flatnonzero(fcell >= 0)
    width = max(home.dtype.itemsize // 4, 1)
    if roam.size:
        # Foreign cells "CC-MCC-MNC-CELL", built once per distinct cell.
        codes, inverse = np.unique(fcell[roam], return_inverse=True)
        rc = codes // 10**7
        parts = (
            _RC_CC[rc],
            "-",
            _RC_MCC[rc],
            "-",
            _digits_str(codes // 10**5 % 100, np.full(codes.size, 2), 2),
            "-",
            _digits_str(codes % 10**5, np.full(codes.size, 5), 5),
        )
        foreign = parts[0]
        for p in parts[1:]:
            foreign = np.strings.add(foreign, p)
        width = max(width, int(np.strings.str_len(foreign).max()))
    out = home.astype(f"<U{width}")[np.where(cell >= 0, cell, home.size - 1)]
    if roam.size:
        out[roam] = foreign[inverse]
    return out
