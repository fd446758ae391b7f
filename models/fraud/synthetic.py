"""Labelled usage to train and check the model on, from the demo usage generator.

`synthetic_usage` calls `domain.demo.usage.generate_usage` for a made-up set of lines,
adds ordinary lines that resemble fraud (`lookalikes`: contact centres, PBX groups, IoT
modules...) and leaves a share of every line's outgoing calls unanswered. With `draws`
it makes the lines in chunks, each with its own draw of every constant the generators
randomise (`fraud train` uses `training_draws`), so the model learns the shape of a
profile over many draws rather than one draw's numbers.
`Shift` then bends the result the way another operator's data (or another generator)
would differ, so a model can be checked on data it was not shaped by: fraud at lower
or higher intensity (records thinned or repeated), calls longer or shorter, ordinary
lines busier or quieter, other cell and handset naming. A shorter window comes from
`training.trailing_window`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from domain.demo.reference import CIRCLES, HANDSET_TACS
from domain.demo.usage import Subscribers, generate_usage
from models.fraud.lookalikes import answer_noise, lookalikes
from models.fraud.usage_csv import frame_from_columns

DAY = 86_400
#: 2026-10-01 00:00 UTC.
WINDOW_START = 1_790_812_800
#: Lines of one draw of the generators' constants in `fraud train`'s data: enough for
#: every fraud kind (about ten lines each at a 4% fraud share) and every look-alike profile.
LINES_PER_DRAW = 1_500
#: At most this many draws: one draw of look-alike constants may never show, say, a
#: contact centre with few incoming calls, and a model trained on it flags every such
#: site; eight draws of 1,500 lines held up across training seeds where one did not.
MAX_DRAWS = 8
#: Share of SIM boxes whose gateway traffic is moved, thinned, onto an ordinary line.
QUIET_SIM_BOXES = 0.4
#: Gateway calls a day such a line makes on top of its own usage (low, high).
QUIET_BOX_CALLS = (5.0, 60.0)


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
    draws: int = 1,
    days: int = 30,
    records_per_subscriber: float = 110.0,
    fraud_share: float = 0.04,
    new_share: float = 0.04,
    lookalike_share: float = 0.10,
    unanswered_high: float = 0.35,
    sim_box_variety: float = 0.5,
    quiet_sim_boxes: float = QUIET_SIM_BOXES,
    shift: Shift | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(usage frame, labels `subscriber,kind,since`) for `subscribers` made-up lines.

    `lookalike_share` x `subscribers` ordinary look-alike lines come on top (their own
    numbers, never labelled); every line then gets up to `unanswered_high` of its
    outgoing calls unanswered (0 s). `sim_box_variety` of the SIM boxes keep their own
    handsets (`vary_sim_boxes`).

    With `draws` > 1 the lines come in that many chunks of about equal size, each from
    its own seed (`draw_seeds`): its own draw of every look-alike constant and profile
    share, its own demo subscribers, fraud and noise. The same total of lines, so a model
    sees `draws` generators' worth of constants, not one.
    """
    if draws < 1:
        raise ValueError("draws must be at least 1")
    sizes = _split(subscribers, draws)
    extras = _split(lookalike_count(subscribers, lookalike_share), draws)
    frames, label_parts = [], []
    taken = np.zeros(0, dtype="U12")
    first = 0
    for chunk_seed, size, extra in zip(draw_seeds(seed, draws), sizes, extras, strict=True):
        frame, labels, numbers = _one_draw(
            size,
            chunk_seed,
            extra,
            first=first,
            taken=taken,
            days=days,
            records_per_subscriber=records_per_subscriber,
            fraud_share=fraud_share,
            new_share=new_share,
            unanswered_high=unanswered_high,
            sim_box_variety=sim_box_variety,
            quiet_sim_boxes=quiet_sim_boxes,
        )
        frames.append(frame)
        label_parts.append(labels)
        taken = np.concatenate([taken, numbers])
        first += extra
    frame, labels = frames[0], label_parts[0]
    if draws > 1:
        frame = pl.concat(frames).sort("started_at", maintain_order=True)
        labels = pl.concat(label_parts)
    if shift is not None:
        frame, labels = _bend(frame, labels, shift, np.random.default_rng([seed, 99]))
    return frame, labels


