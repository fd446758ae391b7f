"""The fraud model's parts: Platt-calibrated scores that rank without ties, the novelty
part (what is unusual, in plain words with how far past ordinary), and sample weights
that move the model the way analysts' decisions should."""

from __future__ import annotations

import numpy as np
import pytest

from models.fraud.features import FEATURES, Features
from models.fraud.model import NORMAL, FraudModel, as_scores
from models.fraud.synthetic import synthetic_usage
from models.fraud.training import feature_rows

#: A kind left out of training: the booster never sees it labelled.
HELD_OUT = "sms_pumping"


def _rows(lines: int, seed: int, windows: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    frame, labels = synthetic_usage(lines, seed)
    X, kinds, _ = feature_rows(frame, labels, windows)
    return X, kinds


@pytest.fixture(scope="module")
def training() -> tuple[np.ndarray, np.ndarray]:
    X, kinds = _rows(1_200, 1, (0, 7))
    known = kinds != HELD_OUT
    return X[known], kinds[known]


@pytest.fixture(scope="module")
def model(training: tuple[np.ndarray, np.ndarray]) -> FraudModel:
    X, kinds = training
    return FraudModel(threshold=0.5, max_iter=80).fit(X, kinds)


@pytest.fixture(scope="module")
def unseen() -> Features:
    X, _ = _rows(1_200, 7, (0,))
    subs = np.array([f"91990{i:07d}" for i in range(len(X))])
    return Features(subs, X, records=0, window_start=0, window_end=0)


def _ordinary_row(model: FraudModel, X: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """The ordinary training line the model scores lowest."""
    normal = X[kinds == NORMAL]
    return normal[int(np.argmin(model.predict_proba(normal)[:, 1]))].copy()


def _ordinary_line(
    model: FraudModel, training: tuple[np.ndarray, np.ndarray], feature: str
) -> tuple[np.ndarray, int, float]:
    """The ordinary training line the model scores lowest, the feature's column, and the
    most 99.9% of ordinary lines show in it."""
    i = FEATURES.index(feature)
    return _ordinary_row(model, *training), i, float(model.normal_extreme_[i])


def test_flagged_lines_that_differ_have_distinct_scores(
    model: FraudModel, unseen: Features
) -> None:
    frame = model.score(unseen)
    top = frame.filter(frame["flagged"])
    assert top.height >= 20
    rows = {s: unseen.matrix[i] for i, s in enumerate(unseen.subscribers.tolist())}
    distinct_rows = {rows[s].tobytes() for s in top["subscriber"]}
    assert len(distinct_rows) == top.height  # the generated lines differ...
    assert top["score"].n_unique() == top.height  # ...and so do their scores
    assert top["score"].max() < 1.0  # no plateau at 1.0
    scores = frame["score"].to_numpy()
    assert (np.diff(scores) <= 0).all()  # worst first, on the full value
    # Full precision: a score is not cut to a few decimals.
    assert any(round(s, 4) != s for s in top["score"].to_list())


def test_isotonic_is_still_there_when_asked_for(training: tuple[np.ndarray, np.ndarray]) -> None:
    X, kinds = training
    iso = FraudModel(calibration="isotonic", max_iter=40).fit(X, kinds)
    p = iso.supervised_score(X)
    assert p.min() >= 0.0 and p.max() <= 1.0
    with pytest.raises(ValueError, match="calibration is sigmoid or isotonic, not 'beta'"):
        FraudModel(calibration="beta").fit(X, kinds)


def test_novelty_flags_a_line_far_past_ordinary_that_the_booster_never_saw(
    model: FraudModel, training: tuple[np.ndarray, np.ndarray]
) -> None:
    line, i, usual = _ordinary_line(model, training, "sms_out_per_day")
    assert usual >= 0.5
    line[i] = 1_240.0
    features = Features(
        np.array(["919900000001", "919900000002"]),
        np.vstack([line, _ordinary_row(model, *training)]),
        records=0,
        window_start=0,
        window_end=0,
    )
    sup = model.supervised_score(features.matrix)
    nov = model.novelty_score(features.matrix)
    assert sup[0] < model.threshold <= nov[0] < 0.99
    assert nov[1] < 0.05  # an ordinary line is not novel
    first, second = as_scores(model.score(features))
    assert first.subscriber == "919900000001" and first.flagged and first.novel
    assert first.score == pytest.approx(nov[0], abs=1e-3) and first.score > second.score
    assert not second.novel and not second.flagged
    ratio = 1_240.0 / usual
    times = f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"
    said = f"1,240 outgoing SMS a day, {times} what 99.9% of ordinary lines send"
    assert first.reasons[0] == said
    assert first.reasons[1].startswith("nearest known: ")


def test_novelty_grows_with_the_excess_and_never_reaches_its_cap(
    model: FraudModel, training: tuple[np.ndarray, np.ndarray]
) -> None:
    base, i, usual = _ordinary_line(model, training, "voice_out_per_day")
    assert usual >= 1.0
    rows = np.repeat(base[None, :], 4, axis=0)
    # 2x, 8x, 100x and 10,000x (as 1 + value) what 99.9% of ordinary lines make.
    rows[:, i] = [(1 + usual) * r - 1 for r in (2, 8, 100, 10_000)]
    nov = model.novelty_score(rows)
    assert (np.diff(nov) > 0).all() and nov[-1] < 0.99
    assert nov[1] == pytest.approx(0.99 * np.tanh(1.0), abs=1e-12)  # 0.75 at 8x


def test_sample_weights_move_the_model_where_the_decisions_say(
    training: tuple[np.ndarray, np.ndarray],
) -> None:
    """SIM-box-shaped lines an analyst dismissed: weighted, they fall further."""
    X, kinds = training
    boxes = np.flatnonzero(kinds == "sim_box")[:12]
    dismissed = X[boxes] * 1.01  # the same shape, told to be ordinary
    Xd = np.vstack([X, dismissed])
    kd = np.concatenate([kinds, np.full(len(boxes), NORMAL)])
    light = np.ones(len(kd))
    heavy = np.concatenate([np.ones(len(kinds)), np.full(len(boxes), 20.0)])
    plain = FraudModel(max_iter=80).fit(Xd, kd, sample_weight=light)
    weighted = FraudModel(max_iter=80).fit(Xd, kd, sample_weight=heavy)
    before = plain.supervised_score(dismissed)
    after = weighted.supervised_score(dismissed)
    assert after.mean() < before.mean() - 0.1, (before.round(3), after.round(3))
    # Unit weights are the unweighted model.
    np.testing.assert_allclose(
        FraudModel(max_iter=80).fit(Xd, kd).supervised_score(dismissed), before
    )
    with pytest.raises(ValueError, match="one non-negative number for each row"):
        FraudModel().fit(Xd, kd, sample_weight=np.ones(3))
