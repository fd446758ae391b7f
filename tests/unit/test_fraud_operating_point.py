"""The desk's operating point: over the threshold, at most the budget's lines, worst first,
a tie at the cut taken at random; the expected precision is the flagged lines' mean score."""

from __future__ import annotations

import numpy as np
import pytest

from models.fraud.training import measure_operating_point, operating_point

SCORES = np.array([0.95, 0.9, 0.8, 0.8, 0.8, 0.6, 0.4, 0.2, 0.1, 0.05])


def test_the_threshold_decides_while_the_budget_has_room() -> None:
    picked = operating_point(SCORES, threshold=0.7, cap=6)
    assert picked.tolist() == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]


def test_the_cap_cuts_worst_first_and_a_tie_at_the_cut_counts_by_its_share() -> None:
    picked = operating_point(SCORES, threshold=0.3, cap=3)
    assert picked[:2].tolist() == [1, 1]
    assert picked[2:5] == pytest.approx([1 / 3] * 3)
    assert picked[5:].sum() == 0
    assert picked.sum() == pytest.approx(3)


def test_precision_recall_and_expected_precision_at_the_point() -> None:
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0], dtype=bool)
    point, picked = measure_operating_point(SCORES, y, threshold=0.3, budget=0.3)
    assert (point.cap, point.flagged) == (3, pytest.approx(picked.sum()))
    assert picked.tolist()[:2] == [1, 1]
    assert point.precision == pytest.approx((1 + 1 / 3) / 3)
    assert point.recall == pytest.approx((1 + 1 / 3) / 3)
    assert point.expected_precision == pytest.approx((0.95 + 0.9 + 0.8) / 3)
    assert point.describe() == "threshold 0.30, at most 3 lines = 30.00% of lines"
    assert "the cap binds" not in "\n".join(point.lines_of_text())


def test_nothing_over_the_threshold_flags_nothing_and_says_so() -> None:
    y = SCORES > 0.85
    point, _ = measure_operating_point(SCORES, y, threshold=0.99, budget=0.1)
    assert (point.flagged, point.precision, point.recall) == (0, 0.0, 0.0)
    assert "nothing flagged" in point.lines_of_text()[1]


def test_a_cap_below_the_fraudulent_lines_says_what_recall_it_allows() -> None:
    y = SCORES >= 0.6
    point, _ = measure_operating_point(SCORES, y, threshold=0.5, budget=0.2)
    assert point.recall == pytest.approx(2 / 6)
    assert (
        "6 fraudulent lines, at most 2 flagged, so recall can reach 0.333"
        in (point.lines_of_text()[2])
    )
