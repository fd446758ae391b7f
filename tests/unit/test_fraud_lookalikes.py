"""Ordinary look-alike lines for training: each profile has its shape, and none is a demo line."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.fraud.features import compute_features
from models.fraud.lookalikes import (
    PROFILES,
    RANGES,
    answer_noise,
    draw_constants,
    lookalike_profiles,
    lookalikes,
)
from models.fraud.synthetic import WINDOW_START, synthetic_usage

LINES = 420
SEED = 5
DAYS = 14


@pytest.fixture(scope="module")
def usage() -> pl.DataFrame:
    return lookalikes(LINES, SEED, WINDOW_START, DAYS)


@pytest.fixture(scope="module")
def by_profile(usage: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Each profile's lines with their features."""
    f = compute_features(usage).frame()
    f = f.join(lookalike_profiles(LINES, SEED), on="subscriber", how="left")
    return {p: f.filter(pl.col("profile") == p) for p in PROFILES}


def _median(frame: pl.DataFrame, name: str) -> float:
    return float(frame[name].median())  # type: ignore[arg-type]


def test_every_profile_has_lines_and_every_line_a_profile(
    usage: pl.DataFrame, by_profile: dict[str, pl.DataFrame]
) -> None:
    assert all(by_profile[p].height >= 5 for p in PROFILES), {
        p: f.height for p, f in by_profile.items()
    }
    assert sum(f.height for f in by_profile.values()) == usage["subscriber"].n_unique()
    assert usage["started_at"].min() >= WINDOW_START  # type: ignore[operator]
    assert usage["started_at"].max() < WINDOW_START + DAYS * 86_400  # type: ignore[operator]


def test_contact_centre_seats_call_a_lot_from_one_cell_on_weekdays(
    usage: pl.DataFrame, by_profile: dict[str, pl.DataFrame]
) -> None:
    cc = by_profile["contact_centre"]
    assert _median(cc, "voice_out_per_day") > 25
    assert (cc["top_cell_share"] > 0.97).all()
    assert (cc["unanswered_out_share"] > 0).all()
    assert (cc["voice_in_per_out"] > 0).all()  # answered calls come in
    assert _median(cc, "weekend_out_share") < 2 / 7  # quieter than an even week
    assert (cc["imei_shared_with"] == 0).all()  # each seat its own handset
    seats = usage.filter(pl.col("subscriber").is_in(cc["subscriber"].implode()))
    assert seats["cell_id"].n_unique() < cc.height / 2  # sites of many seats


def test_enterprise_pbx_lines_call_a_contact_book_and_ordinary_ranges_abroad(
    by_profile: dict[str, pl.DataFrame],
) -> None:
    pbx = by_profile["enterprise_pbx"]
    assert (pbx["top_cell_share"] > 0.97).all()
    assert _median(pbx, "repeat_counterpart_share") > 0.1
    assert (pbx["intl_out_share"] > 0).any()
    assert (pbx["premium_out"] == 0).all()
    assert _median(pbx, "voice_in_per_out") > 0.2


def test_m2m_modules_only_text_or_only_use_data_from_one_cell_on_one_tac(
    usage: pl.DataFrame, by_profile: dict[str, pl.DataFrame]
) -> None:
    m2m = by_profile["m2m"]
    assert (m2m["voice_out_per_day"] == 0).all()
    assert ((m2m["data_share"] == 1) | (m2m["sms_out_per_day"] > 0)).all()
    assert (m2m["cells"] == 1).all()
    records = usage.filter(pl.col("subscriber").is_in(m2m["subscriber"].implode()))
    assert (records["service"] != "voice").all()
    tacs = records["imei"].str.slice(0, 8).n_unique()
    assert tacs < m2m.height / 3  # a fleet's modules share one TAC


def test_households_share_one_handset_between_two_to_four_sims(
    by_profile: dict[str, pl.DataFrame],
) -> None:
    hh = by_profile["household"]
    assert _median(hh, "imei_shared_with") >= 1
    assert hh["imei_shared_with"].max() <= 3  # type: ignore[operator]
    assert _median(hh, "voice_out_per_day") < 5


def test_night_shift_abroad_and_migrant_workers(by_profile: dict[str, pl.DataFrame]) -> None:
    assert _median(by_profile["night_shift"], "night_out_share") > 0.4
    abroad = by_profile["abroad"]
    assert (abroad["roaming_share"] > 0).all()
    assert (abroad["premium_out"] == 0).all()
    migrant = by_profile["migrant_worker"]
    assert _median(migrant, "intl_out_per_day") > 0.5
    assert _median(migrant, "top_counterpart_share") > 0.2  # one or two numbers at home
    assert (migrant["premium_out"] == 0).all()


def test_constants_are_drawn_per_seed_inside_their_ranges() -> None:
    a, b = draw_constants(0), draw_constants(1)
    assert a == draw_constants(0)
    for profile, ranges in RANGES.items():
        for name, (low, high) in ranges.items():
            assert low <= a[profile][name] <= high
            assert a[profile][name] != b[profile][name], (profile, name)
    counts = [lookalike_profiles(LINES, s)["profile"].value_counts(sort=True) for s in (0, 1)]
    assert not counts[0].equals(counts[1])


def test_synthetic_usage_adds_lookalikes_with_their_own_numbers_and_handsets() -> None:
    plain, plain_labels = synthetic_usage(200, 9, days=10, lookalike_share=0.0, unanswered_high=0.0)
    frame, labels = synthetic_usage(200, 9, days=10)
    extra = lookalike_profiles(20, 9)["subscriber"]
    lines = frame["subscriber"].unique()
    demo = plain["subscriber"].unique()
    assert lines.is_in(extra.implode()).sum() == 20
    assert not extra.is_in(demo.implode()).any()
    assert set(lines.to_list()) == set(demo.to_list()) | set(extra.to_list())
    assert labels.equals(plain_labels)  # look-alikes are never labelled
    theirs = frame.filter(pl.col("subscriber").is_in(extra.implode()))["imei"].unique()
    assert not theirs.is_in(plain["imei"].unique().implode()).any()
    # The demo generator answers every call; the training data does not.
    calls = pl.col("service").eq("voice") & pl.col("direction").eq("out")
    assert plain.filter(calls & pl.col("duration_s").eq(0)).height == 0
    demo_calls = frame.filter(calls & ~pl.col("subscriber").is_in(extra.implode()))
    assert 0.05 < demo_calls["duration_s"].eq(0).mean() < 0.3  # type: ignore[operator]


def test_answer_noise_leaves_a_share_of_each_lines_calls_unanswered() -> None:
    n = 2_000
    rng = np.random.default_rng(0)
    frame = pl.DataFrame(
        {
            "subscriber": np.repeat(np.arange(40).astype(str), n // 40),
            "started_at": np.arange(n),
            "service": np.where(rng.random(n) < 0.8, "voice", "sms"),
            "direction": "out",
            "duration_s": 60,
        }
    )
    noisy = answer_noise(frame, seed=3, high=0.5)
    assert noisy.drop("duration_s").equals(frame.drop("duration_s"))
    assert noisy.filter(pl.col("service") == "sms")["duration_s"].eq(60).all()
    share = (
        noisy.filter(pl.col("service") == "voice")
        .group_by("subscriber")
        .agg(pl.col("duration_s").eq(0).mean())["duration_s"]
    )
    assert share.max() < 0.65  # type: ignore[operator]
    assert share.min() < 0.15 < share.max()  # type: ignore[operator]  # a share per line
    assert answer_noise(frame, seed=3, high=0.5).equals(noisy)
    assert not answer_noise(frame, seed=4, high=0.5).equals(noisy)
