"""Fraud reasons never state a fact that speaks against the kind: every fact a reason
states is past what ordinary lines show; a faint signature is said as the line's own
unusual facts and the closest known pattern."""

from __future__ import annotations

import re

import numpy as np
import pytest

from models.fraud.features import FEATURES
from models.fraud.model import (
    FACTS,
    KIND_WORDS,
    LOW_FEATURES,
    MOST_WORDS,
    NORMAL,
    SIGNATURES,
    FraudModel,
)
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


#: The clause after the facts of a line with nothing past the 1st/99th percentile.
MOST_CLAUSE = f"beyond what {MOST_WORDS} ordinary lines show)"


def _stated(reasons: tuple[str, ...], row: np.ndarray) -> list[str]:
    """The FACTS features whose words for this row appear as a whole fact in the reasons
    told as past ordinary lines (not in a reason told against most ordinary lines)."""
    text = "\n".join(r for r in reasons if MOST_CLAUSE not in r)
    return _facts_in(text, row)


def _stated_against_most(reasons: tuple[str, ...], row: np.ndarray) -> list[str]:
    """The facts of a reason told as beyond what most ordinary lines show."""
    return _facts_in("\n".join(r for r in reasons if MOST_CLAUSE in r), row)


def _facts_in(text: str, row: np.ndarray) -> list[str]:
    """The FACTS features told in `text`, in the order they are told."""
    at = {}
    for name in FACTS:
        words = FACTS[name](row[FEATURES.index(name)])  # type: ignore[operator]
        m = re.search(rf"(^|, |\n|nearest known: ){re.escape(words)}(,|:| \(|\n|$)", text)
        if m:
            at[name] = m.start()
    return sorted(at, key=at.__getitem__)


def _reads_apart(model: FraudModel, row: np.ndarray, name: str) -> bool:
    """The fact's words for the row differ from its words for 9 in 10 ordinary lines."""
    i = FEATURES.index(name)
    low = name in LOW_FEATURES
    bound = (model.normal_most_low_ if low else model.normal_most_high_)[i]
    fact = FACTS[name]
    return bool(fact(row[i]) != fact(bound))  # type: ignore[operator]


def _beyond_most(model: FraudModel, row: np.ndarray, name: str) -> bool:
    i = FEATURES.index(name)
    if name in LOW_FEATURES:  # where fraud sits low
        return bool(row[i] < model.normal_most_low_[i])
    return bool(row[i] > model.normal_most_high_[i])


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
        for name in _stated_against_most(reasons, row):
            assert _beyond_most(model, row, name), (label, kind, name, reasons)


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


@pytest.mark.parametrize("kind", sorted(SIGNATURES))
def test_a_quiet_line_states_what_is_beyond_most_ordinary_lines(
    trained: tuple[FraudModel, np.ndarray, np.ndarray], kind: str
) -> None:
    """Nothing past the 1st/99th percentile, but the kind's own facts past what 9 in 10
    ordinary lines show (a quiet SIM box: a few dozen calls a day to new numbers): those
    are told, the kind's first, as beyond most ordinary lines, never as past them all."""
    model, X, kinds = trained
    median = np.median(X[kinds == NORMAL], axis=0)
    row = np.where(model._deviation(_faint(model, X, kinds)) > 0, median, _faint(model, X, kinds))

    def room(name: str) -> bool:  # between 9 in 10 and 99 in 100 (none for a count
        i = FEATURES.index(name)  # nearly every ordinary line has at 0)
        if name in LOW_FEATURES:
            return bool(model.normal_low_[i] < model.normal_most_low_[i])
        return bool(model.normal_most_high_[i] < model.normal_high_[i])

    own = [n for n in SIGNATURES[kind] if n in FACTS and room(n)]
    for name in own[:2]:
        i = FEATURES.index(name)
        low, high = model.normal_most_high_[i], model.normal_high_[i]
        if name in LOW_FEATURES:
            low, high = model.normal_low_[i], model.normal_most_low_[i]
        row[i] = (low + high) / 2  # past most ordinary lines, inside the 1st-99th
    assert not (model._deviation(row) > 0).any()
    told = [n for n in own[:2] if _beyond_most(model, row, n) and _reads_apart(model, row, n)]
    assert told, "the trained model leaves no room between 9 in 10 and 99 in 100"
    reasons = model.reasons(row, kind, novel=False)
    first = reasons[0]
    assert MOST_CLAUSE in first and first.endswith(f"closest to the {KIND_WORDS[kind]} pattern")
    said = _stated_against_most((first,), row)
    assert all(_beyond_most(model, row, n) for n in said)
    # Only the kind's own facts: past most lines, another kind's may speak against it.
    assert said and set(said) <= set(SIGNATURES[kind])
    assert set(told) <= set(said) or len(said) == 3, (told, first)
    assert not _stated(reasons, row)


def test_a_line_with_nothing_beyond_most_ordinary_lines_says_so(
    trained: tuple[FraudModel, np.ndarray, np.ndarray],
) -> None:
    model, X, kinds = trained
    normal = X[kinds == NORMAL]
    median = np.median(normal, axis=0)
    first = model.reasons(median, "sim_box", novel=False)[0]
    assert first == "no single measure past ordinary lines: closest to the SIM box pattern"


@pytest.mark.parametrize("most", [False, True], ids=["past 99 in 100", "beyond 9 in 10"])
def test_a_figure_that_reads_as_the_ordinary_bound_is_never_told(
    trained: tuple[FraudModel, np.ndarray, np.ndarray], most: bool
) -> None:
    """A value a hair past the bound reads as the bound ("0 outgoing SMS a day" where 9
    in 10 ordinary lines send 0.29): telling it as beyond would read as false. Swept over
    every fact and every kind."""
    model, X, kinds = trained
    median = np.median(X[kinds == NORMAL], axis=0)
    for name in FACTS:
        i = FEATURES.index(name)
        low = name in LOW_FEATURES
        if most:
            bound = (model.normal_most_low_ if low else model.normal_most_high_)[i]
        else:
            bound = (model.normal_low_ if low else model.normal_high_)[i]
        if low and bound <= 0:
            continue  # a share or ratio below 0 is no line's
        row = median.copy()
        row[i] = bound - 1e-9 if low else bound + 1e-9
        for kind in SIGNATURES:
            reasons = model.reasons(row, kind, novel=False)
            told = _stated_against_most(reasons, row) if most else _stated(reasons, row)
            assert name not in told, (
                name,
                kind,
                reasons,
            )
