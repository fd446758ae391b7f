"""How the demo generator writes rows: columns of NumPy arrays or lists, one per table.

Timestamps are int64 epoch seconds (UTC); NULL_TIME stands for no value, and NULL_ID
for no row in a nullable foreign key. `domain.demo.loader` turns them into SQL values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numpy as np

Columns = dict[str, Any]
NULL_TIME = np.iinfo(np.int64).min
#: Stands for no row in a nullable foreign-key column.
NULL_ID = -1
#: SQL NULL inside an object column (typed Any so np.where accepts it).
NULL: Any = None
#: An instant after every other, for spans that have not ended.
FOREVER = np.iinfo(np.int64).max // 2
DAY = 86_400


def epoch(d: date | datetime) -> int:
    """Epoch seconds of a UTC datetime, or of a date's midnight UTC."""
    if isinstance(d, datetime):
        return int(d.timestamp())
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def digits(rng: np.random.Generator, n: int, width: int, first_min: int = 0) -> np.ndarray:
    """n random digit strings of a given width (first digit at least first_min)."""
    lo = first_min * 10 ** (width - 1)
    nums = rng.integers(lo, 10**width, size=n, dtype=np.int64)
    return np.char.zfill(nums.astype(f"U{width}"), width)


def unique_numbers(
    rng: np.random.Generator, n: int, lo: int, hi: int, avoid: tuple[int, int] | None = None
) -> np.ndarray:
    """n distinct integers in [lo, hi), none in the range `avoid`, in a seeded order."""
    out = np.empty(0, dtype=np.int64)
    while out.size < n:
        draw = rng.integers(lo, hi, size=int((n - out.size) * 1.1) + 16, dtype=np.int64)
        if avoid is not None:
            draw = draw[(draw < avoid[0]) | (draw >= avoid[1])]
        both = np.concatenate([out, draw])
        _, first = np.unique(both, return_index=True)
        out = both[np.sort(first)]
    return out[:n]
