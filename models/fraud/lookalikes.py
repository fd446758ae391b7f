"""Ordinary lines that look like fraud, for the training data.

The demo generator's ordinary lines are consumers; a real network also carries lines
whose volume, cells or destinations resemble a fraud signature while their details do
not. A model that never saw them learns "many calls from one cell" = SIM box and flags
every contact centre. `lookalikes` makes such lines, one profile per row of `PROFILES`,
and `answer_noise` gives every line some unanswered outgoing calls (the demo generator
has none, so "unanswered share" would otherwise mean nothing to the model).

Every constant is drawn per seed from the wide range in `RANGES` (written from what such
lines do on a mobile network, not from any evaluation set), and each group (a site, a
fleet, a household) and line varies around it. `fraud train`'s data is made of several
such draws (`synthetic.synthetic_usage(draws=...)`), so the model learns the shape of a
profile rather than one draw's numbers.

Look-alike lines are numbered 915XXXXXXXXX (no Indian mobile starts with 5, so never one
of the demo's lines) and their handsets use TACs the demo's handsets never use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from domain.demo.reference import DESTINATIONS, HANDSET_TACS, ROAMING_COUNTRIES
from models.fraud.features import DAY, LOCAL_OFFSET_S
from models.fraud.usage_csv import FRAME_SCHEMA, frame_from_columns

#: What each profile is, and why it resembles fraud while it is not.
PROFILES = {
    "contact_centre": (
        "sites of many seats on one cell, each seat hundreds of short outgoing calls a day, "
        "a share unanswered, answered calls coming in, quiet at weekends, own handsets "
        "(looks like a SIM box)"
    ),
    "enterprise_pbx": (
        "a company's SIMs on one site cell, tens of calls a day to a contact book, some to "
        "ordinary international ranges, weekdays mostly (looks like a SIM box or IRSF)"
    ),
    "m2m": (
        "IoT modules: SMS-only or data-only, one cell each, one module TAC per fleet, no "
        "incoming calls (looks like SMS pumping or a SIM box: one cell, nothing incoming)"
    ),
    "household": (
        "2-4 SIMs of one family used in one handset (looks like a SIM box's shared IMEI)"
    ),
    "night_shift": (
        "calls and data mostly between midnight and six, to a contact book (looks like IRSF's "
        "night calls)"
    ),
    "abroad": (
        "travellers and students abroad: roaming for days or the whole window, calling "
        "home (looks like roaming fraud)"
    ),
    "migrant_worker": (
        "many long international calls a day to one or two numbers at home, ordinary "
        "destinations (looks like IRSF or subscription fraud)"
    ),
}

#: (low, high) of each constant, drawn uniformly per seed. Rates are events a day.
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "share": {p: (0.5, 2.0) for p in PROFILES},  # relative weight of each profile
    "contact_centre": {
        "seats": (5, 40),
        "calls_out": (40, 400),
        "unanswered": (0.10, 0.55),
        "in_per_out": (0.02, 0.5),
        "weekend": (0.0, 0.5),
        "call_s": (30, 240),
        "callback_share": (0.0, 0.3),  # outgoing calls to numbers called before
        "hour": (10, 16),
        "hour_width": (2, 4),
    },
    "enterprise_pbx": {
        "sims": (3, 30),
        "calls_out": (4, 45),
        "unanswered": (0.05, 0.35),
        "in_per_out": (0.3, 1.2),
        "weekend": (0.0, 0.4),
        "book": (20, 400),
        "book_share": (0.2, 0.7),
        "intl_share": (0.01, 0.3),
        "call_s": (60, 300),
        "data": (0.5, 6),
    },
    "m2m": {
        "fleet": (5, 60),
        "sms_fleets": (0.3, 0.7),  # share of fleets that only send SMS
        "sms": (1, 40),
        "sessions": (4, 60),
        "kb": (1, 2000),
        "platforms": (1, 4),  # numbers a fleet reports to
    },
    "household": {
        "calls_out": (0.3, 3),
        "in_per_out": (0.6, 1.5),
        "sms": (0.05, 1),
        "data": (0.5, 5),
        "book": (4, 15),
        "cells": (1, 4),
    },
    "night_shift": {
        "calls_out": (0.5, 8),
        "in_per_out": (0.5, 1.3),
        "hour": (24, 28),  # local hour of the shift's middle, past 24 = after midnight
        "hour_width": (1, 3),
        "book": (5, 40),
        "call_s": (40, 400),
        "data": (0.5, 6),
    },
    "abroad": {
        "calls_out": (0.3, 6),
        "in_per_out": (0.5, 1.5),
        "days_abroad": (0.3, 1.0),  # share of the window
        "local_share": (0.0, 0.4),  # calls to numbers of the visited country
        "call_s": (60, 900),
        "data": (1, 10),
    },
    "migrant_worker": {
        "intl_out": (1, 12),
        "intl_in_per_out": (0.2, 1.0),
        "call_s": (300, 1800),
        "local_out": (0.2, 3),
        "hour": (18, 23),
        "cells": (1, 3),
    },
}

_PREFIX = {d.country: d.prefix for d in DESTINATIONS}
#: Ordinary destinations abroad (never the high-cost ranges IRSF uses).
_ABROAD = np.array([d.country for d in DESTINATIONS if d.country != "IN" and not d.high_cost])
#: Where migrant workers in India call home, and where Indians travel or study.
_HOMES = np.array([c for c in ("NP", "BD", "LK") if c in _PREFIX] or _ABROAD.tolist())
_VISITED = [(c, mcc) for c, mcc in ROAMING_COUNTRIES if c in _PREFIX]
_DEMO_TACS = {int(t) for t in HANDSET_TACS}


def draw_constants(seed: int) -> dict[str, dict[str, float]]:
    """Every profile's constants for one seed, each uniform in its `RANGES` range."""
    rng = np.random.default_rng([seed, 4242])
    return {
        p: {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in ranges.items()}
        for p, ranges in RANGES.items()
    }


