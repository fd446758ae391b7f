"""The desk's operating point: over the threshold, at most the budget's lines, worst first,
a tie at the cut taken at random; the expected precision is the flagged lines' mean score
re-weighted from the training mix's fraud share to the share estimated on the lines."""

from __future__ import annotations

import numpy as np
import pytest

from models.fraud.training import estimate_prior_shift, measure_operating_point, operating_point

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
    point, picked = measure_operating_point(SCORES, y, threshold=0.3, budget=0.3, train_prior=0.5)
    assert (point.cap, point.flagged) == (3, pytest.approx(picked.sum()))
    assert picked.tolist()[:2] == [1, 1]
    assert point.precision == pytest.approx((1 + 1 / 3) / 3)
    assert point.recall == pytest.approx((1 + 1 / 3) / 3)
    # The scores re-weighted by hand from the training share 0.5 to the estimated one.
    pi = point.estimated_prevalence
    assert pi == pytest.approx(estimate_prior_shift(SCORES, 0.5).prevalence)
    adjusted = pi * SCORES / (pi * SCORES + (1 - pi) * (1 - SCORES))
    assert pi == pytest.approx(adjusted.mean(), abs=1e-8)
    assert point.expected_precision == pytest.approx((picked * adjusted).sum() / 3, abs=1e-8)
    assert point.describe() == "threshold 0.30, at most 3 lines = 30.00% of lines"
    text = "\n".join(point.lines_of_text())
    assert "the cap binds" not in text
    assert (
        f"estimated from the scores alone, no labels: fraud on {pi:.2%} of lines "
        f"(labels: 30.00%); expected precision {point.expected_precision:.3f} (scores "
        "re-weighted from the training mix's 50.00%: holds if the share of fraud is all "
        "that differs)"
    ) in text
    # 3 fraudulent lines in 10 where the scores expect 6.3: said, with the ratio.
    assert point.estimate_off() == pytest.approx(pi / 0.3)
    assert f"the estimated share is {pi / 0.3:.2f}x the labels'" in text


def test_an_estimate_far_from_the_labels_share_says_the_expected_figures_do_not_hold() -> None:
    near, _ = measure_operating_point(SCORES, SCORES >= 0.4, 0.3, 0.3, train_prior=0.5)
    assert near.estimate_off() is None  # 6.3 expected, 7 labelled: within 1.25x
    assert "the estimated share is" not in "\n".join(near.lines_of_text())
    y = SCORES >= 0.95  # one fraudulent line where the scores expect several
    point, _ = measure_operating_point(SCORES, y, threshold=0.3, budget=0.3, train_prior=0.5)
    off = point.estimated_prevalence / 0.1  # type: ignore[operator]
    assert off > 1.25 and point.estimate_off() == pytest.approx(off)
    assert point.lines_of_text()[-1] == (
        f"  the estimated share is {off:.2f}x the labels': the scores take ordinary lines "
        "for fraud unlike the training mix, so the expected figures do not hold here"
    )


def test_a_model_without_its_training_share_says_the_expectation_is_unavailable() -> None:
    y = SCORES > 0.85
    point, _ = measure_operating_point(SCORES, y, threshold=0.3, budget=0.3)
    assert point.expected_precision is None and point.estimated_prevalence is None
    assert point.lines_of_text()[1] == (
        "  expected precision: not estimated: this model does not record the fraud share "
        "it was trained on (train it again to have it)"
    )


def test_nothing_over_the_threshold_flags_nothing_and_says_so() -> None:
    y = SCORES > 0.85
    point, _ = measure_operating_point(SCORES, y, threshold=0.99, budget=0.1, train_prior=0.04)
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
