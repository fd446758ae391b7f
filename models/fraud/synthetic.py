"""Labelled usage to train and check the model on, from the demo usage generator.

`synthetic_usage` calls `domain.demo.usage.generate_usage` for a made-up set of lines,
adds ordinary lines that resemble fraud (`lookalikes`: contact centres, PBX groups, IoT
modules...) and leaves a share of every line's outgoing calls unanswered.
`Shift` then bends the result the way another operator's data (or another generator)
would differ, so a model can be checked on data it was not shaped by: fraud at lower
or higher intensity (records thinned or repeated), calls longer or shorter, ordinary
lines busier or quieter, other cell and handset naming. A shorter window comes from
`training.trailing_window`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from domain.demo.reference import CIRCLES, HANDSET_TACS
from domain.demo.usage import Subscribers, generate_usage
from models.fraud.lookalikes import answer_noise, lookalikes
from models.fraud.usage_csv import frame_from_columns

#: 2026-10-01 00:00 UTC.
WINDOW_START = 1_790_812_800


@dataclass(frozen=True)
class Shift:
    """How a generated set is bent away from the generator's own parameters."""

    #: Keep each fraud-pattern record with this probability (lower = quieter fraud).
    fraud_keep: float = 1.0
    #: Multiply durations by a per-line lognormal factor with this median and spread.
    duration_factor: float = 1.0
    duration_spread: float = 0.0
    #: Rename cells and handsets (so nothing depends on their format).
    rename: bool = False


def _subscribers(
    n: int, seed: int, days: int, new_share: float
) -> tuple[Subscribers, list[np.ndarray]]:
    r = np.random.default_rng([seed, 7])
    cells = [
        np.array([f"{c.code}-TWR-{t:04d}-{s}" for t in range(40) for s in (1, 2, 3)])
        for c in CIRCLES
    ]
    tacs = np.array(HANDSET_TACS)[r.integers(0, len(HANDSET_TACS), n)]
    serials = np.char.zfill(r.integers(0, 10**7, n).astype("U7"), 7)
    msisdn = np.char.add("91", r.integers(6 * 10**9, 10**10, n).astype("U10"))
    new = r.random(n) < new_share
    activated = np.where(new, r.integers(0, max(days - 5, 1), n), -r.integers(1, 1000, n))
    subs = Subscribers(
        subscription_id=np.arange(1, n + 1, dtype=np.int64),
        msisdn=msisdn,
        imei=np.char.add(tacs, serials),
        enterprise=r.random(n) < 0.12,
        region=r.integers(0, len(cells), n).astype(np.int64),
        activated_day=activated.astype(np.int64),
    )
    return subs, cells


def synthetic_usage(
    subscribers: int,
    seed: int,
    *,
    days: int = 30,
    records_per_subscriber: float = 110.0,
    fraud_share: float = 0.04,
    new_share: float = 0.04,
    lookalike_share: float = 0.10,
    unanswered_high: float = 0.35,
    shift: Shift | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(usage frame, labels `subscriber,kind,since`) for `subscribers` made-up lines.

    `lookalike_share` x `subscribers` ordinary look-alike lines come on top (their own
    numbers, never labelled); every line then gets up to `unanswered_high` of its
    outgoing calls unanswered (0 s).
    """
    subs, cells = _subscribers(subscribers, seed, days, new_share)
    batch = generate_usage(
        np.random.default_rng(seed),
        subs,
        cells,
        WINDOW_START,
        days=days,
        records_per_subscriber=records_per_subscriber,
        fraud_share=fraud_share,
    )
    cols = dict(batch.columns)
    cols["subscriber"] = subs.msisdn[cols["subscription_id"] - 1]
    frame = frame_from_columns(cols)
    extra = lookalike_count(subscribers, lookalike_share)
    if extra > 0:
        frame = pl.concat([frame, lookalikes(extra, seed, WINDOW_START, days)])
        frame = frame.sort("started_at", maintain_order=True)
    if unanswered_high > 0:
        frame = answer_noise(frame, seed, high=unanswered_high)
    labels = pl.DataFrame(
        {
            "subscriber": [str(subs.msisdn[s - 1]) for s, _, _ in batch.labels],
            "kind": [k for _, k, _ in batch.labels],
            "since": [t for _, _, t in batch.labels],
        },
        schema={"subscriber": pl.String, "kind": pl.String, "since": pl.Int64},
    )
    if shift is not None:
        frame, labels = _bend(frame, labels, shift, np.random.default_rng([seed, 99]))
    return frame, labels


def lookalike_count(subscribers: int, lookalike_share: float = 0.10) -> int:
    """How many look-alike lines `synthetic_usage` adds to `subscribers` demo lines."""
    return round(subscribers * lookalike_share)


def _bend(
    frame: pl.DataFrame, labels: pl.DataFrame, shift: Shift, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    s = pl.col
    since = labels.select("subscriber", "since")
    frame = frame.join(since, on="subscriber", how="left")
    fraud_rec = s("since").is_not_null() & (s("started_at") >= s("since"))
    keep = rng.random(frame.height) < shift.fraud_keep
    frame = frame.filter(~fraud_rec | pl.Series(keep)).drop("since")
    if shift.duration_factor != 1.0 or shift.duration_spread:
        subs = frame["subscriber"].unique().sort()
        factor = pl.DataFrame(
            {
                "subscriber": subs,
                "f": shift.duration_factor
                * np.exp(rng.normal(0, shift.duration_spread, subs.len())),
            }
        )
        frame = (
            frame.join(factor, on="subscriber", how="left")
            .with_columns(duration_s=(s("duration_s") * s("f")).round().cast(pl.Int64))
            .drop("f")
        )
    if shift.rename:
        frame = frame.with_columns(
            cell_id=pl.format("CELL{}", s("cell_id").hash(7) % 1_000_003),
            imei=pl.format("{}", (s("imei").hash(11) % 10**15).cast(pl.Int64)).str.zfill(15),
        )
    return frame.sort("started_at"), labels
