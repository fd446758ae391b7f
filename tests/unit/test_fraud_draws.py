"""Training data from several draws of the generators' constants (`synthetic_usage(draws=)`)."""

from __future__ import annotations

import polars as pl
import pytest

from models.fraud.features import compute_features
from models.fraud.lookalikes import draw_constants, lookalike_profiles
from models.fraud.synthetic import (
    _split,
    draw_seeds,
    lookalike_count,
    synthetic_usage,
    training_draws,
)

LINES = 2_000
SEED = 6
DRAWS = 4
DAYS = 10


@pytest.fixture(scope="module")
def drawn() -> tuple[pl.DataFrame, pl.DataFrame]:
    return synthetic_usage(LINES, SEED, draws=DRAWS, days=DAYS)


def _chunk_profiles() -> list[pl.DataFrame]:
    """Each chunk's look-alike lines and their profiles, as `synthetic_usage` numbers them."""
    chunks, first = [], 0
    for chunk_seed, extra in zip(
        draw_seeds(SEED, DRAWS), _split(lookalike_count(LINES), DRAWS), strict=True
    ):
        chunks.append(lookalike_profiles(extra, chunk_seed, first=first))
        first += extra
    return chunks


def test_the_same_seed_gives_the_same_data_and_one_draw_is_the_plain_generator() -> None:
    frame, labels = synthetic_usage(400, SEED, draws=DRAWS, days=DAYS)
    again, again_labels = synthetic_usage(400, SEED, draws=DRAWS, days=DAYS)
    assert frame.equals(again) and labels.equals(again_labels)
    other, _ = synthetic_usage(400, SEED + 1, draws=DRAWS, days=DAYS)
    assert not frame.equals(other)
    plain, plain_labels = synthetic_usage(300, SEED, days=DAYS)
    one, one_labels = synthetic_usage(300, SEED, draws=1, days=DAYS)
    assert plain.equals(one) and plain_labels.equals(one_labels)
    with pytest.raises(ValueError, match="draws"):
        synthetic_usage(300, SEED, draws=0)


def test_draws_keep_the_total_of_lines_and_never_share_one(
    drawn: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    frame, labels = drawn
    chunks = _chunk_profiles()
    extra = pl.concat(chunks)["subscriber"]
    assert extra.n_unique() == lookalike_count(LINES)  # numbered apart across chunks
    lines = frame["subscriber"].unique()
    assert lines.is_in(extra.implode()).sum() == extra.len()
    demo = lines.filter(~lines.is_in(extra.implode()))
    # A demo line with no record in the window is possible; a shared one would be fewer.
    assert LINES - 5 <= demo.len() <= LINES
    assert labels["subscriber"].is_in(demo.implode()).all()  # look-alikes never labelled
    assert labels["subscriber"].n_unique() == labels.height
    assert 0.03 * LINES <= labels.height <= 0.05 * LINES  # fraud_share 0.04 in every chunk


def test_each_draw_has_its_own_lookalike_constants(
    drawn: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    """Contact centres' incoming calls per outgoing one (drawn from 0.02-0.5 per draw)
    span a range across the chunks: one draw of the constants would give one level."""
    frame, _ = drawn
    features = compute_features(frame).frame()
    levels = []
    for chunk, chunk_seed in zip(_chunk_profiles(), draw_seeds(SEED, DRAWS), strict=True):
        seats = chunk.filter(pl.col("profile") == "contact_centre")["subscriber"]
        assert seats.len() >= 3
        cc = features.filter(pl.col("subscriber").is_in(seats.implode()))
        level = float(cc["voice_in_per_out"].median())  # type: ignore[arg-type]
        drawn_level = draw_constants(chunk_seed)["contact_centre"]["in_per_out"]
        assert level == pytest.approx(drawn_level, rel=0.3)  # the chunk follows its own draw
        levels.append(level)
    assert max(levels) > 1.6 * min(levels), levels
    # The profiles' shares are drawn per chunk too.
    mixes = [c["profile"].value_counts(sort=True) for c in _chunk_profiles()]
    assert any(not mixes[0].equals(m) for m in mixes[1:])


def test_fraud_train_draws_eight_times_when_each_draw_has_enough_lines() -> None:
    # 12,000 lines (the default) in eight draws of 1,500; a small set stays one draw,
    # so every draw keeps about ten lines of each fraud kind.
    assert [training_draws(n) for n in (100, 2_400, 3_000, 12_000, 200_000)] == [1, 1, 2, 8, 8]
