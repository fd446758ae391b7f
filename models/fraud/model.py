"""The fraud model: known patterns (supervised) plus the unusual (unsupervised).

`FraudModel` follows scikit-learn's conventions: parameters in `__init__`, learning in
`fit`, learned state ending in `_`.

* A gradient-boosted classifier (HistGradientBoosting), calibrated with isotonic
  regression on cross-validated folds, gives the probability that a line is
  fraudulent; a second one, trained on fraudulent lines only, names the likely kind.
* An IsolationForest fitted on ordinary lines catches lines unlike anything in
  training. Its score counts only for lines that are also costly (outgoing,
  international or premium traffic at least twice what 99.9% of ordinary lines show),
  and is
  scaled so that it reaches the threshold where fewer than `novelty_rate` of ordinary
  training lines do.

The score is the larger of the two, 0..1; a line is flagged at `threshold` or above.
Reasons come from the features that put the line outside ordinary behaviour, in the
words of its likely kind's signature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
from threadpoolctl import threadpool_limits

from domain.fraud.choices import FraudKind
from models.fraud.features import FEATURES, Features

NORMAL = "normal"
KIND_WORDS = {
    FraudKind.SIM_BOX.value: "SIM box",
    FraudKind.IRSF.value: "international revenue share fraud (IRSF)",
    FraudKind.SMS_PUMPING.value: "SMS pumping",
    FraudKind.SUBSCRIPTION_FRAUD.value: "subscription fraud",
    FraudKind.ACCOUNT_TAKEOVER.value: "account takeover (SIM swap)",
    FraudKind.ROAMING_FRAUD.value: "roaming fraud",
}
#: Features whose high values cost the operator money (the novelty gate).
COSTLY = (
    "voice_out_peak_day",
    "intl_out_peak_day",
    "intl_minutes_per_day",
    "premium_out",
    "premium_minutes",
    "sms_out_peak_10min",
    "intl_sms_out",
    "roaming_intl_out",
)
#: Features where fraud sits low (few answered calls, no data).
_LOW = {"voice_in_per_out", "data_share"}


def _fmt_count(v: float) -> str:
    return f"{v:,.0f}"


#: Plain-words facts, by feature.
FACTS: dict[str, object] = {
    "voice_out_per_day": lambda v: f"{_fmt_count(v)} outgoing calls a day",
    "voice_out_peak_day": lambda v: f"{_fmt_count(v)} outgoing calls on its busiest day",
    "voice_in_per_out": lambda v: (
        "none incoming" if v < 0.005 else f"only {v:.0%} as many calls in as out"
    ),
    "top_cell_share": lambda v: "all from one cell" if v > 0.97 else f"{v:.0%} from one cell",
    "imei_shared_with": lambda v: f"IMEI shared with {v:.0f} other SIM{'s' if v != 1 else ''}",
    "data_share": lambda v: "no data sessions" if v == 0 else f"only {v:.0%} data",
    "premium_out": lambda v: f"{_fmt_count(v)} calls or SMS to high-cost ranges",
    "premium_minutes": lambda v: f"{_fmt_count(v)} minutes to high-cost ranges",
    "sequential_pairs": lambda v: f"{_fmt_count(v)} numbers dialled in sequence",
    "night_out_share": lambda v: f"{v:.0%} of calls at night",
    "mean_out_call_s": lambda v: f"calls last {v / 60:.0f} minutes on average",
    "sms_out_peak_10min": lambda v: f"{_fmt_count(v)} SMS within ten minutes",
    "intl_sms_out": lambda v: f"{_fmt_count(v)} SMS to international numbers",
    "sms_out_per_day": lambda v: f"{_fmt_count(v)} SMS a day",
    "first_seen_day": lambda v: f"first seen {v:.0f} days into the window",
    "early_intl_share": lambda v: f"{v:.0%} of its first days' traffic international",
    "intl_out_peak_day": lambda v: f"{_fmt_count(v)} international calls on its busiest day",
    "intl_out_per_day": lambda v: f"{_fmt_count(v)} international calls a day",
    "intl_minutes_per_day": lambda v: f"{_fmt_count(v)} international minutes a day",
    "new_handset_new_cells": lambda v: "a new handset (IMEI) on cells the line never used",
    "new_handset_intl_change": lambda v: f"then {_fmt_count(v)} more international calls a day",
    "new_handset_in_drop": lambda v: "its owner's incoming calls stopped",
    "roaming_intl_out": lambda v: f"{_fmt_count(v)} international calls while roaming",
    "roaming_out_per_day": lambda v: f"{_fmt_count(v)} outgoing calls a day while roaming",
    "distinct_out_share": lambda v: f"{v:.0%} of numbers called only once",
    "records_per_day": lambda v: f"{_fmt_count(v)} records a day",
}
#: Each kind's signature, strongest fact first.
SIGNATURES = {
    FraudKind.SIM_BOX.value: (
        "voice_out_per_day",
        "top_cell_share",
        "voice_in_per_out",
        "imei_shared_with",
        "data_share",
    ),
    FraudKind.IRSF.value: (
        "premium_out",
        "premium_minutes",
        "sequential_pairs",
        "night_out_share",
        "mean_out_call_s",
    ),
    FraudKind.SMS_PUMPING.value: ("sms_out_peak_10min", "intl_sms_out", "sequential_pairs"),
    FraudKind.SUBSCRIPTION_FRAUD.value: (
        "first_seen_day",
        "early_intl_share",
        "intl_out_peak_day",
        "intl_minutes_per_day",
    ),
    FraudKind.ACCOUNT_TAKEOVER.value: (
        "new_handset_new_cells",
        "new_handset_intl_change",
        "new_handset_in_drop",
        "premium_out",
    ),
    FraudKind.ROAMING_FRAUD.value: (
        "roaming_intl_out",
        "roaming_out_per_day",
        "premium_out",
        "mean_out_call_s",
    ),
}


@dataclass(frozen=True)
class SubscriberScore:
    """One subscriber's score, as the scheduled job and the CLI use it."""

    subscriber: str
    score: float
    flagged: bool
    #: The likely fraud kind (a FraudKind value); None when the line looks ordinary.
    kind: str | None
    #: Plain-words reasons, most important first; empty when not flagged.
    reasons: tuple[str, ...]


