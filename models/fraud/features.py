"""Per-subscriber fraud features over a window of usage records, computed in chunks.

Each feature is a rate, a share or a peak, so it means the same over a 7-day or a
30-day window and for a light or a heavy line. Together they describe the signatures:

* SIM box: many outgoing calls to numbers called once, almost nothing incoming, no SMS
  or data, one cell, and a handset (IMEI) that several SIMs share.
* IRSF: calls to high-cost international ranges, long, at night, to numbers in
  sequence (5322000101, 5322000102, ...).
* SMS pumping: bursts of SMS within minutes, to sequential international numbers.
* subscription fraud: a line first seen inside the window that calls abroad heavily
  from its first days.
* account takeover (SIM swap): a new handset on cells the line never used, after which
  the line behaves differently (calls abroad, its owner's incoming traffic stops).
* roaming fraud: many outgoing premium or international calls while roaming.

and the ordinary look-alikes that must stay quiet: business lines (many calls, but to
a contact book, and answered), migrant workers' families (one long call a day to the
same Gulf numbers), travellers (roaming, but calling home), heavy data users, night
workers (everything shifted, incoming too), device upgrades (a new handset on the
same cells, same behaviour), contact centres (hundreds of calls to new numbers, but in
office hours on weekdays, some unanswered, customers calling in, no data).

`FeatureBuilder.add(frame)` folds a chunk of records into partial aggregates keyed by
subscriber (and by subscriber and counterpart, cell, handset, day, ten minutes);
`finish()` merges them. Every partial merges by sum, min or max, so a subscriber
whose records span chunks gets exactly the features of a single pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from domain.demo.reference import DESTINATIONS

DAY = 86_400
#: Operator's local time (IST) for "night"; the CSV is UTC.
LOCAL_OFFSET_S = 19_800
NIGHT_HOURS = (0, 6)
#: Local office hours on weekdays.
OFFICE_HOURS = (9, 18)
#: Destinations known for international revenue share fraud (ITU country codes as ISO
#: 3166 alpha-2): the reference data's high-cost ranges plus other commonly abused ones.
HIGH_COST_COUNTRIES = tuple(
    sorted(
        {d.country for d in DESTINATIONS if d.high_cost}
        | {"LR", "GM", "GW", "TG", "ML", "MV", "SB", "TK", "NU", "CK", "WF", "KI", "FM"}
        | {"MH", "PW", "TO", "VU", "ER", "DJ", "KM", "BI", "TD", "CF", "AQ", "GL", "FK"}
    )
)
#: Numbers that differ by at most this much count as one range dialled in sequence.
SEQUENCE_GAP = 20
#: Bucket for SMS bursts.
BURST_S = 600
#: Partial tables are merged once they hold this many rows, bounding memory.
COMPACT_ROWS = 2_000_000

#: Feature names, in model order.
FEATURES = (
    "active_days",
    "first_seen_day",
    "records_per_day",
    "voice_out_per_day",
    "voice_out_peak_day",
    "voice_in_per_out",
    "sms_out_per_day",
    "sms_out_peak_10min",
    "sms_in_per_out",
    "data_share",
    "data_mb_per_day",
    "distinct_out_share",
    "top_counterpart_share",
    "repeat_counterpart_share",
    "sequential_pairs",
    "sequential_share",
    "intl_out_per_day",
    "intl_out_peak_day",
    "intl_out_share",
    "intl_distinct",
    "intl_minutes_per_day",
    "intl_sms_out",
    "premium_out",
    "premium_out_share",
    "premium_minutes",
    "mean_out_call_s",
    "night_out_share",
    "cells",
    "top_cell_share",
    "imeis",
    "imei_shared_with",
    "roaming_share",
    "roaming_out_per_day",
    "roaming_intl_out",
    "new_handset_new_cells",
    "new_handset_intl_change",
    "new_handset_in_drop",
    "early_intl_share",
    "unanswered_out_share",
    "weekend_out_share",
    "weekend_in_share",
    "office_hours_out_share",
)


@dataclass
class Features:
    """One row per subscriber: `subscribers[i]` has features `matrix[i]`."""

    subscribers: np.ndarray
    matrix: np.ndarray  # float64, len(subscribers) x len(FEATURES)
    records: int
    window_start: int
    window_end: int

    def column(self, name: str) -> np.ndarray:
        return self.matrix[:, FEATURES.index(name)]

    def frame(self) -> pl.DataFrame:
        data = {"subscriber": self.subscribers}
        data.update({f: self.matrix[:, i] for i, f in enumerate(FEATURES)})
        return pl.DataFrame(data)


_SUB_SUMS = (
    "n",
    "vo",
    "vo_dur",
    "vi",
    "so",
    "si",
    "dt",
    "dt_bytes",
    "intl_o",
    "intl_vo_dur",
    "intl_so",
    "prem_o",
    "prem_dur",
    "night_vo",
    "roam",
    "roam_o",
    "roam_intl_o",
    "vo_unans",
    "we_o",
    "we_i",
    "oh_o",
)
_SEG_SUMS = ("n", "vo", "vi", "intl_o")


#: Keys of each partial table; every other column merges by sum, or min_/max_ by name.
PARTIAL_KEYS = {
    "sub": ["subscriber"],
    "cp": ["subscriber", "cp"],
    "cell": ["subscriber", "cell_id"],
    "seg": ["subscriber", "imei"],
    "segcell": ["subscriber", "imei", "cell_id"],
    "day": ["subscriber", "day"],
    "burst": ["subscriber", "bucket"],
}


def merge_partials(
    name: str, frames: list[pl.DataFrame], drop: tuple[str, ...] = (), by_sort: bool = False
) -> pl.DataFrame:
    """Merge partial tables of one kind by their keys (less `drop`): sum, min_ or max_.

    `by_sort` merges runs of equal keys after sorting on them, one stable sort a key,
    and returns the rows sorted by key, for a table of millions of integer keys (cp) that
    is sorted afterwards anyway (its cost shows in the `fraud incremental` benchmark).
    """
    keys = [k for k in PARTIAL_KEYS[name] if k not in drop]
    both = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    aggs = []
    for c in both.columns:
        if c in keys or c in drop:
            continue
        if c.startswith("min_"):
            aggs.append(pl.col(c).min())
        elif c.startswith("max_"):
            aggs.append(pl.col(c).max())
        else:
            aggs.append(pl.col(c).sum())
    if by_sort:
        for k in reversed(keys):
            both = both.sort(k, maintain_order=True)
        run = pl.struct(keys).rle_id().alias("_run")
        firsts = [pl.col(k).first() for k in keys]
        return both.group_by(run, maintain_order=True).agg(*firsts, *aggs).drop("_run")
    return both.group_by(keys).agg(aggs)


def _sorted_by_keys(table: pl.DataFrame, keys: list[str]) -> bool:
    """Whether the rows are in strictly increasing order of two keys (one row a key)."""
    if table.height < 2:
        return True
    a, b = pl.col(keys[0]), pl.col(keys[1])
    later = (a > a.shift(1)) | ((a == a.shift(1)) & (b > b.shift(1)))
    return bool(table.select(later.slice(1).all()).item())


def _sort_key(table: pl.DataFrame, keys: list[str]) -> np.ndarray:
    """Two integer keys as one 16-byte string per row that sorts as the pair does
    (big-endian, sign bit flipped), for numpy's searchsorted."""
    out = np.empty((table.height, 2), dtype=">u8")
    for j, k in enumerate(keys):
        out[:, j] = table[k].cast(pl.Int64).to_numpy().view(np.uint64) ^ np.uint64(1 << 63)
    return out.view("S16").ravel()


