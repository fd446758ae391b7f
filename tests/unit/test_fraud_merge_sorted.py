"""The running window merges today's cp rows into the sorted past without sorting it
again: the result must be the sort-and-merge's, row for row."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.fraud.features import merge_into_sorted, merge_partials


def _cp(rng: np.random.Generator, rows: int, wide: bool) -> pl.DataFrame:
    numbers = (
        rng.integers(-(2**63), 2**63 - 1, rows, dtype=np.int64)
        if wide
        else rng.integers(-3, 4, rows)
    )
    return pl.DataFrame(
        {
            "subscriber": rng.integers(0, 5, rows),
            "cp": numbers,
            "n": rng.integers(0, 9, rows).astype(np.uint32),
            "max_intl": rng.integers(0, 2, rows).astype(np.int8),
        }
    )


@pytest.mark.parametrize("seed", range(40))
def test_merge_into_sorted_equals_sort_and_merge(seed: int) -> None:
    rng = np.random.default_rng(seed)
    past = merge_partials("cp", [_cp(rng, int(rng.integers(0, 60)), seed % 2 == 0)], by_sort=True)
    if seed % 3 == 0:  # a past stored in another order is sorted first
        past = past.sample(fraction=1.0, shuffle=True, seed=seed)
    # Today's rows: some keys the past has (merged into it), some new (inserted).
    today = pl.concat([past.sample(fraction=0.3, seed=seed), _cp(rng, 20, seed % 2 == 0)])
    want = merge_partials("cp", [past, today], by_sort=True)
    got = merge_into_sorted("cp", past, today)
    assert got.equals(want)


def test_merge_into_sorted_keeps_sums_and_maxima() -> None:
    past = pl.DataFrame(
        {"subscriber": [1, 1, 2], "cp": [5, 9, 5], "n": [2, 1, 4], "max_intl": [0, 1, 0]},
        schema={"subscriber": pl.Int64, "cp": pl.Int64, "n": pl.UInt32, "max_intl": pl.Int8},
    )
    today = pl.DataFrame(
        {"subscriber": [1, 2, 0], "cp": [9, 5, 7], "n": [3, 1, 1], "max_intl": [0, 1, 1]},
        schema=past.schema,
    )
    got = merge_into_sorted("cp", past, today)
    assert got.rows() == [(0, 7, 1, 1), (1, 5, 2, 0), (1, 9, 4, 1), (2, 5, 5, 1)]