class FraudModel:
    """Scores subscribers' feature rows 0..1 (higher is worse), with kind and reasons."""

    def __init__(
        self,
        threshold: float = 0.7,
        novelty_rate: float = 0.001,
        max_iter: int = 200,
        random_state: int = 0,
    ) -> None:
        self.threshold = threshold
        self.novelty_rate = novelty_rate
        self.max_iter = max_iter
        self.random_state = random_state

    def _booster(self) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=0.08,
            max_leaf_nodes=15,
            min_samples_leaf=10,
            l2_regularization=1.0,
            random_state=self.random_state,
        )

    def fit(self, X: np.ndarray, kinds: np.ndarray) -> FraudModel:
        """Learn from feature rows `X` and each row's kind (`NORMAL` for ordinary lines)."""
        X = np.asarray(X, dtype=np.float64)
        kinds = np.asarray(kinds).astype(str)
        y = kinds != NORMAL
        if y.sum() < 6 or (~y).sum() < 6:
            raise ValueError("training needs at least 6 fraudulent and 6 ordinary lines")
        folds = int(min(3, y.sum(), (~y).sum()))
        self.classifier_ = CalibratedClassifierCV(self._booster(), method="isotonic", cv=folds)
        self.classifier_.fit(X, y)
        fraud = np.flatnonzero(y)
        if np.unique(kinds[fraud]).size > 1:
            self.kind_classifier_: HistGradientBoostingClassifier | None = self._booster().fit(
                X[fraud], kinds[fraud]
            )
            self.only_kind_ = ""
        else:
            self.kind_classifier_ = None
            self.only_kind_ = str(kinds[fraud][0])
        normal = X[~y]
        self.novelty_ = IsolationForest(
            n_estimators=200, random_state=self.random_state, n_jobs=1
        ).fit(np.log1p(np.abs(normal)) * np.sign(normal))
        a = -self.novelty_.score_samples(np.log1p(np.abs(normal)) * np.sign(normal))
        self.novelty_median_ = float(np.median(a))
        self.novelty_cut_ = float(np.quantile(a, 1 - self.novelty_rate))
        self.normal_low_ = np.quantile(normal, 0.01, axis=0)
        self.normal_high_ = np.quantile(normal, 0.99, axis=0)
        self.normal_extreme_ = np.quantile(normal, 0.999, axis=0)
        self.normal_scale_ = np.maximum(
            np.maximum(self.normal_high_ - np.median(normal, axis=0), 0.1 * self.normal_high_), 1e-3
        )
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([NORMAL, *sorted(set(kinds[fraud]))])
        return self

    # -- scoring --------------------------------------------------------------------------

    def supervised_score(self, X: np.ndarray) -> np.ndarray:
        # One thread: prediction on a few thousand rows is quick, and OpenMP's spinning
        # threads crawl on a machine shared with other work.
        with threadpool_limits(1):
            return self.classifier_.predict_proba(np.asarray(X, dtype=np.float64))[:, 1]

    def novelty_score(self, X: np.ndarray) -> np.ndarray:
        """0..1, reaching the threshold at the ordinary lines' 1 - novelty_rate quantile."""
        X = np.asarray(X, dtype=np.float64)
        a = -self.novelty_.score_samples(np.log1p(np.abs(X)) * np.sign(X))
        span = max(self.novelty_cut_ - self.novelty_median_, 1e-9)
        s = self.threshold * (a - self.novelty_median_) / span
        costly = [FEATURES.index(f) for f in COSTLY]
        # Far past anything ordinary: twice the 99.9th percentile of ordinary lines.
        gate = (X[:, costly] > 2 * self.normal_extreme_[costly] + 1).any(axis=1)
        return np.where(gate, np.clip(s, 0.0, 0.99), 0.0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Columns: ordinary, fraudulent (scikit-learn's binary shape)."""
        p = np.maximum(self.supervised_score(X), self.novelty_score(X))
        return np.column_stack([1 - p, p])

    def likely_kind(self, X: np.ndarray) -> np.ndarray:
        if self.kind_classifier_ is None:
            return np.full(len(X), self.only_kind_, dtype=object)
        with threadpool_limits(1):
            return self.kind_classifier_.predict(np.asarray(X, dtype=np.float64)).astype(object)

    def reasons(self, row: np.ndarray, kind: str, novel: bool) -> tuple[str, ...]:
        """Plain words for one flagged row: its kind's signature facts first."""
        dev = self._deviation(row)
        facts: list[tuple[float, str]] = []
        for name in SIGNATURES.get(kind, ()):
            i = FEATURES.index(name)
            if dev[i] > 0:
                facts.append((dev[i], FACTS[name](row[i])))  # type: ignore[operator]
        if not facts:  # the signature is faint: say its strongest facts anyway
            facts = [
                (0.0, FACTS[n](row[FEATURES.index(n)]))  # type: ignore[operator]
                for n in SIGNATURES.get(kind, ())[:2]
            ]
        head = ", ".join(f for _, f in facts[:4])
        words = KIND_WORDS.get(kind, kind)
        out = [f"{head}: {words} pattern" if head else f"{words} pattern"]
        used = set(SIGNATURES.get(kind, ()))
        others = sorted(
            (
                (dev[i], FACTS[n](row[i]))  # type: ignore[operator]
                for i, n in enumerate(FEATURES)
                if n in FACTS and n not in used and dev[i] > 1
            ),
            reverse=True,
        )
        out += [f for _, f in others[:2]]
        if novel:
            out.append("unlike any line seen in training (anomaly score)")
        return tuple(out)

    def _deviation(self, row: np.ndarray) -> np.ndarray:
        """How far past ordinary lines' 1st/99th percentile each feature is (0 = inside)."""
        high = (row - self.normal_high_) / self.normal_scale_
        low = (self.normal_low_ - row) / np.maximum(self.normal_low_, 1e-6)
        dev = np.where(
            np.isin(np.array(FEATURES), list(_LOW)), np.where(row < self.normal_low_, 1 + low, 0), 0
        )
        return np.where(row > self.normal_high_, 1 + high, dev)

    def score(self, features: Features) -> pl.DataFrame:
        """Per subscriber: score, flagged, kind and reasons, worst first."""
        X = features.matrix
        sup = self.supervised_score(X) if len(X) else np.zeros(0)
        nov = self.novelty_score(X) if len(X) else np.zeros(0)
        score = np.maximum(sup, nov)
        flagged = score >= self.threshold
        rows = np.flatnonzero(flagged)
        kinds = self.likely_kind(X[rows]) if rows.size else np.zeros(0, dtype=object)
        reasons: list[list[str]] = [[] for _ in range(len(X))]
        out_kind: list[str | None] = [None] * len(X)
        for i, kind in zip(rows.tolist(), kinds.tolist(), strict=True):
            out_kind[i] = str(kind)
            reasons[i] = list(self.reasons(X[i], str(kind), bool(nov[i] > sup[i])))
        frame = pl.DataFrame(
            {
                "subscriber": features.subscribers.astype(str),
                "score": np.round(score, 4),
                "flagged": flagged,
                "kind": out_kind,
                "reasons": reasons,
            },
            schema={
                "subscriber": pl.String,
                "score": pl.Float64,
                "flagged": pl.Boolean,
                "kind": pl.String,
                "reasons": pl.List(pl.String),
            },
        )
        return frame.sort(["score", "subscriber"], descending=[True, False])


def as_scores(frame: pl.DataFrame) -> list[SubscriberScore]:
    """The score frame as typed rows."""
    return [
        SubscriberScore(s, float(sc), bool(f), k, tuple(r or ()))
        for s, sc, f, k, r in frame.select(
            "subscriber", "score", "flagged", "kind", "reasons"
        ).iter_rows()
    ]