def merge_into_sorted(name: str, past: pl.DataFrame, *new: pl.DataFrame) -> pl.DataFrame:
    """`merge_partials(name, [past, *new], by_sort=True)` for a table of two integer
    keys, one row a key, sorted by them (else sorted first), and a few new rows: the new
    rows are merged in and inserted where they belong, so the millions of past rows are
    never sorted again (the cp table: see the `fraud incremental` benchmark)."""
    keys = PARTIAL_KEYS[name]
    if len(keys) != 2:
        raise ValueError(f"{name} is not a table of two keys")
    if not _sorted_by_keys(past, keys):
        past = merge_partials(name, [past], by_sort=True)
    rows = [f for f in new if f.height]
    if not rows:
        return past
    add = merge_partials(name, rows, by_sort=True).select(past.columns)
    old_keys, new_keys = _sort_key(past, keys), _sort_key(add, keys)
    at = np.searchsorted(old_keys, new_keys)
    # A new row whose key the past has: merged into that row; the others are inserted.
    hit = np.zeros(add.height, dtype=bool)
    inside = at < past.height
    hit[inside] = old_keys[at[inside]] == new_keys[inside]
    out = {}
    for c in past.columns:
        old, extra = past[c].to_numpy().copy(), add[c].to_numpy()
        if c not in keys:
            both = (old[at[hit]], extra[hit])
            if c.startswith("min_"):
                old[at[hit]] = np.minimum(*both)
            elif c.startswith("max_"):
                old[at[hit]] = np.maximum(*both)
            else:
                old[at[hit]] = both[0] + both[1]
        out[c] = pl.Series(c, np.insert(old, at[~hit], extra[~hit]), dtype=past.schema[c])
    return pl.DataFrame(out)


