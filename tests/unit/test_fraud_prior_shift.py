"""The prior-shift EM (Saerens, Latinne & Decaestecker 2002) behind `fraud evaluate`'s
expected precision: from unlabelled scores calibrated at the training mix's fraud share,
it recovers the share of the scored lines and the probabilities there."""

from __future__ import annotations

import numpy as np
import pytest

from models.fraud.training import estimate_prior_shift, measure_operating_point, shift_prior

TRAIN_SHARE = 0.04
#: How far apart fraudulent and ordinary lines sit on the latent axis (unit variance each).
SEPARATION = 3.5


def _posterior(x: np.ndarray, share: float) -> np.ndarray:
    """The exact probability of fraud given x, where fraud is `share` of the lines."""
    logit = np.log(share / (1 - share)) + SEPARATION * x - SEPARATION**2 / 2
    return 1 / (1 + np.exp(-logit))


def _lines(n: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(truth, x): labels drawn at `share`, x ~ N(0, 1) for ordinary lines, N(SEPARATION, 1)
    for fraudulent ones."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < share
    return y, rng.normal(0.0, 1.0, n) + SEPARATION * y


def test_re_weighting_turns_one_calibrated_prior_into_another() -> None:
    x = np.linspace(-4, 8, 200)
    assert shift_prior(_posterior(x, 0.04), 0.04, 0.004) == pytest.approx(
        _posterior(x, 0.004), abs=1e-12
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_a_low_prevalence_and_the_precision_it_implies(seed: int) -> None:
    y, x = _lines(250_000, 0.004, seed)
    score = _posterior(x, TRAIN_SHARE)  # what a model calibrated on the 4% mix says
    shift = estimate_prior_shift(score, TRAIN_SHARE)
    assert shift.prevalence == pytest.approx(y.mean(), rel=0.15)
    assert shift.prevalence == pytest.approx(0.004, rel=0.15)

    point, picked = measure_operating_point(score, y, 0.7, 0.01, train_prior=TRAIN_SHARE)
    assert point.flagged > 300  # enough flagged lines for the measured precision to mean much
    # The unadjusted mean over-states it by far; the adjusted one is close to the measured.
    assert (picked * score).sum() / point.flagged - point.precision > 0.2
    assert point.expected_precision == pytest.approx(point.precision, abs=0.05)


def test_without_a_shift_it_keeps_the_training_prior() -> None:
    y, x = _lines(200_000, TRAIN_SHARE, 4)
    shift = estimate_prior_shift(_posterior(x, TRAIN_SHARE), TRAIN_SHARE)
    assert shift.prevalence == pytest.approx(TRAIN_SHARE, rel=0.05)
    assert shift.prevalence == pytest.approx(y.mean(), rel=0.05)


@pytest.mark.parametrize(
    "score",
    [
        np.zeros(50),
        np.ones(3),
        np.array([0.5]),
        np.array([0.0]),
        np.array([0.0, 1.0, 1.0, 0.0, 0.3]),
        np.zeros(0),
    ],
    ids=["all zero", "all one", "one line", "one zero line", "exact zeros and ones", "none"],
)
def test_edge_cases_give_finite_numbers_between_0_and_1(score: np.ndarray) -> None:
    shift = estimate_prior_shift(score, TRAIN_SHARE)
    assert np.isfinite(shift.prevalence) and 0.0 <= shift.prevalence <= 1.0
    assert np.isfinite(shift.adjusted).all()
    assert ((shift.adjusted >= 0) & (shift.adjusted <= 1)).all()
    # A score of exactly 0 or 1 is certain, whatever the prevalence.
    assert (shift.adjusted[score == 0] == 0).all() and (shift.adjusted[score == 1] == 1).all()
    if len(score):
        point, _ = measure_operating_point(score, score >= 0.5, 0.7, 0.5, train_prior=0.04)
        assert point.expected_precision is not None and np.isfinite(point.expected_precision)


def test_all_zero_scores_estimate_no_fraud() -> None:
    assert estimate_prior_shift(np.zeros(1_000), TRAIN_SHARE).prevalence == pytest.approx(
        0, abs=1e-8
    )


def test_a_share_estimated_at_under_one_line_gives_no_expected_precision() -> None:
    """9,999 scores at the floor and one flagged line: EM settles at (nearly) no fraud,
    which would re-weight the flagged line to 0; it says it cannot estimate instead of
    printing an expected precision of 0.000 beside a 0.99 flag (a review finding)."""
    score = np.full(10_000, 5e-4)
    score[0] = 0.99
    y = np.zeros(10_000, dtype=bool)
    y[0] = True
    point, _ = measure_operating_point(score, y, 0.7, 0.01, train_prior=TRAIN_SHARE)
    assert point.flagged == 1 and point.estimated_prevalence is not None
    assert point.estimated_prevalence * 10_000 < 0.5
    text = "\n".join(point.lines_of_text())
    assert "expected precision - (the scores put fraud at under one line here" in text
    assert "expected precision 0.000" not in text
