"""Training SIM boxes come in more than the demo generator's one shape: `vary_sim_boxes`
puts a share of them on each SIM's own handset, with some numbers called again and a
second sector, from the line's `since` on, and leaves everything else as it was."""

from __future__ import annotations

import polars as pl

from models.fraud.synthetic import synthetic_usage, vary_sim_boxes


def _after(frame: pl.DataFrame, labels: pl.DataFrame, kind: str) -> pl.DataFrame:
    chosen = labels.filter(pl.col("kind") == kind).select("subscriber", "since")
    return frame.join(chosen, on="subscriber").filter(pl.col("started_at") >= pl.col("since"))


def test_a_share_of_sim_boxes_keep_their_own_handsets_and_nothing_else_changes() -> None:
    plain, labels = synthetic_usage(
        3000, 4, days=14, lookalike_share=0, sim_box_variety=0, quiet_sim_boxes=0
    )
    varied = vary_sim_boxes(plain, labels, 4, share=0.5)
    assert varied.columns == plain.columns and varied.height == plain.height

    boxes = labels.filter(pl.col("kind") == "sim_box")["subscriber"]
    assert boxes.len() >= 8
    others = ~pl.col("subscriber").is_in(boxes.implode())
    assert varied.filter(others).equals(plain.filter(others))
    since = labels.select("subscriber", "since")
    before = pl.col("since").is_null() | (pl.col("started_at") < pl.col("since"))
    assert (
        varied.join(since, on="subscriber", how="left")
        .filter(before)
        .drop("since")
        .equals(plain.join(since, on="subscriber", how="left").filter(before).drop("since"))
    )

    def sharing(frame: pl.DataFrame) -> dict[str, int]:
        """Per SIM box: how many other lines use its handset once it is a box."""
        box = _after(frame, labels, "sim_box").select("subscriber", "imei").unique()
        return {
            sub: box.filter((pl.col("imei") == imei) & (pl.col("subscriber") != sub)).height
            for sub, imei in box.iter_rows()
        }

    # In the demo generator every gateway of 3+ SIMs shares one IMEI; varied, some boxes
    # are on their own handset, and those call some numbers again.
    shared_before, shared_after = sharing(plain), sharing(varied)
    own = [s for s in boxes if shared_before.get(s, 0) > 0 and shared_after.get(s, 0) == 0]
    assert 0 < len(own) < boxes.len()
    outs = _after(varied, labels, "sim_box").filter(
        (pl.col("service") == "voice") & (pl.col("direction") == "out")
    )
    distinct = outs.group_by("subscriber").agg(share=pl.col("counterpart").n_unique() / pl.len())
    assert distinct["share"].min() < 0.95  # type: ignore[operator]
    sectors = (
        _after(varied, labels, "sim_box").group_by("subscriber").agg(n=pl.col("cell_id").n_unique())
    )
    assert sectors["n"].max() == 2  # type: ignore[comparison-overlap]