def training_draws(lines: int) -> int:
    """How many draws of the generators' constants `fraud train` makes `lines` lines from."""
    return max(1, min(MAX_DRAWS, lines // LINES_PER_DRAW))


def training_usage(lines: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`fraud train`'s generated data: `lines` lines in `training_draws(lines)` draws."""
    return synthetic_usage(lines, seed, draws=training_draws(lines))


def draw_seeds(seed: int, draws: int) -> list[int]:
    """The seed of each of `draws` chunks: `seed` itself for one, else derived from it."""
    if draws == 1:
        return [seed]
    return [int(x) for x in np.random.SeedSequence([seed, 1723]).generate_state(draws)]


def _split(total: int, parts: int) -> list[int]:
    """`total` in `parts` near-equal whole parts."""
    return np.diff(np.linspace(0, total, parts + 1).round().astype(np.int64)).tolist()


def _one_draw(
    subscribers: int,
    seed: int,
    extra: int,
    *,
    first: int,
    taken: np.ndarray,
    days: int,
    records_per_subscriber: float,
    fraud_share: float,
    new_share: float,
    unanswered_high: float,
    sim_box_variety: float,
    quiet_sim_boxes: float = 0.0,
) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    """One chunk of `synthetic_usage`: (frame, labels, the demo lines' numbers).

    Its look-alike lines are numbered from `first`, and a demo number already `taken` by
    an earlier chunk is drawn again, so chunks never share a line.
    """
    subs, cells = _subscribers(subscribers, seed, days, new_share)
    clash = np.isin(subs.msisdn, taken)
    if clash.any():
        r = np.random.default_rng([seed, 8])
        msisdn = subs.msisdn.copy()
        while clash.any():
            msisdn[clash] = np.char.add(
                "91", r.integers(6 * 10**9, 10**10, clash.sum()).astype("U10")
            )
            clash = np.isin(msisdn, taken) | _repeated(msisdn)
        subs = replace(subs, msisdn=msisdn)
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
    if extra > 0:
        frame = pl.concat([frame, lookalikes(extra, seed, WINDOW_START, days, first=first)])
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
    if sim_box_variety > 0:
        frame = vary_sim_boxes(frame, labels, seed, share=sim_box_variety)
    if quiet_sim_boxes > 0:
        frame, labels = quiet_boxes(frame, labels, seed, share=quiet_sim_boxes)
    return frame, labels, subs.msisdn


def _repeated(values: np.ndarray) -> np.ndarray:
    """True where a value also occurs earlier in `values`."""
    _, index = np.unique(values, return_index=True)
    seen = np.ones(values.size, dtype=bool)
    seen[index] = False
    return seen


def vary_sim_boxes(
    frame: pl.DataFrame, labels: pl.DataFrame, seed: int, share: float = 0.5
) -> pl.DataFrame:
    """SIM boxes as they also come: `share` of them keep each SIM's own handset (a gateway
    with a module per SIM), call back some numbers and straddle two sectors of a tower.

    The demo generator's gateways always put their SIMs on one shared IMEI, one cell and
    numbers never called twice; a model that learns only that calls any other SIM box a
    contact centre. Every record from the line's `since` on changes; before it, nothing.
    """
    rng = np.random.default_rng([seed, 31])
    boxes = labels.filter(pl.col("kind") == "sim_box")
    if boxes.height == 0 or share <= 0:
        return frame
    pick = boxes.filter(pl.Series(rng.random(boxes.height) < share))
    if pick.height == 0:
        return frame
    s = pl.col
    per_line = pick.select(
        "subscriber",
        "since",
        _repeat=pl.Series(rng.uniform(0.0, 0.4, pick.height)),
        _other_sector=pl.Series(rng.uniform(0.0, 0.5, pick.height)),
    )
    own = (
        frame.join(pick.select("subscriber", "since"), on="subscriber")
        .filter(s("started_at") < s("since"))
        .group_by("subscriber")
        .agg(_own=s("imei").mode().first())
    )
    box = s("since").is_not_null() & (s("started_at") >= s("since"))
    calls_out = (s("service") == "voice") & (s("direction") == "out")
    out = (
        frame.with_row_index("_i")
        .join(per_line, on="subscriber", how="left")
        .join(own, on="subscriber", how="left")
        .with_columns(
            _u=pl.Series(rng.random(frame.height)), _v=pl.Series(rng.random(frame.height))
        )
        .with_columns(_earlier=s("counterpart").shift(7).over("subscriber", order_by="_i"))
    )
    return (
        out.with_columns(
            imei=pl.when(box & s("_own").is_not_null()).then(s("_own")).otherwise(s("imei")),
            counterpart=pl.when(
                box & calls_out & (s("_u") < s("_repeat")) & s("_earlier").is_not_null()
            )
            .then(s("_earlier"))
            .otherwise(s("counterpart")),
            cell_id=pl.when(box & (s("_v") < s("_other_sector")))
            .then(s("cell_id").str.replace(r"-(\d)$", "-9"))
            .otherwise(s("cell_id")),
        )
        .sort("_i")
        .select(frame.columns)
    )


def quiet_boxes(
    frame: pl.DataFrame, labels: pl.DataFrame, seed: int, share: float = QUIET_SIM_BOXES
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """SIM boxes kept quiet: `share` of them hand a thin stream of their gateway calls
    (`QUIET_BOX_CALLS` a day) to an ordinary line, which keeps its own life around it.

    The line's owner goes on calling its contact book, texting and browsing from its own
    handset and cells, and the gateway calls go out from them too: a SIM in a box that
    is also someone's phone, or a box rotating through many SIMs so each looks busy but
    ordinary. The chosen ordinary line is labelled `sim_box` from its first such call;
    the SIM box line it came from keeps only its usage before `since`, as an ordinary line.
    """
    rng = np.random.default_rng([seed, 41])
    s = pl.col
    boxes = labels.filter(s("kind") == "sim_box")
    pick = boxes.filter(pl.Series(rng.random(boxes.height) < share))
    # Owners: ordinary demo lines seen from the window's first day, never abroad (a
    # gateway stays home, and does not call before its SIM exists).
    lines = (
        frame.filter(~s("subscriber").str.starts_with("915"))
        .group_by("subscriber")
        .agg(_first=s("started_at").min(), _roams=s("roaming").any())
    )
    start = frame["started_at"].min()
    owners = (
        lines.filter(
            ~s("subscriber").is_in(labels["subscriber"].implode())
            & ~s("_roams")
            & (s("_first") < start + DAY)  # type: ignore[operator]
        )["subscriber"]
        .sort()
        .to_numpy()
    )
    if pick.height == 0 or owners.size < pick.height:
        return frame, labels
    owner = rng.choice(owners, pick.height, replace=False)
    plan = pick.select(
        "subscriber",
        "since",
        _owner=pl.Series(owner),
        _rate=pl.Series(rng.uniform(*QUIET_BOX_CALLS, pick.height)),
    )
    box = frame.join(plan, on="subscriber").filter(s("started_at") >= s("since"))
    calls = box.filter((s("service") == "voice") & (s("direction") == "out"))
    days = calls.group_by("subscriber").agg(
        _days=((s("started_at").max() - s("since").first()) / DAY).clip(1.0), _n=pl.len()
    )
    calls = (
        calls.join(days, on="subscriber")
        .with_columns(_keep=pl.Series(rng.random(calls.height)) < s("_rate") * s("_days") / s("_n"))
        .filter(s("_keep"))
    )
    # The owner's own handset and cells, drawn from its records.
    own = (
        frame.filter(s("subscriber").is_in(plan["_owner"].implode()))
        .group_by("subscriber")
        .agg(
            _imei=s("imei").mode().sort().first(),
            _cells=s("cell_id").unique().sort(),
            _first=s("started_at").min(),
        )
    )
    calls = calls.join(own.rename({"subscriber": "_owner"}), on="_owner").filter(
        s("started_at") >= s("_first")
    )
    pickc = rng.random(calls.height)
    moved = calls.with_columns(
        subscriber=s("_owner"),
        imei=s("_imei"),
        cell_id=s("_cells").list.get(
            (pl.Series(pickc) * s("_cells").list.len()).floor().cast(pl.Int64)
        ),
    ).select(frame.columns)
    gone = frame.join(plan.select("subscriber", "since"), on="subscriber", how="left")
    kept = gone.filter(s("since").is_null() | (s("started_at") < s("since"))).select(frame.columns)
    new_labels = moved.group_by("subscriber").agg(since=s("started_at").min()).sort("subscriber")
    labels = pl.concat(
        [
            labels.filter(~s("subscriber").is_in(plan["subscriber"].implode())),
            new_labels.select("subscriber", kind=pl.lit("sim_box"), since="since"),
        ],
        how="vertical_relaxed",
    )
    out = pl.concat([kept, moved]).sort("started_at", maintain_order=True)
    return out, labels.select(labels.columns)


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
