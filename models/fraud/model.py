"""The fraud model: known patterns (supervised) plus the unusual (unsupervised).

`FraudModel` follows scikit-learn's conventions: parameters in `__init__`, learning in
`fit`, learned state ending in `_`.

* A gradient-boosted classifier (HistGradientBoosting), calibrated on cross-validated
  folds (Platt's sigmoid by default: its probabilities rank without a plateau of ties
  at the top, as isotonic leaves), gives the probability that a line is fraudulent; a
  second one, trained on fraudulent lines only, names the likely kind.
* The novelty part catches kinds nobody described: how far a line's volume or cost
  (calls, SMS, international and premium traffic, roaming) goes past what 99.9% of
  ordinary training lines show, on its most extreme feature, as a log ratio scaled to
  0..0.99. Its reasons say it in plain words ("1,240 SMS a day, 6.2x what 99.9% of
  ordinary lines send").

The score is the larger of the two, 0..1, kept at full precision; a line is flagged at
`threshold` or above, and marked novel when the novelty part is the larger. Reasons
come from the features that put the line outside ordinary behaviour, in the words of
its likely kind's signature.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
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
#: Volume and cost features the novelty part watches, with the verb its reasons use.
#: Far past ordinary on any of them costs the operator money, whatever the kind.
NOVELTY_FEATURES = {
    "voice_out_per_day": "make",
    "voice_out_peak_day": "make",
    "sms_out_per_day": "send",
    "sms_out_peak_10min": "send",
    "intl_out_per_day": "make",
    "intl_out_peak_day": "make",
    "intl_minutes_per_day": "spend",
    "intl_sms_out": "send",
    "premium_out": "make",
    "premium_minutes": "spend",
    "roaming_out_per_day": "make",
    "roaming_intl_out": "make",
}
#: Ordinary lines' quantile the novelty part measures from.
NOVELTY_QUANTILE = 0.999
#: Share of the score that breaks ties: the booster gives lines in the same leaves the
#: same probability however they differ, and of those the line whose volume and cost
#: go further past ordinary ranks first. At most 0.001: it survives a score kept to six
#: places, and is too little to matter against a threshold.
TIE_BREAK = 1e-3
#: Summed log-ratios past the ordinary percentiles at which the tie-break is half-way: a
#: line far past on many features still ranks apart from one a little less far.
PAST_SCALE = 5.0
#: Share of ordinary lines a faint line's facts are told against ("9 in 10").
MOST = 0.9
MOST_WORDS = f"{round(MOST * 10)} in 10"
#: Features where fraud sits low (few answered calls, no data).
LOW_FEATURES = frozenset({"voice_in_per_out", "data_share"})
_IS_LOW = np.isin(np.array(FEATURES), list(LOW_FEATURES))


def _fmt_count(v: float) -> str:
    return f"{v:,.0f}"


def _fmt_minutes(seconds: float) -> str:
    return f"{seconds:.0f} seconds" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def _fmt_share_drop(v: float) -> str:
    if round(v * 100) <= 0:  # a drop that rounds to 0 points is none to the reader
        return "incoming calls no rarer since its newest handset"
    return (
        f"incoming calls' share of its calls {v * 100:.0f} percentage points lower "
        "since its newest handset"
    )


#: Plain-words facts, by feature: each says what its feature counts and no more (an
#: `intl_*` or `roaming_*` count holds SMS as well as calls, `premium_*` is by country).
FACTS: dict[str, object] = {
    "voice_out_per_day": lambda v: f"{_fmt_count(v)} outgoing calls a day",
    "voice_out_peak_day": lambda v: f"{_fmt_count(v)} outgoing calls on its busiest day",
    "voice_in_per_out": lambda v: (
        "no incoming calls"
        if v < 0.005
        else f"only {v:.0%} as many calls in as out"
        if v < 1
        else f"{v:.1f} incoming calls per outgoing call"
    ),
    "top_cell_share": lambda v: f"{v:.0%} of its home-network records on one cell",
    "imei_shared_with": lambda v: (
        "its handset (IMEI) used by no other SIM"
        if v < 1
        else f"IMEI shared with {v:.0f} other SIM{'s' if v != 1 else ''}"
    ),
    "data_share": lambda v: (
        "no data sessions" if v == 0 else f"{v:.0%} of its records data sessions"
    ),
    "premium_out": lambda v: f"{_fmt_count(v)} outgoing calls and SMS to high-cost countries",
    "premium_minutes": lambda v: (
        f"{_fmt_count(v)} minutes of outgoing calls to high-cost countries"
    ),
    "sequential_pairs": lambda v: f"{_fmt_count(v)} numbers called or texted in sequence",
    "night_out_share": lambda v: f"{v:.0%} of outgoing calls at night (00:00-06:00)",
    "mean_out_call_s": lambda v: f"outgoing calls last {_fmt_minutes(v)} on average",
    "sms_out_peak_10min": lambda v: f"{_fmt_count(v)} outgoing SMS within ten minutes",
    "intl_sms_out": lambda v: f"{_fmt_count(v)} outgoing SMS to international numbers",
    "sms_out_per_day": lambda v: f"{_fmt_count(v)} outgoing SMS a day",
    "first_seen_day": lambda v: f"first seen {v:.0f} days into the window",
    "early_intl_share": lambda v: (
        f"{v:.0%} of its first three days' records international calls or SMS"
    ),
    "intl_out_peak_day": lambda v: (
        f"{_fmt_count(v)} international calls and SMS on its busiest day"
    ),
    "intl_out_per_day": lambda v: f"{_fmt_count(v)} international calls and SMS a day",
    "intl_minutes_per_day": lambda v: (
        f"{_fmt_count(v)} minutes of outgoing international calls a day"
    ),
    "new_handset_new_cells": lambda v: (
        f"{v:.0%} of its newest handset's records on cells its earlier handsets never used"
    ),
    "new_handset_intl_change": lambda v: (
        "as many international calls and SMS a day since its newest handset as before"
        if round(abs(v)) == 0
        else f"{_fmt_count(abs(v))} {'more' if v >= 0 else 'fewer'} international calls and "
        "SMS a day since its newest handset"
    ),
    "new_handset_in_drop": _fmt_share_drop,
    "roaming_intl_out": lambda v: f"{_fmt_count(v)} international calls and SMS while roaming",
    "roaming_out_per_day": lambda v: f"{_fmt_count(v)} outgoing calls and SMS a day while roaming",
    "distinct_out_share": lambda v: (
        f"{v:.0%} of outgoing calls and SMS to a number not reached before in the window"
    ),
    "records_per_day": lambda v: f"{_fmt_count(v)} usage records a day",
    "unanswered_out_share": lambda v: f"{v:.0%} of outgoing calls unanswered",
    "weekend_out_share": lambda v: f"{v:.0%} of outgoing calls and SMS at the weekend",
    "weekend_in_share": lambda v: f"{v:.0%} of incoming calls and SMS at the weekend",
    "office_hours_out_share": lambda v: (
        f"{v:.0%} of outgoing calls and SMS on weekdays between 09:00 and 18:00"
    ),
}
#: Each kind's signature, strongest fact first.
SIGNATURES = {
    FraudKind.SIM_BOX.value: (
        "voice_out_per_day",
        "top_cell_share",
        "voice_in_per_out",
        "imei_shared_with",
        "data_share",
        "distinct_out_share",
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
    #: The novelty part gave the score (unusual volume or cost, not a known pattern).
    novel: bool = False


def _by_column(X: np.ndarray) -> np.ndarray:
    """Rows in column-major order: the trees' prediction walks a row range feature by
    feature (same values; its time shows in the `fraud incremental` benchmark)."""
    return np.asfortranarray(X, dtype=np.float64)


def _weighted_quantiles(X: np.ndarray, w: np.ndarray, q: float) -> np.ndarray:
    """Per column, the smallest value with at least `q` of the weight at or below it."""
    order = np.argsort(X, axis=0, kind="stable")
    cum = np.cumsum(w[order], axis=0)
    at = np.minimum((cum < q * cum[-1]).sum(axis=0), len(X) - 1)
    return np.take_along_axis(X, order, axis=0)[at, np.arange(X.shape[1])]


#: Rows a core takes: from twice this, prediction splits the rows over the cores.
PARALLEL_ROWS = 20_000


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _one_thread(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray) -> np.ndarray:
    with threadpool_limits(1, user_api="openmp"):  # this thread's OpenMP only
        return predict(_by_column(X))


class FraudModel:
    """Scores subscribers' feature rows 0..1 (higher is worse), with kind and reasons."""

    def __init__(
        self,
        threshold: float = 0.7,
        calibration: str = "sigmoid",
        novelty_ratio: float = 8.0,
        max_iter: int = 200,
        random_state: int = 0,
    ) -> None:
        self.threshold = threshold
        #: "sigmoid" (Platt) or "isotonic", fitted on the cross-validated folds.
        self.calibration = calibration
        #: How many times ordinary lines' 99.9th percentile scores 0.75 in the novelty
        #: part (about linear in the log ratio below it, towards 0.99 far beyond).
        self.novelty_ratio = novelty_ratio
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

    def fit(
        self, X: np.ndarray, kinds: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> FraudModel:
        """Learn from feature rows `X` and each row's kind (`NORMAL` for ordinary lines).

        `sample_weight` (one non-negative number a row) weighs rows in the booster, its
        calibration, the kind classifier and the ordinary lines' percentiles alike.
        """
        X = np.asarray(X, dtype=np.float64)
        kinds = np.asarray(kinds).astype(str)
        if self.calibration not in ("sigmoid", "isotonic"):
            raise ValueError(f"calibration is sigmoid or isotonic, not {self.calibration!r}")
        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
        if w.shape != (len(X),) or not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("sample_weight needs one non-negative number for each row")
        y = kinds != NORMAL
        if y.sum() < 6 or (~y).sum() < 6:
            raise ValueError("training needs at least 6 fraudulent and 6 ordinary lines")
        folds = int(min(3, y.sum(), (~y).sum()))
        self.classifier_ = CalibratedClassifierCV(
            self._booster(), method=self.calibration, cv=folds
        )
        self.classifier_.fit(X, y, sample_weight=w)
        fraud = np.flatnonzero(y)
        if np.unique(kinds[fraud]).size > 1:
            self.kind_classifier_: HistGradientBoostingClassifier | None = self._booster().fit(
                X[fraud], kinds[fraud], sample_weight=w[fraud]
            )
            self.only_kind_ = ""
        else:
            self.kind_classifier_ = None
            self.only_kind_ = str(kinds[fraud][0])
        normal, wn = X[~y], w[~y]
        self.normal_low_ = _weighted_quantiles(normal, wn, 0.01)
        self.normal_high_ = _weighted_quantiles(normal, wn, 0.99)
        # What most ordinary lines show, for a line with nothing past the 1st/99th.
        self.normal_most_low_ = _weighted_quantiles(normal, wn, 1 - MOST)
        self.normal_most_high_ = _weighted_quantiles(normal, wn, MOST)
        self.normal_extreme_ = _weighted_quantiles(normal, wn, NOVELTY_QUANTILE)
        self.normal_scale_ = np.maximum(
            np.maximum(
                self.normal_high_ - _weighted_quantiles(normal, wn, 0.5), 0.1 * self.normal_high_
            ),
            1e-3,
        )
        self.novelty_columns_ = np.array([FEATURES.index(f) for f in NOVELTY_FEATURES])
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([NORMAL, *sorted(set(kinds[fraud]))])
        return self

    # -- scoring --------------------------------------------------------------------------

    def supervised_score(self, X: np.ndarray) -> np.ndarray:
        # OpenMP inside the trees opens a parallel region per tree (600 of them), whose
        # threads spin between regions: each core instead predicts a range of rows on one
        # thread (the same numbers: rows are independent). Its time and CPU show in
        # `fraud incremental`.
        def predict(rows: np.ndarray) -> np.ndarray:
            return self.classifier_.predict_proba(rows)[:, 1]

        parts = min(_cores(), len(X) // PARALLEL_ROWS)
        if parts < 2:
            return _one_thread(predict, X)
        with ThreadPoolExecutor(parts) as pool:
            chunks = np.array_split(X, parts)
            return np.concatenate(list(pool.map(_one_thread, [predict] * parts, chunks)))

    def exceedance(self, X: np.ndarray) -> np.ndarray:
        """Per row and novelty feature: log1p(value) - log1p(ordinary 99.9th percentile)."""
        X = np.asarray(X, dtype=np.float64)[:, self.novelty_columns_]
        extreme = self.normal_extreme_[self.novelty_columns_]
        return np.log1p(np.maximum(X, 0.0)) - np.log1p(np.maximum(extreme, 0.0))

    def novelty_score(self, X: np.ndarray) -> np.ndarray:
        """0..0.99: how far the most extreme volume or cost feature is past ordinary.

        0 inside what 99.9% of ordinary lines show; 0.75 at `novelty_ratio` times it,
        rising towards 0.99 beyond without reaching it, so extreme lines still rank.
        """
        if len(X) == 0:
            return np.zeros(0)
        most = self.exceedance(X).max(axis=1)
        return 0.99 * np.tanh(np.maximum(most, 0.0) / np.log(self.novelty_ratio))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Columns: ordinary, fraudulent (scikit-learn's binary shape)."""
        p = self.combined(X, self.supervised_score(X), self.novelty_score(X))
        return np.column_stack([1 - p, p])

    def combined(self, X: np.ndarray, sup: np.ndarray, nov: np.ndarray) -> np.ndarray:
        """The score: the larger part, ties broken by volume and cost past ordinary."""
        if len(X) == 0:
            return np.zeros(0)
        # Mostly what lies past ordinary: a SIM box's lack of SMS sits far below the
        # percentiles on several features, and a signed sum alone squashed those lines
        # together. A tenth is the signed sum, for lines with nothing past ordinary.
        e = self.exceedance(X)
        past = np.maximum(e, 0.0).sum(axis=1)
        near = (1 + np.tanh(e.sum(axis=1) / 10)) / 2
        tie = 0.9 * past / (past + PAST_SCALE) + 0.1 * near
        return (1 - TIE_BREAK) * np.maximum(sup, nov) + TIE_BREAK * tie

    def likely_kind(self, X: np.ndarray) -> np.ndarray:
        if self.kind_classifier_ is None:
            return np.full(len(X), self.only_kind_, dtype=object)
        with threadpool_limits(1):
            return self.kind_classifier_.predict(_by_column(X)).astype(object)

    def reasons(
        self, row: np.ndarray, kind: str, novel: bool, known: bool = True
    ) -> tuple[str, ...]:
        """Plain words for one flagged row: its kind's signature facts first.

        Only facts past what ordinary lines show are stated. When the kind's signature is
        faint (none of its facts past ordinary), the line's own unusual facts are said
        instead, and the kind as the closest known pattern, never a fact that speaks
        against it. A novel line (its novelty part the larger) also says what is unusual
        and how far past ordinary lines it is: after its kind's pattern when the
        supervised part flags it too (`known`), first otherwise, then the nearest known.
        """
        unusual = self.unusual(row) if novel else []
        dev = self._deviation(row)
        words = KIND_WORDS.get(kind, kind)
        bound = np.where(_IS_LOW, self.normal_low_, self.normal_high_)
        past = [
            (float(dev[i]), n)
            for i, n in enumerate(FEATURES)
            if n in FACTS and dev[i] > 0 and self._reads_apart(n, row[i], bound[i])
        ]
        signature = [(d, n) for d, n in past if n in SIGNATURES.get(kind, ())]
        if signature:
            head = sorted(signature, reverse=True)[:4]
            pattern = f"{words} pattern"
        else:  # the signature is faint: what is unusual about the line, and the nearest kind
            head = sorted(past, reverse=True)[:3]
            pattern = f"closest to the {words} pattern"
        said = ", ".join(self._fact(row, n) for _, n in head)
        if said:
            out = [f"{said}: {pattern}"]
        elif beyond := self._beyond_most(row, kind):
            # Nothing past the 1st/99th percentile: the kind's own facts past what most
            # ordinary lines show (quiet fraud is a sum of such facts).
            told = ", ".join(self._fact(row, n) for n in beyond)
            each = "each " if len(beyond) > 1 else ""
            out = [f"{told} ({each}beyond what {MOST_WORDS} ordinary lines show): {pattern}"]
        else:
            out = [f"no single measure past ordinary lines: {pattern}"]
        used = set(SIGNATURES.get(kind, ())) | {n for _, n in head}
        others = sorted((d, n) for d, n in past if n not in used and d > 1)[::-1]
        out += [self._fact(row, n) for _, n in others[:2]]
        if unusual:
            rest = [f for f in out if not any(u.startswith(f) for u in unusual)]
            if known:
                out = [rest[0], *unusual, *rest[1:]][:4]
            else:
                out = [*unusual, "nearest known: " + rest[0], *rest[1:]][:4]
        return tuple(out)

    def _beyond_most(self, row: np.ndarray, kind: str, most: int = 3) -> list[str]:
        """Up to `most` of the kind's signature facts past what `MOST` of ordinary lines
        show, furthest first. Only the signature's: past most lines, a fact of another
        kind may speak against this one (a SIM box that texts, an office's hours)."""
        scale = np.maximum(self.normal_most_high_ - self.normal_most_low_, 1e-6)
        bound = np.where(_IS_LOW, self.normal_most_low_, self.normal_most_high_)
        far = np.where(_IS_LOW, bound - row, row - bound) / scale
        names = [
            n
            for i, n in enumerate(FEATURES)
            if n in SIGNATURES.get(kind, ())
            and n in FACTS
            and far[i] > 0
            and self._reads_apart(n, row[i], bound[i])
        ]
        names.sort(key=lambda n: -far[FEATURES.index(n)])
        return names[:most]

    @staticmethod
    def _reads_apart(name: str, value: float, bound: float) -> bool:
        """Whether the fact's words for `value` differ from its words for the ordinary
        bound it is past: "0 outgoing SMS a day" is not told as beyond 0.29 a day."""
        fact = FACTS[name]
        return bool(fact(value) != fact(bound))  # type: ignore[operator]

    @staticmethod
    def _fact(row: np.ndarray, name: str) -> str:
        return str(FACTS[name](row[FEATURES.index(name)]))  # type: ignore[operator]

    def unusual(self, row: np.ndarray, most: int = 2) -> list[str]:
        """Up to `most` volume or cost facts past ordinary lines, with how far past."""
        names = list(NOVELTY_FEATURES)
        e = self.exceedance(row[None, :])[0]
        out = []
        for j in np.argsort(-e, kind="stable")[:most]:
            if e[j] <= 0:
                break
            name = names[j]
            i = FEATURES.index(name)
            fact = FACTS[name](row[i])  # type: ignore[operator]
            verb = NOVELTY_FEATURES[name]
            usual = float(self.normal_extreme_[i])
            if usual < 0.5:
                out.append(f"{fact}, where 99.9% of ordinary lines {verb} none")
            else:
                r = row[i] / usual
                times = f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x"
                out.append(f"{fact}, {times} what 99.9% of ordinary lines {verb}")
        return out

    def _deviation(self, row: np.ndarray) -> np.ndarray:
        """How far past ordinary lines' 1st/99th percentile each feature is (0 = inside)."""
        high = (row - self.normal_high_) / self.normal_scale_
        low = (self.normal_low_ - row) / np.maximum(self.normal_low_, 1e-6)
        dev = np.where(_IS_LOW, np.where(row < self.normal_low_, 1 + low, 0), 0)
        return np.where(row > self.normal_high_, 1 + high, dev)

    def score(self, features: Features) -> pl.DataFrame:
        """Per subscriber: score, flagged, kind, reasons and novel, worst first.

        Scores keep full precision (rounding is the display's): worst first is decided
        on the exact value, and cases store it so that they rank distinctly.
        """
        X = features.matrix
        sup = self.supervised_score(X) if len(X) else np.zeros(0)
        nov = self.novelty_score(X) if len(X) else np.zeros(0)
        score = self.combined(X, sup, nov)
        flagged = score >= self.threshold
        rows = np.flatnonzero(flagged)
        kinds = self.likely_kind(X[rows]) if rows.size else np.zeros(0, dtype=object)
        novel = nov > sup
        # Kind and reasons are built for the flagged rows only and joined on by row: a
        # column of Python lists for every line costs more than the reasons themselves.
        named = pl.DataFrame(
            {
                "row": rows,
                "kind": [str(k) for k in kinds.tolist()],
                "reasons": [
                    list(self.reasons(X[i], str(k), bool(novel[i]), bool(sup[i] >= self.threshold)))
                    for i, k in zip(rows.tolist(), kinds.tolist(), strict=True)
                ],
            },
            schema={"row": pl.Int64, "kind": pl.String, "reasons": pl.List(pl.String)},
        )
        frame = pl.DataFrame(
            {
                "subscriber": features.subscribers.astype(str),
                "score": score,
                "flagged": flagged,
                "novel": novel,
            },
            schema={
                "subscriber": pl.String,
                "score": pl.Float64,
                "flagged": pl.Boolean,
                "novel": pl.Boolean,
            },
        ).with_columns(row=pl.int_range(len(X), dtype=pl.Int64))
        frame = (
            frame.join(named, on="row", how="left", maintain_order="left")
            .with_columns(pl.col("reasons").fill_null([]))
            .select("subscriber", "score", "flagged", "kind", "reasons", "novel")
        )
        return frame.sort(["score", "subscriber"], descending=[True, False])


def as_scores(frame: pl.DataFrame) -> list[SubscriberScore]:
    """The score frame as typed rows."""
    return [
        SubscriberScore(s, float(sc), bool(f), k, tuple(r or ()), bool(n))
        for s, sc, f, k, r, n in frame.select(
            "subscriber", "score", "flagged", "kind", "reasons", "novel"
        ).iter_rows()
    ]
