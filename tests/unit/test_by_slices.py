"""by_slices: element-wise work over slices joins to the same result as over the whole."""

from __future__ import annotations

import numpy as np
import pytest

from domain.billing import rating
from domain.billing.rating import by_slices


def halves_and_flags(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    return a // 2 + b, a > b


@pytest.mark.parametrize("size", [1, 3, 7, 100])
def test_slices_join_to_the_whole(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    a = np.arange(23, dtype=np.int64) * 7 % 11
    b = np.arange(23, dtype=np.int64)[::-1].copy()
    whole = halves_and_flags(a, b)
    monkeypatch.setattr(rating, "_SLICE", size)
    got = by_slices(halves_and_flags, a, b)
    assert [g.dtype for g in got] == [w.dtype for w in whole]
    assert all(np.array_equal(g, w) for g, w in zip(got, whole, strict=True))


def test_no_records_is_no_work() -> None:
    empty = np.array([], dtype=np.int64)
    got = by_slices(halves_and_flags, empty, empty)
    assert [g.size for g in got] == [0, 0]
