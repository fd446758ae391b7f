"""An independent usage "world" to judge the fraud model on: not the generator it trained on.

`domain.demo.usage` is the generator the model learns from. This module is a second one,
written apart from it (its own code, its own constants, only the reference tables and the
usage interchange's columns in common), so that a model judged here is judged on data it
was not shaped by. `WorldParams.draw(rng)` re-draws every constant per seed (rates,
durations, hourly and weekday curves, contact-book sizes, answer rates, how many lines of
each profile, the base rate of fraud, the intensities), so no model can learn one
generator's numbers. `world(lines, seed)` returns a `World`: the usage frame (the
interchange's columns, via `frame_from_columns`), labels `subscriber,kind,since` like the
demo's, each line's profile and each fraudulent line's intensity.

Ordinary profiles, several of them built to look like fraud (the look-alikes):

* light / heavy users: a contact book called most, some random numbers, SMS, data.
* contact_centre: hundreds of short outgoing calls a day from one site, but answered,
  customers calling in, weekdays and business hours only, each SIM its own handset.
* m2m: IoT SIMs, data or SMS only, one cell, a fleet sharing one module TAC.
* migrant_worker: a long call most days to one or two numbers in the Gulf, Nepal or
  Bangladesh, and calls back.
* traveller: a trip of a few days abroad (roaming), calling home; student_abroad: roaming
  all week, calling home, heavy data.
* enterprise_pbx: groups of SIMs at one site, business hours on weekdays, many numbers,
  a share of them international.
* household: 2-4 SIMs taking turns in one handset (one IMEI).
* night_shift: everything at night, incoming too.

Fraud, about 0.2-1% of lines (`WorldParams.fraud_rate`), each `FraudKind` at an intensity
from `INTENSITIES`: "blatant" at the volumes fraud desks read about, down to "camouflaged",
a few fraudulent records a day blended into the line's own ordinary calls, SMS and data.
Kinds the model was never told about (`UNKNOWN_KINDS`: wangiri callback lures, hacked-PBX
call forwarding, an SMS spam SIM farm) join a world when named in `held_out`.
Everything is drawn column-wise with NumPy: a week of 20,000 lines takes a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import polars as pl

from domain.catalog.choices import Zone
from domain.demo.reference import CIRCLES, DESTINATIONS, HANDSET_TACS, ROAMING_COUNTRIES
from domain.fraud.choices import FraudKind
from models.fraud.usage_csv import frame_from_columns

DAY = 86_400
_LOCAL = 19_800  # India's UTC offset: the curves are in local hours
#: Monday 2026-11-02 00:00 local time, as UTC epoch seconds.
WORLD_START = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp()) - _LOCAL

ORDINARY = (
    "light",
    "heavy",
    "contact_centre",
    "m2m",
    "migrant_worker",
    "traveller",
    "student_abroad",
    "enterprise_pbx",
    "household",
    "night_shift",
)
#: Ordinary profiles that resemble fraud.
LOOKALIKES = ORDINARY[2:]
KNOWN_KINDS = tuple(k.value for k in FraudKind)
#: Kinds no training label names: any of them is "held out" of every model.
UNKNOWN_KINDS = ("wangiri", "pbx_hacking", "sms_farm")
INTENSITIES = ("blatant", "moderate", "quiet", "camouflaged")
#: Volume of each intensity relative to blatant (times a per-world factor).
_INTENSITY_SCALE = np.array([1.0, 0.35, 0.12, 0.04])
#: Intensities that keep the line's own ordinary usage under the fraud.
_BLENDED = {"quiet", "camouflaged"}

_V, _S, _D = 0, 1, 2
_OUT, _IN = 0, 1
_CC = np.array([d.country for d in DESTINATIONS])
_PREFIX = np.array([d.prefix for d in DESTINATIONS])
_HOME = int(np.flatnonzero(_CC == "IN")[0])
_GULF = np.flatnonzero(np.isin(_CC, ["AE", "SA", "QA", "KW", "OM"]))
_HOME_OF_MIGRANTS = np.flatnonzero(np.isin(_CC, ["AE", "SA", "QA", "KW", "OM", "NP", "BD"]))
_HIGH = np.array([i for i, d in enumerate(DESTINATIONS) if d.high_cost])
_ZONE_C = np.array([i for i, d in enumerate(DESTINATIONS) if d.zone == Zone.INTL_C])
_ABROAD = np.array([i for i, d in enumerate(DESTINATIONS) if d.country != "IN"])
_COSTLY = np.concatenate([_HIGH, _ZONE_C])
#: Roaming countries students go to.
_STUDY = np.flatnonzero(np.isin([c for c, _ in ROAMING_COUNTRIES], ["GB", "US", "DE", "SG"]))


def _bump(hours: np.ndarray, centre: float, width: float) -> np.ndarray:
    d = np.minimum(np.abs(hours - centre), 24 - np.abs(hours - centre))
    return np.exp(-0.5 * (d / width) ** 2)


@dataclass(frozen=True)
class WorldParams:
    """Every constant of one world; `draw` makes a fresh set per seed."""

    #: Share of lines of each ordinary profile (ORDINARY order).
    profile_shares: np.ndarray
    #: Share of lines that are fraudulent.
    fraud_rate: float
    #: Share of fraudulent lines at each intensity (INTENSITIES order).
    intensity_shares: np.ndarray
    #: Per-day rates (voice out, voice in, SMS out, SMS in, data sessions) per profile.
    rates: np.ndarray
    #: Median call seconds per profile, and the lognormal spread of durations.
    call_median_s: np.ndarray
    call_spread: float
    #: Share of outgoing calls answered (unanswered ones last 0 s) per profile.
    answer_rate: np.ndarray
    #: Mean contact-book size and share of calls to it, per profile.
    book_size: np.ndarray
    book_share: np.ndarray
    #: Share of an enterprise PBX's outgoing calls that go abroad.
    pbx_intl_share: float
    #: Hour-of-day curves (local time, sum 1): consumer, business, night, flat.
    curves: np.ndarray
    #: Weekday factors Monday..Sunday: consumer, business.
    weekdays: np.ndarray
    #: Data session median MB.
    data_mb: float
    #: Blatant volumes per kind (a rate a day, or the kind's own unit) times this factor.
    fraud_volume: dict[str, float] = field(default_factory=dict)
    #: Overall fraud intensity factor of the world.
    intensity: float = 1.0

    @classmethod
    def draw(cls, rng: np.random.Generator) -> WorldParams:
        """A fresh set of constants: nothing here is the same from one seed to another."""
        h = np.arange(24, dtype=float)

        def curve(centres: list[tuple[float, float, float]], floor: float) -> np.ndarray:
            c = np.full(24, floor)
            for m, s, w in centres:
                c += w * _bump(h, m + rng.normal(0, 0.7), s)
            return c / c.sum()

        curves = np.array(
            [
                curve([(11, 2.5, 1.0), (20, 2.0, rng.uniform(0.8, 1.5))], rng.uniform(0.01, 0.05)),
                curve([(11.5, rng.uniform(2.2, 3.2), 1.0)], rng.uniform(0.0, 0.01)),
                curve([(rng.uniform(0, 3), rng.uniform(2.0, 3.0), 1.0)], rng.uniform(0.01, 0.04)),
                np.full(24, 1 / 24),
            ]
        )
        weekend = rng.uniform(0.75, 1.25)
        office_weekend = rng.uniform(0.0, 0.25)
        weekdays = np.array(
            [
                [1.0] * 5 + [weekend] * 2,
                [1.0] * 5 + [office_weekend, office_weekend * 0.5],
            ]
        ) * rng.uniform(0.9, 1.1, (2, 7))
        base_rates = np.array(
            [
                [2.0, 2.0, 1.0, 1.5, 3.0],  # light
                [7.0, 6.0, 4.0, 5.0, 12.0],  # heavy
                [260.0, 30.0, 0.3, 0.3, 0.0],  # contact_centre
                [0.0, 0.0, 8.0, 1.0, 24.0],  # m2m (each SIM uses SMS or data, not both)
                [1.5, 1.5, 1.0, 1.5, 2.0],  # migrant_worker (plus the calls home)
                [2.5, 2.0, 1.0, 1.5, 4.0],  # traveller
                [1.0, 1.5, 0.5, 1.0, 15.0],  # student_abroad
                [14.0, 9.0, 2.0, 2.0, 3.0],  # enterprise_pbx
                [2.0, 2.0, 1.0, 1.5, 3.0],  # household
                [5.0, 5.0, 2.0, 3.0, 8.0],  # night_shift
            ]
        )
        # About half the volumes above: a week of an ordinary line is a few dozen records.
        rates = 0.5 * base_rates * np.exp(rng.normal(0, 0.3, base_rates.shape))
        shares = np.array([0.55, 0.18, 0.006, 0.04, 0.05, 0.03, 0.008, 0.04, 0.04, 0.05])
        shares = shares * np.exp(rng.normal(0, 0.35, len(shares)))
        intensity_shares = rng.dirichlet([3.0, 3.0, 3.0, 3.0])
        volume = {
            "sim_box": rng.uniform(150, 500),
            "irsf": rng.uniform(15, 80),
            "sms_pumping": rng.uniform(80, 300),  # SMS per burst, 1-3 bursts a day
            "subscription_fraud": rng.uniform(15, 90),
            "account_takeover": rng.uniform(12, 80),
            "roaming_fraud": rng.uniform(30, 150),
            "wangiri": rng.uniform(200, 900),
            "pbx_hacking": rng.uniform(20, 120),  # per night
            "sms_farm": rng.uniform(60, 400),
        }
        return cls(
            profile_shares=shares / shares.sum(),
            fraud_rate=float(rng.uniform(0.002, 0.01)),
            intensity_shares=intensity_shares,
            rates=rates,
            call_median_s=np.array([60, 80, 70, 0, 110, 70, 300, 90, 60, 75], dtype=float)
            * np.exp(rng.normal(0, 0.25, len(ORDINARY))),
            call_spread=float(rng.uniform(0.7, 1.2)),
            answer_rate=np.clip(
                np.array([0.85, 0.85, 0.65, 1, 0.9, 0.85, 0.85, 0.8, 0.85, 0.85])
                + rng.normal(0, 0.05, len(ORDINARY)),
                0.4,
                0.98,
            ),
            book_size=np.array([8, 25, 5, 1, 10, 10, 8, 150, 8, 15], dtype=float)
            * np.exp(rng.normal(0, 0.3, len(ORDINARY))),
            book_share=np.clip(
                np.array([0.8, 0.75, 0.05, 1.0, 0.85, 0.8, 0.9, 0.5, 0.8, 0.75])
                + rng.normal(0, 0.05, len(ORDINARY)),
                0.0,
                1.0,
            ),
            pbx_intl_share=float(rng.uniform(0.04, 0.2)),
            curves=curves,
            weekdays=weekdays,
            data_mb=float(rng.uniform(5, 40)),
            fraud_volume=volume,
            intensity=float(np.exp(rng.normal(0, 0.25))),
        )


@dataclass
class World:
    """One generated week: usage, labels and what each line is."""

    frame: pl.DataFrame
    #: `subscriber,kind,since` for each fraudulent line (since: epoch seconds).
    labels: pl.DataFrame
    #: subscriber, profile (its ordinary profile), kind ("" if ordinary), intensity.
    lines: pl.DataFrame
    params: WorldParams
    seed: int
    days: int


class _Records:
    """Column chunks of records, concatenated once at the end."""

    def __init__(self) -> None:
        self.chunks: list[dict[str, np.ndarray]] = []

    def add(self, line: np.ndarray, t: np.ndarray, **cols: object) -> None:
        n = len(line)
        if n == 0:
            return
        c = {"line": line, "t": t}
        defaults: dict[str, object] = {
            "service": _V,
            "direction": _OUT,
            "dest": -1,
            "number": 0,
            "duration": 0,
            "volume": 0,
            "cell": -1,
            "imei": -1,
            "roam_cc": -1,
        }
        for k, d in defaults.items():
            c[k] = np.broadcast_to(np.asarray(cols.get(k, d)), (n,)).astype(np.int64)
        self.chunks.append(c)

    def column(self, name: str) -> np.ndarray:
        return np.concatenate([c[name] for c in self.chunks])


class _Gen:
    """The drawing state of one world."""

    def __init__(self, n: int, days: int, params: WorldParams, rng: np.random.Generator):
        self.n, self.days, self.p, self.rng = n, days, params, rng
        self.rec = _Records()
        r = rng
        self.msisdn = 6_000_000_000 + r.choice(4_000_000_000, n, replace=False)
        weights = np.array([c.weight for c in CIRCLES])
        self.region = r.choice(len(CIRCLES), n, p=weights / weights.sum())
        self.site = r.integers(0, 3000, n)  # home site within the region
        self.n_cells = r.integers(1, 6, n)
        tacs = np.array([int(t) for t in HANDSET_TACS])[r.integers(0, len(HANDSET_TACS), n)]
        self.imei = tacs * 10**7 + r.integers(0, 10**7, n)
        self.profile = np.zeros(n, dtype=np.int64)
        self.kind = np.full(n, "", dtype=object)
        self.intensity = np.full(n, "", dtype=object)
        self.since = np.zeros(n, dtype=np.int64)
        #: Each line's ordinary usage happens in [bg_from, bg_to).
        self.bg_from = np.full(n, WORLD_START, dtype=np.int64)
        self.bg_to = np.full(n, WORLD_START + days * DAY, dtype=np.int64)
        self.end = WORLD_START + days * DAY

    # -- drawing helpers -------------------------------------------------------------------

    def times(
        self, lines: np.ndarray, rate: np.ndarray | float, curve: int, weekday: int | None = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """(line, t) of events at `rate` a day per line, by hour curve and weekday factors."""
        rates = np.broadcast_to(np.asarray(rate, dtype=float), lines.shape)
        d = np.tile(np.arange(self.days), len(lines))
        li = np.repeat(lines, self.days)
        lam = np.repeat(rates, self.days)
        if weekday is not None:
            lam = lam * self.p.weekdays[weekday][d % 7]
        k = self.rng.poisson(lam)
        li, d = np.repeat(li, k), np.repeat(d, k)
        cdf = np.cumsum(self.p.curves[curve])
        hour = np.minimum(np.searchsorted(cdf, self.rng.random(len(li))), 23)
        t = WORLD_START + d * DAY + hour * 3600 + self.rng.integers(0, 3600, len(li))
        return li, t

    def cell(self, lines: np.ndarray) -> np.ndarray:
        """A home cell per event: the first home site most, a sector of it."""
        k = np.minimum(self.rng.geometric(0.55, len(lines)) - 1, self.n_cells[lines] - 1)
        sector = self.rng.integers(0, 3, len(lines))
        return (self.region[lines] * 10_000 + (self.site[lines] + k) % 10_000) * 10 + sector

    def book(self, lines: np.ndarray, size: np.ndarray) -> np.ndarray:
        """A number from each line's contact book, the first entries called most."""
        k = np.floor(size * self.rng.random(len(lines)) ** 2.2).astype(np.int64)
        h = (lines.astype(np.int64) * 2_654_435_761 + k * 40_503 + 12_345) % 4_000_000_000
        return 6_000_000_000 + h

    def random_in(self, m: int) -> np.ndarray:
        return 6_000_000_000 + self.rng.integers(0, 4_000_000_000, m)

    def random_abroad(self, m: int) -> np.ndarray:
        return 100_000_000 + self.rng.integers(0, 900_000_000, m)

    def durations(
        self, median: np.ndarray | float, m: int, spread: float | None = None
    ) -> np.ndarray:
        s = self.p.call_spread if spread is None else spread
        return np.maximum(np.round(self.rng.lognormal(np.log(median), s, m)), 1).astype(np.int64)

    # -- ordinary usage ----------------------------------------------------------------------

    def ordinary(self, lines: np.ndarray, prof: int, curve: int, weekday: int = 0) -> None:
        """Voice, SMS and data of lines of one profile at its rates, to its contact book."""
        p, r = self.p, self.rng
        rates = p.rates[prof] * np.exp(r.normal(0, 0.4, (len(lines), 1)))  # per-line activity
        book = np.maximum(np.round(p.book_size[prof] * np.exp(r.normal(0, 0.5, len(lines)))), 1)
        size = np.zeros(self.n)
        size[lines] = book
        for col, service, direction in ((0, _V, _OUT), (1, _V, _IN), (2, _S, _OUT), (3, _S, _IN)):
            li, t = self.times(lines, rates[:, col], curve, weekday)
            m = len(li)
            known = r.random(m) < p.book_share[prof]
            number = np.where(known, self.book(li, size[li]), self.random_in(m))
            dur: np.ndarray | int = 0
            if service == _V:
                dur = self.durations(p.call_median_s[prof], m)
                if direction == _OUT:
                    dur = np.where(r.random(m) < p.answer_rate[prof], dur, 0)
            self.keep(
                li,
                t,
                service=service,
                direction=direction,
                dest=_HOME,
                number=number,
                duration=dur,
                cell=self.cell(li),
                imei=self.imei[li],
            )
        li, t = self.times(lines, rates[:, 4], 3 if curve == 3 else (2 if curve == 2 else 0))
        vol = np.round(r.lognormal(np.log(p.data_mb * 1e6), 1.0, len(li))).astype(np.int64)
        self.keep(
            li,
            t,
            service=_D,
            direction=_OUT,
            volume=vol,
            duration=r.integers(30, 3600, len(li)),
            cell=self.cell(li),
            imei=self.imei[li],
        )

    def keep(self, li: np.ndarray, t: np.ndarray, **cols: object) -> None:
        """Add ordinary records, only those inside each line's ordinary span."""
        ok = (t >= self.bg_from[li]) & (t < self.bg_to[li])
        self.rec.add(
            li[ok],
            t[ok],
            **{k: (v[ok] if isinstance(v, np.ndarray) else v) for k, v in cols.items()},
        )

    def calls(
        self,
        li: np.ndarray,
        t: np.ndarray,
        dest: np.ndarray | int,
        number: np.ndarray,
        duration: np.ndarray,
        direction: int = _OUT,
        **cols: object,
    ) -> None:
        cols.setdefault("cell", self.cell(li))
        cols.setdefault("imei", self.imei[li])
        self.rec.add(
            li,
            t,
            service=_V,
            direction=direction,
            dest=dest,
            number=number,
            duration=duration,
            **cols,
        )