@dataclass
class _Records:
    """Column arrays collected profile by profile, lines numbered from 0."""

    rng: np.random.Generator
    start: int
    days: int
    lines: int = 0
    cols: dict[str, list[np.ndarray]] = field(default_factory=lambda: {c: [] for c in FRAME_SCHEMA})

    def new_lines(self, m: int) -> np.ndarray:
        ids = np.arange(self.lines, self.lines + m)
        self.lines += m
        return ids

    def times(
        self, per_day: np.ndarray, weekend: float | np.ndarray, hour: float, width: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """(index into per_day, epoch s): Poisson events a local day, hours ~ N(hour, width).

        `weekend` multiplies the rate on local Saturdays and Sundays.
        """
        first = (self.start + LOCAL_OFFSET_S) // DAY
        local_days = first + np.arange(self.days + 1)
        is_weekend = np.isin(local_days % 7, (2, 3))  # 1970-01-01 was a Thursday
        factor = np.where(is_weekend, np.broadcast_to(weekend, per_day.shape)[:, None], 1.0)
        counts = self.rng.poisson(per_day[:, None] * factor)
        who = np.repeat(np.repeat(np.arange(per_day.size), local_days.size), counts.ravel())
        day = np.repeat(np.tile(local_days, per_day.size), counts.ravel())
        hours = np.mod(self.rng.normal(hour, width, who.size), 24.0)
        t = day * DAY + (hours * 3600).astype(np.int64) - LOCAL_OFFSET_S
        inside = (t >= self.start) & (t < self.start + self.days * DAY)
        return who[inside], t[inside]

    def add(
        self,
        line: np.ndarray,
        t: np.ndarray,
        service: str,
        direction: str,
        *,
        counterpart: np.ndarray | str = "",
        country: np.ndarray | str = "",
        duration: np.ndarray | int = 0,
        volume: np.ndarray | int = 0,
        cell: np.ndarray | str,
        imei: np.ndarray | str,
        roaming: np.ndarray | bool = False,
    ) -> None:
        m = line.size
        values = {
            "subscriber": line,
            "started_at": t,
            "service": service,
            "direction": direction,
            "counterpart": counterpart,
            "counterpart_country": country,
            "duration_s": duration,
            "volume_bytes": volume,
            "cell_id": cell,
            "imei": imei,
            "roaming": roaming,
        }
        for c, v in values.items():
            self.cols[c].append(np.broadcast_to(np.asarray(v), (m,)))

    # -- what the profiles share ---------------------------------------------------------

    def indian(self, m: int) -> np.ndarray:
        return np.char.add("91", self.rng.integers(6 * 10**9, 10**10, m).astype("U10"))

    def abroad_numbers(self, countries: np.ndarray) -> np.ndarray:
        prefixes = np.array([_PREFIX[c] for c in countries.tolist()], dtype="U4")
        return np.char.add(prefixes, self.rng.integers(10**8, 10**9, countries.size).astype("U9"))

    def handsets(self, m: int, tac: int | None = None) -> np.ndarray:
        """m IMEIs (15 digits) on one TAC or on random TACs the demo's handsets never use."""
        if tac is None:
            tacs = self.rng.integers(10**7, 10**8, m)
            clash = np.isin(tacs, list(_DEMO_TACS))
            tacs[clash] += 1
        else:
            tacs = np.full(m, tac)
        serials = np.char.zfill(self.rng.integers(0, 10**7, m).astype("U7"), 7)
        return np.char.add(tacs.astype("U8"), serials)

    def durations(self, m: int, median_s: float, unanswered: float = 0.0) -> np.ndarray:
        d = self.rng.lognormal(np.log(median_s), 0.9, m).astype(np.int64) + 1
        return np.where(self.rng.random(m) < unanswered, 0, d)

    def jitter(self, m: int, sigma: float) -> np.ndarray:
        return np.exp(self.rng.normal(0.0, sigma, m))

    def cells(self, tag: str, lines: np.ndarray, per_line: int) -> np.ndarray:
        """Cell names, `per_line` for each line (column j is the line's j-th cell)."""
        base = np.char.add(f"LA-{tag}-", lines.astype("U7"))
        return np.char.add(
            np.repeat(base, per_line).reshape(-1, per_line), [f"-{j}" for j in range(per_line)]
        )

    def frame(self, seed: int, first: int = 0) -> pl.DataFrame:
        cols = {c: np.concatenate(v) for c, v in self.cols.items()}
        cols["subscriber"] = _numbers(seed, first + cols["subscriber"])
        return frame_from_columns(cols)


def _numbers(seed: int, lines: np.ndarray) -> np.ndarray:
    """Look-alike line numbers: 915 + 9 digits, a block of a million per seed."""
    return np.char.add(
        "915", np.char.zfill(((seed % 1000) * 10**6 + lines % 10**6).astype("U9"), 9)
    )


def _contact_centre(r: _Records, n: int, c: dict[str, float]) -> None:
    done = 0
    while done < n:
        seats = int(min(max(2, r.rng.poisson(c["seats"])), n - done))
        done += seats
        lines = r.new_lines(seats)
        cell = f"LA-CC-{lines[0]}"
        imeis = r.handsets(seats)
        out = c["calls_out"] * r.jitter(1, 0.4) * r.jitter(seats, 0.3)
        weekend = float(np.clip(c["weekend"] * r.jitter(1, 0.3)[0], 0, 1))
        hour = c["hour"] + r.rng.normal(0, 1)
        who, t = r.times(out, weekend, hour, c["hour_width"])
        unanswered = float(np.clip(c["unanswered"] * r.jitter(1, 0.3)[0], 0, 0.9))
        called = r.indian(who.size)
        # Call-backs: some calls go to numbers already on the site's list.
        again = r.rng.random(who.size) < c["callback_share"]
        called[again] = called[r.rng.integers(0, max(who.size, 1), int(again.sum()))]
        r.add(
            lines[who],
            t,
            "voice",
            "out",
            counterpart=called,
            country="IN",
            duration=r.durations(who.size, c["call_s"], unanswered),
            cell=cell,
            imei=imeis[who],
        )
        who, t = r.times(out * c["in_per_out"] * r.jitter(seats, 0.3), weekend, hour, 3)
        r.add(
            lines[who],
            t,
            "voice",
            "in",
            counterpart=r.indian(who.size),
            country="IN",
            duration=r.durations(who.size, c["call_s"] * 1.5),
            cell=cell,
            imei=imeis[who],
        )


def _enterprise_pbx(r: _Records, n: int, c: dict[str, float]) -> None:
    done = 0
    while done < n:
        sims = int(min(max(2, r.rng.poisson(c["sims"])), n - done))
        done += sims
        lines = r.new_lines(sims)
        cell = f"LA-PBX-{lines[0]}"
        imeis = r.handsets(sims)
        book = r.indian(int(c["book"] * r.jitter(1, 0.4)[0]) + 1)
        out = c["calls_out"] * r.jitter(sims, 0.5)
        weekend = float(np.clip(c["weekend"] * r.jitter(1, 0.3)[0], 0, 1))
        who, t = r.times(out, weekend, 13, 2.5)
        m = who.size
        # The first numbers of the book are called most, as in anyone's call log.
        favourite = (book.size * r.rng.random(m) ** 3).astype(np.int64)
        called = np.where(r.rng.random(m) < c["book_share"], book[favourite], r.indian(m))
        intl = r.rng.random(m) < c["intl_share"]
        countries = _ABROAD[r.rng.integers(0, _ABROAD.size, m)]
        called = np.where(intl, r.abroad_numbers(countries), called)
        r.add(
            lines[who],
            t,
            "voice",
            "out",
            counterpart=called,
            country=np.where(intl, countries, "IN"),
            duration=r.durations(m, c["call_s"], c["unanswered"]),
            cell=cell,
            imei=imeis[who],
        )
        who, t = r.times(out * c["in_per_out"], weekend, 13, 3)
        r.add(
            lines[who],
            t,
            "voice",
            "in",
            counterpart=book[r.rng.integers(0, book.size, who.size)],
            country="IN",
            duration=r.durations(who.size, c["call_s"]),
            cell=cell,
            imei=imeis[who],
        )
        who, t = r.times(np.full(sims, c["data"]), weekend, 13, 3)
        r.add(
            lines[who],
            t,
            "data",
            "out",
            volume=r.rng.integers(10_000, 20_000_000, who.size),
            cell=cell,
            imei=imeis[who],
        )


def _m2m(r: _Records, n: int, c: dict[str, float]) -> None:
    done = 0
    while done < n:
        size = int(min(max(2, r.rng.poisson(c["fleet"])), n - done))
        done += size
        lines = r.new_lines(size)
        tac = int(r.rng.integers(10**7, 10**8))
        tac += tac in _DEMO_TACS
        imeis = r.handsets(size, tac)
        cells = r.cells("M2M", lines, 1)[:, 0]
        # Machines keep the same rhythm every day of the week, around the clock.
        if r.rng.random() < c["sms_fleets"]:
            platforms = r.indian(int(c["platforms"]))
            who, t = r.times(np.full(size, c["sms"]) * r.jitter(size, 0.2), 1.0, 12, 12)
            r.add(
                lines[who],
                t,
                "sms",
                "out",
                counterpart=platforms[r.rng.integers(0, platforms.size, who.size)],
                country="IN",
                cell=cells[who],
                imei=imeis[who],
            )
        else:
            who, t = r.times(np.full(size, c["sessions"]) * r.jitter(size, 0.2), 1.0, 12, 12)
            kb = c["kb"] * 1000 * r.jitter(who.size, 0.5)
            r.add(
                lines[who],
                t,
                "data",
                "out",
                volume=kb.astype(np.int64) + 1,
                cell=cells[who],
                imei=imeis[who],
            )


def _household(r: _Records, n: int, c: dict[str, float]) -> None:
    done = 0
    while done < n:
        size = min(int(r.rng.integers(2, 5)), n - done)
        done += size
        lines = r.new_lines(size)
        imei = r.handsets(1)[0]  # one handset, each SIM used in turn
        k = int(c["cells"])
        cells = r.cells("HH", lines[:1], k)[0]
        book = r.indian(int(c["book"]))
        out = c["calls_out"] * r.jitter(size, 0.5)
        for service, direction, rate in (
            ("voice", "out", out),
            ("voice", "in", out * c["in_per_out"]),
            ("sms", "out", np.full(size, c["sms"])),
            ("sms", "in", np.full(size, c["sms"] * 2)),
            ("data", "out", np.full(size, c["data"]) * r.jitter(size, 0.5)),
        ):
            who, t = r.times(rate, 1.2, 17, 4)
            m = who.size
            voice, data = service == "voice", service == "data"
            r.add(
                lines[who],
                t,
                service,
                direction,
                counterpart="" if data else book[r.rng.integers(0, book.size, m)],
                country="" if data else "IN",
                duration=r.durations(m, 90) if voice else 0,
                volume=r.rng.integers(10_000, 5_000_000, m) if data else 0,
                cell=cells[r.rng.integers(0, k, m)],
                imei=imei,
            )


def _night_shift(r: _Records, n: int, c: dict[str, float]) -> None:
    lines = r.new_lines(n)
    imeis = r.handsets(n)
    cells = r.cells("NS", lines, 2)
    books = r.indian(n * int(c["book"])).reshape(n, -1)
    out = c["calls_out"] * r.jitter(n, 0.5)
    for service, direction, rate in (
        ("voice", "out", out),
        ("voice", "in", out * c["in_per_out"]),
        ("data", "out", np.full(n, c["data"]) * r.jitter(n, 0.5)),
    ):
        who, t = r.times(rate, 1.0, c["hour"], c["hour_width"])
        m = who.size
        data = service == "data"
        r.add(
            lines[who],
            t,
            service,
            direction,
            counterpart="" if data else books[who, r.rng.integers(0, books.shape[1], m)],
            country="" if data else "IN",
            duration=0 if data else r.durations(m, c["call_s"]),
            volume=r.rng.integers(10_000, 20_000_000, m) if data else 0,
            cell=cells[who, r.rng.integers(0, 2, m)],
            imei=imeis[who],
        )


def _abroad(r: _Records, n: int, c: dict[str, float]) -> None:
    lines = r.new_lines(n)
    imeis = r.handsets(n)
    home_cells = r.cells("AB", lines, 2)
    visit = r.rng.integers(0, len(_VISITED), n)
    country = np.array([_VISITED[v][0] for v in visit])
    foreign_cells = np.char.add(
        np.array([f"{cc}-{mcc}-01-" for cc, mcc in (_VISITED[v] for v in visit)]),
        r.rng.integers(10_000, 99_999, n).astype("U5"),
    )
    away = np.clip(c["days_abroad"] * r.jitter(n, 0.3), 0.1, 1.0) * r.days * DAY
    leave = r.start + r.rng.random(n) * (r.days * DAY - away)
    back = leave + away
    family = r.indian(n * 4).reshape(n, 4)
    out = c["calls_out"] * r.jitter(n, 0.5)
    for service, direction, rate in (
        ("voice", "out", out),
        ("voice", "in", out * c["in_per_out"]),
        ("sms", "out", out * 0.3),
        ("data", "out", np.full(n, c["data"]) * r.jitter(n, 0.5)),
    ):
        who, t = r.times(rate, 1.0, 15, 4)
        m = who.size
        roam = (t >= leave[who]) & (t < back[who])
        data = service == "data"
        local = roam & (r.rng.random(m) < c["local_share"])
        called = np.where(
            local,
            r.abroad_numbers(country[who]),
            family[who, r.rng.integers(0, 4, m)],
        )
        r.add(
            lines[who],
            t,
            service,
            direction,
            counterpart="" if data else called,
            country="" if data else np.where(local, country[who], "IN"),
            duration=r.durations(m, c["call_s"]) if service == "voice" else 0,
            volume=r.rng.integers(10_000, 10_000_000, m) if data else 0,
            cell=np.where(roam, foreign_cells[who], home_cells[who, 0]),
            imei=imeis[who],
            roaming=roam,
        )


def _migrant_worker(r: _Records, n: int, c: dict[str, float]) -> None:
    lines = r.new_lines(n)
    imeis = r.handsets(n)
    k = int(c["cells"])
    cells = r.cells("MW", lines, k)
    home = _HOMES[r.rng.integers(0, _HOMES.size, n)]
    # One or two numbers at home: the family's phones.
    family = r.abroad_numbers(np.repeat(home, 2)).reshape(n, 2)
    two = r.rng.random(n) < 0.5
    intl = c["intl_out"] * r.jitter(n, 0.5)
    for home_call, direction, rate in (
        (True, "out", intl),
        (True, "in", intl * c["intl_in_per_out"]),
        (False, "out", np.full(n, c["local_out"]) * r.jitter(n, 0.5)),
        (False, "in", np.full(n, c["local_out"]) * r.jitter(n, 0.5)),
    ):
        who, t = r.times(rate, 1.3, c["hour"], 2)
        m = who.size
        if home_call:
            pick = np.where(two[who], r.rng.integers(0, 2, m), 0)
            called, country = family[who, pick], home[who]
            median = c["call_s"]
        else:
            called, country, median = r.indian(m), np.full(m, "IN"), 90.0
        r.add(
            lines[who],
            t,
            "voice",
            direction,
            counterpart=called,
            country=country,
            duration=r.durations(m, median),
            cell=cells[who, r.rng.integers(0, k, m)],
            imei=imeis[who],
        )


_MAKERS: dict[str, Callable[[_Records, int, dict[str, float]], None]] = {
    "contact_centre": _contact_centre,
    "enterprise_pbx": _enterprise_pbx,
    "m2m": _m2m,
    "household": _household,
    "night_shift": _night_shift,
    "abroad": _abroad,
    "migrant_worker": _migrant_worker,
}


def lookalike_lines(n: int, seed: int) -> dict[str, int]:
    """How many of `n` look-alike lines each profile gets for `seed`."""
    weights = np.array([draw_constants(seed)["share"][p] for p in PROFILES])
    counts = np.floor(weights / weights.sum() * n).astype(int)
    counts[: n - counts.sum()] += 1
    return dict(zip(PROFILES, counts.tolist(), strict=True))


def lookalike_profiles(n: int, seed: int, first: int = 0) -> pl.DataFrame:
    """subscriber, profile of the `n` lines `lookalikes(n, seed, ..., first=first)` makes."""
    counts = lookalike_lines(n, seed)
    return pl.DataFrame(
        {
            "subscriber": _numbers(seed, first + np.arange(n)),
            "profile": np.repeat(list(counts), list(counts.values())),
        }
    )


def lookalikes(n: int, seed: int, start: int, days: int, *, first: int = 0) -> pl.DataFrame:
    """Usage of `n` ordinary look-alike lines over `days` days from `start` (epoch s).

    The lines are numbered from `first` in the seed's block, so several draws put
    together (`synthetic_usage(draws=...)`) give each its own numbers.
    """
    if n <= 0:
        return pl.DataFrame(schema=FRAME_SCHEMA)
    constants = draw_constants(seed)
    records = _Records(np.random.default_rng([seed, 4243]), start, days)
    for profile, m in lookalike_lines(n, seed).items():
        if m:
            _MAKERS[profile](records, m, constants[profile])
    return records.frame(seed, first).sort("started_at")


def answer_noise(frame: pl.DataFrame, seed: int, high: float = 0.35) -> pl.DataFrame:
    """Every line gets a share U(0, high) of its outgoing calls unanswered (0 s)."""
    rng = np.random.default_rng([seed, 77])
    subs = frame["subscriber"].unique().sort()
    share = pl.DataFrame({"subscriber": subs, "_share": rng.uniform(0.0, high, subs.len())})
    s = pl.col
    calls_out = (s("service") == "voice") & (s("direction") == "out")
    return (
        frame.join(share, on="subscriber", how="left", maintain_order="left")
        .with_columns(_u=pl.Series(rng.random(frame.height)))
        .with_columns(
            duration_s=pl.when(calls_out & (s("_u") < s("_share")))
            .then(0)
            .otherwise(s("duration_s"))
        )
        .drop("_share", "_u")
    )