def partials_of(
    frame: pl.DataFrame, home_country: str, local_offset_s: int, by_day: bool = False
) -> dict[str, pl.DataFrame]:
    """One chunk of typed usage records as partial tables (see PARTIAL_KEYS).

    With `by_day`, every table is also keyed by the record's local day, so a window's
    oldest days can be dropped and a late record folded into its own day.
    """
    s = pl.col
    local = s("started_at") + local_offset_s
    hour = (local % DAY) // 3600
    x = frame.select(
        "subscriber",
        "started_at",
        "cell_id",
        "imei",
        "duration_s",
        cp=pl.coalesce(
            s("counterpart").cast(pl.Int64, strict=False),
            s("counterpart").hash().reinterpret(signed=True),
        ),
        day=local // DAY,
        bucket=s("started_at") // BURST_S,
        vo=(s("service") == "voice") & (s("direction") == "out"),
        vi=(s("service") == "voice") & (s("direction") == "in"),
        so=(s("service") == "sms") & (s("direction") == "out"),
        si=(s("service") == "sms") & (s("direction") == "in"),
        dt=s("service") == "data",
        volume=s("volume_bytes"),
        intl=(s("counterpart_country") != "") & (s("counterpart_country") != home_country),
        prem=s("counterpart_country").is_in(HIGH_COST_COUNTRIES),
        night=(hour >= NIGHT_HOURS[0]) & (hour < NIGHT_HOURS[1]),
        roam=s("roaming"),
        # The local day as `day` counts it; 1970-01-01 was a Thursday, so 2 is Saturday.
        weekend=((local // DAY) % 7).is_in([2, 3]),
    ).with_columns(out=s("vo") | s("so"))
    o = s("out")
    d = ["day"] if by_day else []
    sub = x.group_by("subscriber", *d).agg(
        n=pl.len(),
        min_t=s("started_at").min(),
        max_t=s("started_at").max(),
        vo=s("vo").sum(),
        vo_dur=(s("duration_s") * s("vo")).sum(),
        vi=s("vi").sum(),
        so=s("so").sum(),
        si=s("si").sum(),
        dt=s("dt").sum(),
        dt_bytes=(s("volume") * s("dt")).sum(),
        intl_o=(o & s("intl")).sum(),
        intl_vo_dur=(s("duration_s") * (s("vo") & s("intl"))).sum(),
        intl_so=(s("so") & s("intl")).sum(),
        prem_o=(o & s("prem")).sum(),
        prem_dur=(s("duration_s") * (s("vo") & s("prem"))).sum(),
        night_vo=(s("vo") & s("night")).sum(),
        roam=s("roam").sum(),
        roam_o=(o & s("roam")).sum(),
        roam_intl_o=(o & s("roam") & s("intl")).sum(),
        vo_unans=(s("vo") & (s("duration_s") == 0)).sum(),
        we_o=(o & s("weekend")).sum(),
        we_i=((s("vi") | s("si")) & s("weekend")).sum(),
        oh_o=(o & ~s("weekend") & (hour >= OFFICE_HOURS[0]) & (hour < OFFICE_HOURS[1])).sum(),
    )
    outs = x.filter(o)
    cp = outs.group_by("subscriber", "cp", *d).agg(
        n=pl.len(), max_intl=s("intl").max().cast(pl.Int8)
    )
    cell = x.filter(~s("roam")).group_by("subscriber", "cell_id", *d).agg(n=pl.len())
    seg = x.group_by("subscriber", "imei", *d).agg(
        n=pl.len(),
        min_t=s("started_at").min(),
        max_t=s("started_at").max(),
        vo=s("vo").sum(),
        vi=s("vi").sum(),
        intl_o=(o & s("intl")).sum(),
    )
    segcell = x.group_by("subscriber", "imei", "cell_id", *d).agg(n=pl.len())
    day = x.group_by("subscriber", "day").agg(
        n=pl.len(), vo=s("vo").sum(), intl_o=(o & s("intl")).sum()
    )
    burst = x.filter(s("so")).group_by("subscriber", "bucket", *d).agg(n=pl.len())
    return {
        "sub": sub,
        "cp": cp,
        "cell": cell,
        "seg": seg,
        "segcell": segcell,
        "day": day,
        "burst": burst,
    }


class FeatureBuilder:
    """Folds usage frames into per-subscriber features; chunk order does not matter.

    With `window` (epoch seconds, start inclusive, end exclusive) only records inside it
    count and rates are per day of that window; without, the window is the data's span.
    """

    def __init__(
        self,
        home_country: str = "IN",
        local_offset_s: int = LOCAL_OFFSET_S,
        window: tuple[int, int] | None = None,
    ) -> None:
        self.home_country = home_country
        self.local_offset_s = local_offset_s
        self.window = window
        self.records = 0
        self._parts: dict[str, list[pl.DataFrame]] = {k: [] for k in PARTIAL_KEYS}
        self._rows = 0

    def add(self, frame: pl.DataFrame) -> None:
        """Fold one chunk of typed usage records (see usage_csv.FRAME_SCHEMA)."""
        if self.window is not None:
            t = pl.col("started_at")
            frame = frame.filter((t >= self.window[0]) & (t < self.window[1]))
        if frame.height == 0:
            return
        self.records += frame.height
        for name, part in partials_of(frame, self.home_country, self.local_offset_s).items():
            self._parts[name].append(part)
            self._rows += part.height
        if self._rows > COMPACT_ROWS:
            self._compact()

    def _compact(self) -> None:
        self._rows = 0
        for name, parts in self._parts.items():
            if len(parts) > 1:
                self._parts[name] = [merge_partials(name, parts)]
            self._rows += sum(p.height for p in self._parts[name])

    def add_all(self, frames: Iterable[pl.DataFrame]) -> FeatureBuilder:
        for frame in frames:
            self.add(frame)
        return self

    def finish(self) -> Features:
        """Merge the partials and compute the features, subscribers sorted."""
        if not self._parts["sub"]:
            w = self.window or (0, 0)
            return Features(np.array([], dtype=object), np.zeros((0, len(FEATURES))), 0, *w)
        t = {name: merge_partials(name, parts) for name, parts in self._parts.items()}
        return features_from_partials(
            t, local_offset_s=self.local_offset_s, window=self.window, records=self.records
        )


def _by_line_and_number(cp: pl.DataFrame) -> pl.DataFrame:
    """The cp table sorted by (subscriber, cp): as it is when it already is, else by two
    stable one-column sorts."""
    s = pl.col
    line, prev = s("subscriber"), s("subscriber").shift(1)
    ordered = cp.select(
        ((line > prev) | ((line == prev) & (s("cp") > s("cp").shift(1)))).all()
    ).item()
    if cp.height < 2 or ordered:
        return cp
    return cp.sort("cp").sort("subscriber", maintain_order=True)


def features_from_partials(
    t: dict[str, pl.DataFrame],
    *,
    local_offset_s: int = LOCAL_OFFSET_S,
    window: tuple[int, int] | None = None,
    sharing: pl.DataFrame | None = None,
    records: int = 0,
) -> Features:
    """Features of the subscribers in merged partial tables (one row per key).

    `window` fixes the window (else the data's span); `sharing` (imei, sims) counts the
    SIMs on each handset over every line of the window, when `t` holds only some lines.
    """
    s = pl.col
    sub = t["sub"].sort("subscriber")
    if window is None:
        w0 = int(sub["min_t"].min())  # type: ignore[arg-type]
        w1 = int(sub["max_t"].max())  # type: ignore[arg-type]
    else:
        w0, w1 = window
    window_days = max((w1 - w0) / DAY, 1.0)

    def per_sub(frame: pl.DataFrame, **aggs: pl.Expr) -> pl.DataFrame:
        return frame.group_by("subscriber").agg(**aggs)

    days = per_sub(
        t["day"],
        active_days=pl.len(),
        voice_out_peak_day=s("vo").max(),
        intl_out_peak_day=s("intl_o").max(),
    )
    burst = per_sub(t["burst"], sms_out_peak_10min=s("n").max())
    # The gap to the line's previous number; null on each line's first row.
    cp_sorted = _by_line_and_number(t["cp"]).with_columns(
        gap=pl.when(s("subscriber") == s("subscriber").shift(1)).then(s("cp") - s("cp").shift(1))
    )
    cps = per_sub(
        cp_sorted,
        distinct_out=pl.len(),
        top_cp=s("n").max(),
        repeat_out=s("n").filter(s("n") > 1).sum(),
        intl_distinct=s("max_intl").sum(),
        sequential_pairs=((s("gap") > 0) & (s("gap") <= SEQUENCE_GAP)).sum(),
    )
    cells = per_sub(t["cell"], cells=pl.len(), top_cell=s("n").max(), cell_n=s("n").sum())
    # Handsets: how many SIMs share each, and what changed with the newest one.
    seg = t["seg"].filter(s("imei") != "")
    if sharing is None:
        sharing = seg.group_by("imei").agg(sims=pl.len())
    seg = seg.join(sharing, on="imei", how="left")
    segs = per_sub(
        seg,
        imeis=pl.len(),
        imei_shared_with=s("sims").max() - 1,
        newest_t=s("min_t").max(),
    )
    seg = seg.join(segs.select("subscriber", "newest_t"), on="subscriber")
    seg = seg.with_columns(new=s("min_t") == s("newest_t"))
    seg_stats = per_sub(
        seg.with_columns(span=(s("max_t") - s("min_t")).cast(pl.Float64) / DAY),
        new_n=(s("n") * s("new")).sum(),
        new_vi=(s("vi") * s("new")).sum(),
        new_vo=(s("vo") * s("new")).sum(),
        new_intl=(s("intl_o") * s("new")).sum(),
        new_first=s("min_t").filter(s("new")).min(),
        old_n=(s("n") * ~s("new")).sum(),
        old_vi=(s("vi") * ~s("new")).sum(),
        old_vo=(s("vo") * ~s("new")).sum(),
        old_intl=(s("intl_o") * ~s("new")).sum(),
        old_first=s("min_t").filter(~s("new")).min(),
    )
    segcell = (
        t["segcell"]
        .filter(s("imei") != "")
        .join(seg.select("subscriber", "imei", "new"), on=["subscriber", "imei"])
    )
    old_cells = segcell.filter(~s("new")).select("subscriber", "cell_id").unique()
    new_cells = (
        segcell.filter(s("new"))
        .join(old_cells.with_columns(seen=pl.lit(True)), on=["subscriber", "cell_id"], how="left")
        .group_by("subscriber")
        .agg(
            new_on_old_cells=(s("n") * s("seen").fill_null(False)).sum(),
            new_cell_n=s("n").sum(),
        )
    )
    # The first three days a line is seen: how much of its traffic goes abroad.
    early = (
        t["day"]
        .join(sub.select("subscriber", "min_t"), on="subscriber")
        .filter(s("day") < (s("min_t") + local_offset_s) // DAY + 3)
        .group_by("subscriber")
        .agg(early_n=s("n").sum(), early_intl=s("intl_o").sum())
    )
    f = sub
    for part in (days, burst, cps, cells, segs.drop("newest_t"), seg_stats, new_cells, early):
        f = f.join(part, on="subscriber", how="left")
    f = f.fill_null(0)
    wd = pl.lit(window_days)
    outs = s("vo") + s("so")
    span_new = ((s("max_t") - s("new_first")).cast(pl.Float64) / DAY).clip(1.0)
    span_old = ((s("new_first") - s("old_first")).cast(pl.Float64) / DAY).clip(1.0)
    changed = s("imeis") >= 2
    exprs = {
        "active_days": s("active_days"),
        "first_seen_day": (s("min_t") - w0).cast(pl.Float64) / DAY,
        "records_per_day": s("n") / wd,
        "voice_out_per_day": s("vo") / wd,
        "voice_out_peak_day": s("voice_out_peak_day"),
        "voice_in_per_out": s("vi") / (s("vo") + 1),
        "sms_out_per_day": s("so") / wd,
        "sms_out_peak_10min": s("sms_out_peak_10min"),
        "sms_in_per_out": s("si") / (s("so") + 1),
        "data_share": s("dt") / s("n"),
        "data_mb_per_day": s("dt_bytes") / 1e6 / wd,
        "distinct_out_share": s("distinct_out") / (outs + 1),
        "top_counterpart_share": s("top_cp") / (outs + 1),
        "repeat_counterpart_share": s("repeat_out") / (outs + 1),
        "sequential_pairs": s("sequential_pairs"),
        "sequential_share": s("sequential_pairs") / (s("distinct_out") + 1),
        "intl_out_per_day": s("intl_o") / wd,
        "intl_out_peak_day": s("intl_out_peak_day"),
        "intl_out_share": s("intl_o") / (outs + 1),
        "intl_distinct": s("intl_distinct"),
        "intl_minutes_per_day": s("intl_vo_dur") / 60 / wd,
        "intl_sms_out": s("intl_so"),
        "premium_out": s("prem_o"),
        "premium_out_share": s("prem_o") / (outs + 1),
        "premium_minutes": s("prem_dur") / 60,
        "mean_out_call_s": s("vo_dur") / (s("vo") + 1),
        "night_out_share": s("night_vo") / (s("vo") + 1),
        "cells": s("cells"),
        "top_cell_share": s("top_cell") / (s("cell_n") + 1),
        "imeis": s("imeis"),
        "imei_shared_with": s("imei_shared_with").clip(0),
        "roaming_share": s("roam") / s("n"),
        "roaming_out_per_day": s("roam_o") / wd,
        "roaming_intl_out": s("roam_intl_o"),
        # The newest handset's records on cells none of the older ones used.
        "new_handset_new_cells": pl.when(changed)
        .then(1 - s("new_on_old_cells") / s("new_cell_n").clip(1))
        .otherwise(0.0),
        # International calls a day with the newest handset minus before it.
        "new_handset_intl_change": pl.when(changed)
        .then(s("new_intl") / span_new - s("old_intl") / span_old)
        .otherwise(0.0),
        # Share of calls answered before the handset change minus after it.
        "new_handset_in_drop": pl.when(changed)
        .then(
            s("old_vi") / (s("old_vi") + s("old_vo") + 1)
            - s("new_vi") / (s("new_vi") + s("new_vo") + 1)
        )
        .otherwise(0.0),
        "early_intl_share": s("early_intl") / (s("early_n") + 1),
        # Outgoing calls nobody answered (0 s): dialling lists do, SIM boxes rarely.
        "unanswered_out_share": s("vo_unans") / (s("vo") + 1),
        # Weekday rhythm: offices and contact centres go quiet at the weekend.
        "weekend_out_share": s("we_o") / (outs + 1),
        "weekend_in_share": s("we_i") / (s("vi") + s("si") + 1),
        # Office hours: a contact centre's or a PBX's calls keep them; a SIM box's follow
        # the callers it relays, evenings and weekends included.
        "office_hours_out_share": s("oh_o") / (outs + 1),
    }
    out = f.select(pl.col("subscriber"), *(e.cast(pl.Float64).alias(k) for k, e in exprs.items()))
    matrix = out.select(FEATURES).to_numpy().astype(np.float64)
    return Features(
        subscribers=out["subscriber"].to_numpy(),
        matrix=np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0),
        records=records,
        window_start=w0,
        window_end=w1,
    )


def compute_features(
    frames: Iterable[pl.DataFrame] | pl.DataFrame, home_country: str = "IN"
) -> Features:
    """Features of every subscriber in one frame or a stream of chunks."""
    if isinstance(frames, pl.DataFrame):
        frames = [frames]
    return FeatureBuilder(home_country).add_all(frames).finish()
