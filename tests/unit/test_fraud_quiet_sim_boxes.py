"""Quiet SIM boxes in training: `quiet_boxes` hands a thin stream of a share of the SIM
boxes' gateway calls to ordinary lines, which keep their own life around it (contact
book, SMS, data, handset and cells). Each such line is labelled from its first gateway
call; the box line it came from keeps only what it did before, and is ordinary."""

from __future__ import annotations

import polars as pl

from models.fraud.synthetic import QUIET_BOX_CALLS, quiet_boxes, synthetic_usage

DAY = 86_400
s = pl.col


def _plain() -> tuple[pl.DataFrame, pl.DataFrame]:
    return synthetic_usage(
        3000, 4, days=14, lookalike_share=0, sim_box_variety=0, quiet_sim_boxes=0
    )


def test_quiet_boxes_ride_on_ordinary_lines_that_keep_their_own_life() -> None:
    plain, labels = _plain()
    quiet, moved_labels = quiet_boxes(plain, labels, 4, share=0.5)
    old_boxes = set(labels.filter(s("kind") == "sim_box")["subscriber"])
    new_boxes = set(moved_labels.filter(s("kind") == "sim_box")["subscriber"])
    owners = new_boxes - old_boxes
    emptied = old_boxes - new_boxes
    # About half the boxes moved, one owner each; every other label as it was.
    assert 0 < len(owners) == len(emptied) < len(old_boxes)
    assert moved_labels.height == labels.height
    assert moved_labels.filter(s("kind") != "sim_box").equals(labels.filter(s("kind") != "sim_box"))
    # Owners were ordinary demo lines, never another kind of fraud or a look-alike.
    assert not owners & set(labels["subscriber"])

    untouched = ~s("subscriber").is_in(list(owners | emptied))
    assert quiet.filter(untouched).equals(plain.filter(untouched))
    since = dict(moved_labels.select("subscriber", "since").iter_rows())
    old_since = dict(labels.select("subscriber", "since").iter_rows())
    low, high = QUIET_BOX_CALLS
    for owner in owners:
        mine = quiet.filter(s("subscriber") == owner)
        own = plain.filter(s("subscriber") == owner)
        # Everything the owner did is still there; the rest is gateway calls from `since`.
        assert mine.join(own, on=mine.columns, how="anti").height == mine.height - own.height
        extra = mine.join(own, on=mine.columns, how="anti")
        assert extra["started_at"].min() == since[owner]
        assert set(extra["service"]) == {"voice"} and set(extra["direction"]) == {"out"}
        # ...from the owner's own handset and cells.
        assert set(extra["imei"]) <= set(own["imei"])
        assert set(extra["cell_id"]) <= set(own["cell_id"])
        # A line at home, seen from the window's first day, and no call before its first.
        assert not own["roaming"].any() and not extra["roaming"].any()
        assert extra["started_at"].min() >= own["started_at"].min()
        assert own["started_at"].min() < plain["started_at"].min() + DAY
        assert own.height > 0
        days = max((extra["started_at"].max() - extra["started_at"].min()) / DAY, 1.0)
        assert 0.4 * low <= extra.height / days <= 1.6 * high
    for box in emptied:
        left = quiet.filter(s("subscriber") == box)
        assert left.filter(s("started_at") >= old_since[box]).height == 0
        assert left.equals(
            plain.filter((s("subscriber") == box) & (s("started_at") < old_since[box]))
        )


def test_every_sim_box_label_has_gateway_calls_and_the_default_has_quiet_ones() -> None:
    frame, labels = synthetic_usage(3000, 4, days=14, lookalike_share=0)
    boxes = labels.filter(s("kind") == "sim_box").select("subscriber", "since")
    calls = (
        frame.join(boxes, on="subscriber")
        .filter((s("started_at") >= s("since")) & (s("service") == "voice"))
        .group_by("subscriber")
        .agg(n=pl.len())
    )
    assert calls.height == boxes.height and calls["n"].min() > 0  # type: ignore[operator]
    living = (
        frame.join(boxes, on="subscriber")
        .filter((s("started_at") >= s("since")) & (s("service") == "data"))["subscriber"]
        .unique()
    )
    assert living.len() > 0


def test_same_seed_same_quiet_boxes() -> None:
    plain, labels = _plain()
    a = quiet_boxes(plain, labels, 4, share=0.5)
    b = quiet_boxes(plain, labels, 4, share=0.5)
    assert a[0].equals(b[0]) and a[1].equals(b[1])
    c = quiet_boxes(plain, labels, 5, share=0.5)
    assert not c[1].equals(a[1])
