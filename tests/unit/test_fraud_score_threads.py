"""Scoring tens of thousands of lines splits the rows over the cores (one thread each):
the scores must be those of one pass over all rows, in the same order."""

from __future__ import annotations

import numpy as np
import pytest

import models.fraud.model as fraud_model
from models.fraud.features import FEATURES
from models.fraud.model import NORMAL, PARALLEL_ROWS, FraudModel


def test_rows_split_over_cores_score_as_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    X = rng.lognormal(size=(1_500, len(FEATURES)))
    kinds = np.where(X[:, 2] + X[:, 5] > 4, "sim_box", NORMAL)
    model = FraudModel(max_iter=15).fit(X, kinds)
    rows = rng.lognormal(size=(3 * PARALLEL_ROWS + 7, len(FEATURES)))
    monkeypatch.setattr(fraud_model, "_cores", lambda: 1)
    one = model.supervised_score(rows)
    monkeypatch.setattr(fraud_model, "_cores", lambda: 3)
    split = model.supervised_score(rows)
    assert one.shape == (len(rows),)
    assert np.array_equal(split, one)
    # Each range of rows scores as it does alone: the split keeps the order.
    assert np.array_equal(split[-5:], model.supervised_score(rows[-5:]))
