"""Fraud reasons never state a fact that speaks against the kind: every fact a reason
states is past what ordinary lines show; a faint signature is said as the line's own
unusual facts and the closest known pattern."""

from __future__ import annotations

import re

import numpy as np
import pytest

from models.fraud.features import FEATURES
from models.fraud.model import FACTS, KIND_WORDS, NORMAL, SIGNATURES, FraudModel
from models.fraud.synthetic import synthetic_usage
from models.fraud.training import feature_rows


@pytest.fixture(scope="module")
def trained() -> tuple[FraudModel, np.ndarray, np.ndarray]:
    frame, labels = synthetic_usage(800, 3)
    X, kinds, _ = feature_rows(frame, labels, (0,))
    return FraudModel(threshold=0.5, max_iter=40).fit(X, kinds), X, kinds


def _faint(model: FraudModel, X: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """The ordinary line with the fewest features past ordinary (none, if there is one)."""
    normal = X[kinds == NORMAL]
    past = np.array([(model._deviation(r) > 0).sum() for r in normal])
    return normal[int(np.argmin(past))].copy()


def _stated(reasons: tuple[str, ...], row: np.ndarray) -> list[str]:
    """The FACTS features whose words for this row appear as a whole fact in the reasons."""
    text = "\n".join(reasons)
    out = []
    for name in FACTS:
        words = FACTS[name](row[FEATURES.index(name)])  # type: ignore[operator]
        if re.search(rf"(^|, |\n|nearest known: ){re.escape(words)}(,|:|\n|$)", text):
            out.append(name)
    return out


def _rows(model: FraudModel, X: np.ndarray, kinds: np.ndarray) -> dict[str, np.ndarray]:
    faint = _faint(model, X, kinds)
    busy = faint.copy()
    i = FEATURES.index("records_per_day")
    busy[i] = 10 * model.normal_high_[i] + 50  # unusual, but in no kind's signature
    rows = {"faint": faint, "faint and busy": busy}
    for kind in SIGNATURES:
        rows[f"a {kind} line"] = X[np.flatnonzero(kinds == kind)[0]]
    return rows


@pytest.mark.parametrize("novel", [False, True])
@pytest.mark.parametrize("kind", sorted(SIGNATURES))
def test_every_stated_fact_is_past_ordinary(
    trained: tuple[FraudModel, np.ndarray, np.ndarray], kind: str, novel: bool
) -> None:
    model, X, kinds = trained
    for label, row in _rows(model, X, kinds).items():
        reasons = model.reasons(row, kind, novel=novel)
        dev = model._deviation(row)
        assert reasons, label
        for name in _stated(reasons, row):
            assert dev[FEATURES.index(name)] > 0, (label, kind, name, reasons)


@pytest.mark.parametrize("kind", sorted(SIGNATURES))
def test_a_faint_signature_is_named_as_the_closest_pattern(
    trained: tuple[FraudModel, np.ndarray, np.ndarray], kind: str
) -> None:
    model, X, kinds = trained
    rows = _rows(model, X, kinds)
    faint = rows["faint"]
    dev = model._deviation(faint)
    assert all(dev[FEATURES.index(n)] <= 0 for n in SIGNATURES[kind])
    words = KIND_WORDS[kind]
    first = model.reasons(faint, kind, novel=False)[0]
    assert first.endswith(f"closest to the {words} pattern")
    assert not any(n in SIGNATURES[kind] for n in _stated((first,), faint))
    busy = rows["faint and busy"]
    said = FACTS["records_per_day"](busy[FEATURES.index("records_per_day")])  # type: ignore[operator]
    assert model.reasons(busy, kind, novel=False)[0] == (f"{said}: closest to the {words} pattern")


def test_the_reviews_sms_pumping_line_is_not_told_as_one_sms(
    trained: tuple[FraudModel, np.ndarray, np.ndarray],
) -> None:
    """1 SMS within ten minutes and 0 to international numbers is no SMS pumping fact."""
    model, X, kinds = trained
    row = _faint(model, X, kinds)
    row[FEATURES.index("sms_out_peak_10min")] = 1
    row[FEATURES.index("intl_sms_out")] = 0
    text = "; ".join(model.reasons(row, "sms_pumping", novel=False))
    assert "within ten minutes" not in text and "to international numbers" not in text
    assert "closest to the SMS pumping pattern" in text


def test_a_strong_signature_states_its_facts(
    trained: tuple[FraudModel, np.ndarray, np.ndarray],
) -> None:
    model, X, kinds = trained
    # A blatant SIM box: quiet ones sit inside ordinary lines (contact centres) on each
    # measure alone, and are told so.
    boxes = X[kinds == "sim_box"]
    row = boxes[int(np.argmax(boxes[:, FEATURES.index("voice_out_per_day")]))]
    first = model.reasons(row, "sim_box", novel=False)[0]
    assert first.endswith(": SIM box pattern")
    stated = _stated((first,), row)
    assert stated and set(stated) <= set(SIGNATURES["sim_box"])