def _assign_profiles(g: _Gen) -> None:
    g.profile = g.rng.choice(len(ORDINARY), g.n, p=g.p.profile_shares)


def _ordinary_usage(g: _Gen) -> None:
    p, r, n = g.p, g.rng, g.n
    idx = {name: np.flatnonzero(g.profile == i) for i, name in enumerate(ORDINARY)}
    for name in ("light", "heavy", "migrant_worker", "household"):
        g.ordinary(idx[name], ORDINARY.index(name), curve=0)
    g.ordinary(idx["night_shift"], ORDINARY.index("night_shift"), curve=2)

    # Contact centres: one site, each SIM its own handset, weekdays, answered calls, customers
    # calling in. Their "book" is the callback list: mostly fresh numbers.
    cc = idx["contact_centre"]
    g.n_cells[cc] = 1
    g.ordinary(cc, ORDINARY.index("contact_centre"), curve=1, weekday=1)

    # Enterprise PBX groups: 5-40 SIMs at one site, business hours, a share abroad.
    pbx = idx["enterprise_pbx"]
    if len(pbx):
        group = np.cumsum(r.random(len(pbx)) < 1 / r.uniform(5, 40))
        first = pbx[np.searchsorted(group, group)]
        g.site[pbx], g.region[pbx] = g.site[first], g.region[first]
        g.n_cells[pbx] = np.minimum(g.n_cells[pbx], 2)
        g.ordinary(pbx, ORDINARY.index("enterprise_pbx"), curve=1, weekday=1)
        li, t = g.times(pbx, p.rates[ORDINARY.index("enterprise_pbx"), 0] * p.pbx_intl_share, 1, 1)
        dest = r.choice(_ABROAD[~np.isin(_ABROAD, _HIGH)], len(li))
        ok = (t >= g.bg_from[li]) & (t < g.bg_to[li])
        li, t, dest = li[ok], t[ok], dest[ok]
        g.calls(
            li,
            t,
            dest,
            100_000_000 + (li * 7_919 + r.integers(0, 12, len(li))) % 900_000_000,
            g.durations(150.0, len(li)),
        )

    # M2M: one cell, a fleet TAC (not a handset's), data or SMS only.
    m2m = idx["m2m"]
    if len(m2m):
        fleet = r.integers(0, max(len(m2m) // 50, 1), len(m2m))
        fleet_tac = 35_000_000 + r.integers(0, 999_999, fleet.max() + 1)
        g.imei[m2m] = fleet_tac[fleet] * 10**7 + r.integers(0, 10**7, len(m2m))
        g.n_cells[m2m] = 1
        sms = r.random(len(m2m)) < 0.4
        prof = ORDINARY.index("m2m")
        li, t = g.times(m2m[sms], p.rates[prof, 2], 3, None)
        g.keep(
            li,
            t,
            service=_S,
            direction=_OUT,
            dest=_HOME,
            number=6_000_000_000 + (fleet[np.searchsorted(m2m, li)] * 97) % 1000,
            cell=g.cell(li),
            imei=g.imei[li],
        )
        li, t = g.times(m2m[~sms], p.rates[prof, 4], 3, None)
        g.keep(
            li,
            t,
            service=_D,
            volume=np.round(r.lognormal(np.log(2e5), 0.8, len(li))),
            duration=r.integers(5, 120, len(li)),
            cell=g.cell(li),
            imei=g.imei[li],
        )

    # Migrant workers: a long call home most days, and calls back.
    mw = idx["migrant_worker"]
    if len(mw):
        home = _HOME_OF_MIGRANTS[r.integers(0, len(_HOME_OF_MIGRANTS), len(mw))]
        dest_of = np.zeros(n, dtype=np.int64)
        dest_of[mw] = home
        for direction, rate in ((_OUT, r.uniform(0.5, 1.2)), (_IN, r.uniform(0.3, 0.9))):
            li, t = g.times(mw, rate, 0)
            num = 100_000_000 + (li * 31 + r.integers(0, 2, len(li))) % 900_000_000
            ok = (t >= g.bg_from[li]) & (t < g.bg_to[li])
            g.calls(
                li[ok],
                t[ok],
                dest_of[li[ok]],
                num[ok],
                g.durations(r.uniform(600, 1800), int(ok.sum()), 0.6),
                direction,
            )

    # Travellers (a trip of 2-6 days) and students (the whole week) roam, calling home.
    for name in ("traveller", "student_abroad"):
        lines = idx[name]
        if not len(lines):
            continue
        if name == "traveller":
            start = r.integers(0, g.days, len(lines))
            length = r.integers(2, 7, len(lines))
            country = r.integers(0, len(ROAMING_COUNTRIES), len(lines))
        else:
            start = np.zeros(len(lines), dtype=np.int64)
            length = np.full(len(lines), g.days)
            country = _STUDY[r.integers(0, len(_STUDY), len(lines))]
        before = len(g.rec.chunks)
        g.ordinary(lines, ORDINARY.index(name), curve=0)
        t0 = np.zeros(n, dtype=np.int64)
        t1 = np.zeros(n, dtype=np.int64)
        cc = np.full(n, -1)
        t0[lines] = WORLD_START + start * DAY
        t1[lines] = t0[lines] + length * DAY
        cc[lines] = country
        for c in g.rec.chunks[before:]:
            away = (c["t"] >= t0[c["line"]]) & (c["t"] < t1[c["line"]])
            c["roam_cc"] = np.where(away, cc[c["line"]], -1)
            c["cell"] = np.where(away, c["line"] % 97, c["cell"])


# -- fraud ------------------------------------------------------------------------------------


def _episode(
    g: _Gen, lines: np.ndarray, min_days: int, max_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """(since, until) of an episode of min..max days starting inside the window."""
    r = g.rng
    start_day = r.integers(0, max(g.days - 1, 1), len(lines))
    since = WORLD_START + start_day * DAY + r.integers(0, DAY, len(lines))
    until = np.minimum(since + r.integers(min_days, max_days + 1, len(lines)) * DAY, g.end)
    return since, until


def _fraud_times(
    g: _Gen, lines: np.ndarray, rate: np.ndarray, since: np.ndarray, until: np.ndarray, curve: int
) -> tuple[np.ndarray, np.ndarray]:
    li, t = g.times(lines, rate, curve, None)
    s, u = np.zeros(g.n, dtype=np.int64), np.zeros(g.n, dtype=np.int64)
    s[lines], u[lines] = since, until
    ok = (t >= s[li]) & (t < u[li])
    return li[ok], t[ok]


def _inject(g: _Gen, kind: str, lines: np.ndarray, scale: np.ndarray) -> None:
    """Fraud of one kind on `lines`, at `scale` (1 = blatant) of the world's volume."""
    r, p = g.rng, g.p
    vol = p.fraud_volume[kind] * p.intensity * scale
    m = len(lines)
    blended = np.isin(g.intensity[lines], list(_BLENDED))
    if kind == "sim_box":
        since, until = _episode(g, lines, g.days, g.days)
        # Gateways of 3-8 SIMs share one IMEI and one cell; camouflaged ones keep their own.
        size = r.integers(3, 9)
        gate = (np.arange(m) // size) * size
        shared = ~blended
        g.imei[lines[shared]] = g.imei[lines[gate[shared]]]
        g.n_cells[lines[shared]] = 1
        g.site[lines[shared]] = g.site[lines[gate[shared]]]
        g.region[lines[shared]] = g.region[lines[gate[shared]]]
        g.bg_to[lines[~blended]] = since[~blended]
        li, t = _fraud_times(g, lines, vol, since, until, 0)
        g.calls(li, t, _HOME, g.random_in(len(li)), g.durations(r.uniform(90, 200), len(li)))
    elif kind == "irsf":
        since, until = _episode(g, lines, 1, 4)
        li, t = _fraud_times(g, lines, vol, since, until, 2)
        dest = _HIGH[(lines * 13) % len(_HIGH)]
        d = np.zeros(g.n, dtype=np.int64)
        d[lines] = dest
        seq = 100_000_000 + (li * 1_000) % 800_000_000 + g.rng.integers(0, 60, len(li))
        g.calls(li, t, d[li], seq, g.durations(r.uniform(600, 3600), len(li), 0.5))
    elif kind in ("sms_pumping", "sms_farm"):
        since, until = (
            _episode(g, lines, 2, 5)
            if kind == "sms_pumping"
            else _episode(g, lines, g.days, g.days)
        )
        if kind == "sms_pumping":
            bursts, bt = _fraud_times(g, lines, np.full(m, r.uniform(1, 3)), since, until, 3)
            burst_size = np.zeros(g.n)
            burst_size[lines] = vol
            k = r.poisson(burst_size[bursts])
            li = np.repeat(bursts, k)
            t = np.repeat(bt, k) + r.integers(0, r.integers(120, 900), len(li))
            rng_dest = np.zeros(g.n, dtype=np.int64)
            rng_dest[lines] = _COSTLY[r.integers(0, len(_COSTLY), m)]
            dest = rng_dest[li]
            number = 200_000_000 + (li * 10_000) % 700_000_000 + r.integers(0, 400, len(li))
        else:
            g.bg_to[lines] = g.bg_from[lines]  # prepaid SIMs bought for the farm
            farm = (np.arange(m) // 4) * 4
            g.imei[lines] = g.imei[lines[farm]]
            g.n_cells[lines] = 1
            g.site[lines] = g.site[lines[farm]]
            g.region[lines] = g.region[lines[farm]]
            li, t = _fraud_times(g, lines, vol, since, until, 1)
            dest, number = np.full(len(li), _HOME), g.random_in(len(li))
        g.rec.add(
            li,
            t,
            service=_S,
            direction=_OUT,
            dest=dest,
            number=number,
            cell=g.cell(li),
            imei=g.imei[li],
        )
    elif kind == "subscription_fraud":
        since, until = _episode(g, lines, 4, 10)
        g.bg_from[lines] = since  # a new line: nothing before
        g.bg_to[lines[~blended]] = since[~blended]
        li, t = _fraud_times(g, lines, vol, since, until, 0)
        dest = _ABROAD[r.integers(0, len(_ABROAD), len(li))]
        g.calls(li, t, dest, g.random_abroad(len(li)), g.durations(r.uniform(300, 1500), len(li)))
    elif kind == "account_takeover":
        since, until = _episode(g, lines, 2, 5)
        g.bg_to[lines[~blended]] = since[~blended]
        li, t = _fraud_times(g, lines, vol, since, until, 0)
        new_imei = np.array([int(x) for x in HANDSET_TACS])[r.integers(0, len(HANDSET_TACS), g.n)]
        new_imei = new_imei * 10**7 + r.integers(0, 10**7, g.n)
        cell = ((g.region[li] + 3) % len(CIRCLES) * 10_000 + r.integers(0, 3, len(li))) * 10
        dest = _COSTLY[r.integers(0, len(_COSTLY), len(li))]
        g.calls(
            li,
            t,
            dest,
            g.random_abroad(len(li)),
            g.durations(r.uniform(300, 1500), len(li)),
            cell=cell,
            imei=new_imei[li],
        )
    elif kind == "roaming_fraud":
        since, until = _episode(g, lines, 3, 7)
        li, t = _fraud_times(g, lines, vol, since, until, 3)
        country = r.integers(0, len(ROAMING_COUNTRIES), g.n)
        dest = _COSTLY[r.integers(0, len(_COSTLY), len(li))]
        g.calls(
            li,
            t,
            dest,
            g.random_abroad(len(li)),
            g.durations(r.uniform(300, 1500), len(li)),
            cell=li % 97,
            roam_cc=country[li],
        )
    elif kind == "wangiri":
        since, until = _episode(g, lines, 2, g.days)
        g.bg_to[lines[~blended]] = since[~blended]
        li, t = _fraud_times(g, lines, vol, since, until, 3)
        dest = _ABROAD[r.integers(0, len(_ABROAD), len(li))]
        g.calls(li, t, dest, g.random_abroad(len(li)), np.zeros(len(li), dtype=np.int64))
    elif kind == "pbx_hacking":
        # A business line whose PBX forwards bursts of calls abroad on 1-3 nights.
        g.profile[lines] = ORDINARY.index("enterprise_pbx")
        since, until = _episode(g, lines, 1, 3)
        li, t = _fraud_times(g, lines, vol, since, until, 2)
        dest = _COSTLY[r.integers(0, len(_COSTLY), len(li))]
        g.calls(li, t, dest, g.random_abroad(len(li)), g.durations(r.uniform(400, 2000), len(li)))
    else:
        raise ValueError(f"unknown fraud kind {kind!r}")
    g.since[lines] = since


def _fraud(g: _Gen, held_out: str | None) -> None:
    r, p = g.rng, g.p
    kinds = list(KNOWN_KINDS) + ([held_out] if held_out and held_out not in KNOWN_KINDS else [])
    n_fraud = max(round(p.fraud_rate * g.n), len(kinds))
    ordinary_pool = np.flatnonzero(np.isin(g.profile, [0, 1, 9]))  # light, heavy, night
    lines = r.choice(ordinary_pool, n_fraud, replace=False)
    # Every kind present (a held-out one on a fifth of the lines), the rest at random shares.
    fixed = np.arange(len(kinds))
    if held_out:
        more = max(n_fraud // 5 - 1, 0)
        fixed = np.concatenate([fixed, np.full(more, kinds.index(held_out))])
    share = r.dirichlet(np.full(len(kinds), 2.0))
    rest = r.choice(len(kinds), max(n_fraud - len(fixed), 0), p=share)
    which = np.concatenate([fixed, rest])[:n_fraud]
    level = r.choice(len(INTENSITIES), n_fraud, p=p.intensity_shares)
    g.intensity[lines] = np.array(INTENSITIES, dtype=object)[level]
    for k, kind in enumerate(kinds):
        mine = which == k
        g.kind[lines[mine]] = kind
        scale = _INTENSITY_SCALE[level[mine]] * np.exp(r.normal(0, 0.3, int(mine.sum())))
        _inject(g, kind, lines[mine], scale)


def _cell_names(codes: np.ndarray, roam_cc: np.ndarray) -> pl.Series:
    """Cell ids: home cells 'MUM/00412/B', foreign ones 'AE-424/0031'."""
    key = np.where(roam_cc >= 0, -(roam_cc * 1000 + codes % 1000) - 1, codes)
    uniq, inv = np.unique(key, return_inverse=True)
    names = []
    for k in uniq.tolist():
        if k < 0:
            c, cell = divmod(-k - 1, 1000)
            cc, mcc = ROAMING_COUNTRIES[c]
            names.append(f"{cc}-{mcc}/{cell:04d}")
        else:
            site, sector = divmod(k, 10)
            region, s = divmod(site, 10_000)
            names.append(f"{CIRCLES[region % len(CIRCLES)].code}/{s:05d}/{'ABC'[sector]}")
    return _names(np.array(names), inv)


def _names(table: np.ndarray, index: np.ndarray) -> pl.Series:
    """`table[index]` as a polars string column, without a million Python strings."""
    return pl.Series(table.tolist(), dtype=pl.String).gather(index % len(table))


def world(
    lines: int = 20_000, seed: int = 0, *, days: int = 7, held_out: str | None = None
) -> World:
    """A week (or `days`) of usage of `lines` lines drawn from freshly drawn `WorldParams`.

    `held_out` adds one more kind (one of UNKNOWN_KINDS) to the six FraudKinds, on about a
    fifth of the fraudulent lines; naming a FraudKind gives that kind the same share.
    """
    if held_out is not None and held_out not in UNKNOWN_KINDS + KNOWN_KINDS:
        raise ValueError(f"unknown kind {held_out!r}: one of {', '.join(UNKNOWN_KINDS)}")
    if lines < 500:
        raise ValueError("a world needs at least 500 lines")
    params = WorldParams.draw(np.random.default_rng([seed, 1]))
    g = _Gen(lines, days, params, np.random.default_rng([seed, 2]))
    _assign_profiles(g)
    # Households: 2-4 SIMs taking turns in one handset.
    hh = np.flatnonzero(g.profile == ORDINARY.index("household"))
    if len(hh):
        size = g.rng.integers(2, 5)
        first = hh[(np.arange(len(hh)) // size) * size]
        g.imei[hh] = g.imei[first]
        g.site[hh], g.region[hh] = g.site[first], g.region[first]
    _fraud(g, held_out)
    _ordinary_usage(g)
    return _assemble(g, seed)


def _assemble(g: _Gen, seed: int) -> World:
    rec = g.rec
    line, dest = rec.column("line"), rec.column("dest")
    service, direction = rec.column("service"), rec.column("direction")
    roam_cc = rec.column("roam_cc")
    number = rec.column("number")
    prefix = _names(np.append(_PREFIX, ""), dest)
    cp = (
        pl.DataFrame({"p": prefix, "n": number})
        .select(
            pl.when(pl.col("p") == "")
            .then(pl.lit(""))
            .otherwise(pl.col("p") + pl.col("n").cast(pl.String))
        )
        .to_series()
    )
    subscriber = pl.Series((910_000_000_000 + g.msisdn)[line]).cast(pl.String)
    columns = {
        "subscriber": subscriber,
        "started_at": rec.column("t"),
        "service": _names(np.array(["voice", "sms", "data"]), service),
        "direction": _names(np.array(["out", "in"]), direction),
        "counterpart": cp,
        "counterpart_country": _names(np.append(_CC, ""), dest),
        "duration_s": rec.column("duration"),
        "volume_bytes": rec.column("volume"),
        "cell_id": _cell_names(rec.column("cell"), roam_cc),
        "imei": pl.Series(rec.column("imei")).cast(pl.String).str.zfill(15),
        "roaming": roam_cc >= 0,
    }
    frame = frame_from_columns(columns).sort("started_at", "subscriber")
    subs = (910_000_000_000 + g.msisdn).astype(str)
    fraud = g.kind != ""
    labels = pl.DataFrame(
        {
            "subscriber": subs[fraud],
            "kind": g.kind[fraud].astype(str),
            "since": g.since[fraud],
        },
        schema={"subscriber": pl.String, "kind": pl.String, "since": pl.Int64},
    )
    info = pl.DataFrame(
        {
            "subscriber": subs,
            "profile": np.array(ORDINARY)[g.profile],
            "kind": g.kind.astype(str),
            "intensity": g.intensity.astype(str),
        }
    )
    return World(frame=frame, labels=labels, lines=info, params=g.p, seed=seed, days=g.days)
