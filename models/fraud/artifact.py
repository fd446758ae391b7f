"""Training runs end to end, and the versioned artifact (joblib) with its model card.

Under the configured `fraud.model_dir`: `fraud-<version>.joblib`, `fraud-<version>.md`
(the model card) and `LATEST` naming the version `load_model` picks up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import polars as pl

from domain.errors import DomainError
from domain.files import replace_text
from models.fraud.features import FEATURES, FeatureBuilder
from models.fraud.model import NORMAL, FraudModel
from models.fraud.training import (
    Feedback,
    Metrics,
    evaluate,
    feature_rows,
    split_by_subscriber,
    thin_fraud,
)

#: Bumped when a saved model cannot be read by this code (2: three more features; 3: the
#: office-hours share).
ARTIFACT_FORMAT = 3
#: Trailing windows (days; 0 = all) every line is seen over in training, and a
#: quieter copy of the fraud: the model learns the shape of a pattern, not one scale.
TRAIN_WINDOWS = (0, 14, 7)
THIN_KEEP = 0.4
THIN_WINDOWS = (0, 7)
#: Weight of each analyst-decided line in training (a generated line weighs 1).
FEEDBACK_WEIGHT = 20


class ModelMissing(DomainError):
    """No trained fraud model where the configuration points."""


@dataclass
class TrainedModel:
    """A fitted model with what it was trained on and how it did on held-out lines."""

    model: FraudModel
    version: str
    source: str
    records: int
    window: tuple[int, int]
    lines_by_kind: dict[str, int]
    train_subscribers: frozenset[str]
    metrics: dict[str, Metrics] = field(default_factory=dict)
    trained_at: str = ""
    home_country: str = "IN"
    #: What analysts' decisions added to the training set ("" for none).
    feedback: str = ""
    #: The fraudulent share of the training rows, weighted as the model saw them: the
    #: prior its scores are calibrated to (None in models saved before it was kept).
    train_prevalence: float | None = None

    def features(self) -> FeatureBuilder:
        return FeatureBuilder(self.home_country)


def train(
    frame: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    threshold: float,
    source: str,
    seed: int = 0,
    test_share: float = 0.3,
    feedback: Feedback | None = None,
    alert_budget: float | None = None,
) -> TrainedModel:
    """Fit on a split of the lines (by subscriber) and measure on the rest.

    `feedback` (analysts' decisions, `training.feedback_rows`) joins the training side
    only, each row weighing `FEEDBACK_WEIGHT` generated rows: the generated set still teaches
    the patterns, and a few hundred decided lines weigh enough against thousands of
    generated ones to move the model where the analysts said it was wrong. The metrics
    stay those of the generated held-out lines. With `alert_budget` they include the
    operating point: the threshold, at most that share of the held-out lines.
    """
    if "is_fraud" in labels.columns:
        labels = labels.filter(pl.col("is_fraud"))
    X, kinds, subs = feature_rows(frame, labels, (0,))
    if not (kinds != NORMAL).any():
        raise DomainError(
            "the labels name no fraudulent line in the usage",
            hint="labels.csv needs subscriber,kind,since lines for subscribers in usage.csv",
        )
    train_rows, test_rows = split_by_subscriber(kinds, test_share, seed)
    train_subs = frozenset(subs[train_rows].tolist())
    parts = [feature_rows(frame, labels, TRAIN_WINDOWS)]
    parts.append(feature_rows(thin_fraud(frame, labels, THIN_KEEP, seed), labels, THIN_WINDOWS))
    Xa = np.vstack([p[0] for p in parts])
    ka = np.concatenate([p[1] for p in parts])
    sa = np.concatenate([p[2] for p in parts])
    mine = np.isin(sa, list(train_subs))
    Xt, kt = Xa[mine], ka[mine]
    wt = np.ones(len(kt))
    if feedback is not None and len(feedback.kinds):
        Xt = np.vstack([Xt, feedback.X])
        kt = np.concatenate([kt, feedback.kinds])
        wt = np.concatenate([wt, np.full(len(feedback.kinds), float(FEEDBACK_WEIGHT))])
    try:
        model = FraudModel(threshold=threshold, random_state=seed).fit(Xt, kt, sample_weight=wt)
    except ValueError as exc:
        raise DomainError(
            str(exc), hint="train on more lines, with fraud of several kinds"
        ) from None
    prevalence = float(wt[kt != NORMAL].sum() / wt.sum())
    metrics = {
        "held-out lines, whole window": evaluate(
            model, X[test_rows], kinds[test_rows], budget=alert_budget, train_prior=prevalence
        )
    }
    X7, k7, s7 = feature_rows(frame, labels, (7,))
    out7 = ~np.isin(s7, list(train_subs))
    if (k7[out7] != NORMAL).any():
        metrics["held-out lines, last 7 days"] = evaluate(
            model, X7[out7], k7[out7], budget=alert_budget, train_prior=prevalence
        )
    digest = hashlib.sha256(Xt.tobytes() + wt.tobytes() + "|".join(kt).encode()).hexdigest()[:8]
    end = int(frame["started_at"].max())  # type: ignore[arg-type]
    day = datetime.fromtimestamp(end, UTC).strftime("%Y%m%d")
    kinds_all, counts = np.unique(kinds, return_counts=True)
    return TrainedModel(
        model=model,
        version=f"{day}-{digest}",
        source=source,
        records=frame.height,
        window=(int(frame["started_at"].min()), end),  # type: ignore[arg-type]
        lines_by_kind=dict(zip(kinds_all.tolist(), counts.tolist(), strict=True)),
        train_subscribers=train_subs,
        metrics=metrics,
        trained_at=datetime.fromtimestamp(end, UTC).isoformat(),
        feedback=_feedback_note(feedback),
        train_prevalence=prevalence,
    )


def _feedback_note(feedback: Feedback | None) -> str:
    if feedback is None:
        return ""
    first = datetime.fromtimestamp(feedback.first, UTC).strftime("%Y-%m-%d %H:%M")
    last = datetime.fromtimestamp(feedback.last, UTC).strftime("%Y-%m-%d %H:%M")
    return (
        f"{feedback.confirmed:,} confirmed and {feedback.dismissed:,} dismissed cases "
        f"decided {first} to {last} UTC, each line seen over the window before its "
        f"decision, weighted x{FEEDBACK_WEIGHT}"
    )


def save_model(trained: TrainedModel, model_dir: str | Path) -> Path:
    """Write the artifact and its model card; point LATEST at it. Returns the artifact."""
    d = Path(model_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"fraud-{trained.version}.joblib"
    joblib.dump({"format": ARTIFACT_FORMAT, "trained": trained}, path, compress=3)
    (d / f"fraud-{trained.version}.md").write_text(model_card(trained))
    replace_text(d / "LATEST", trained.version + "\n")
    return path


def has_model(model_dir: str | Path) -> bool:
    return (Path(model_dir) / "LATEST").is_file()


def unusable_model(model_dir: str | Path) -> ModelMissing | None:
    """Why the model in `model_dir` cannot be used (an older format, unreadable), or
    None when it loads; a folder with no model at all is for `has_model` to say."""
    try:
        load_model(model_dir)
    except ModelMissing as exc:
        return exc
    return None


def load_model(
    model_dir: str | Path, version: str | None = None, *, threshold: float | None = None
) -> TrainedModel:
    """The model LATEST names under model_dir (or the given version).

    `threshold` (the configured `fraud.threshold`) replaces the one the model was trained
    with, so changing the configuration moves the operating point without retraining.
    """
    d = Path(model_dir)
    latest = d / "LATEST"
    if version is None:
        if not latest.is_file():
            raise ModelMissing(
                f"no fraud model in {d}",
                hint="train one: switchboard fraud train --synthetic (or --from-db)",
            )
        version = latest.read_text().strip()
    path = d / f"fraud-{version}.joblib"
    try:
        blob = joblib.load(path)
    except (OSError, EOFError, ValueError) as exc:
        raise ModelMissing(
            f"cannot load fraud model {path}: {exc}", hint="train it again: switchboard fraud train"
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != ARTIFACT_FORMAT:
        what = (
            f"is a fraud model of format {blob.get('format')}"
            if isinstance(blob, dict) and "format" in blob
            else "is not a fraud model"
        )
        raise ModelMissing(
            f"{path} {what}; this version reads format {ARTIFACT_FORMAT}",
            hint="train a new one: switchboard fraud train",
        )
    trained: TrainedModel = blob["trained"]
    if threshold is not None:
        trained.model.threshold = threshold
    return trained


def score_frames(
    trained: TrainedModel, frames: Iterable[pl.DataFrame] | pl.DataFrame
) -> pl.DataFrame:
    """Score every subscriber in a frame or a stream of chunks.

    Columns: subscriber, score (0..1, higher is worse), flagged (score >= threshold),
    kind (a FraudKind value, for flagged lines) and reasons (list of plain-words
    strings, for flagged lines); worst first.
    """
    if isinstance(frames, pl.DataFrame):
        frames = [frames]
    features = trained.features().add_all(frames).finish()
    return trained.model.score(features)


# -- the model card -----------------------------------------------------------------------

_FEATURE_NOTES = {
    "active_days": "days with any record",
    "first_seen_day": "days from the window's start to the line's first record",
    "voice_out_peak_day": "outgoing calls on the busiest day",
    "voice_in_per_out": "incoming calls per outgoing call",
    "sms_out_peak_10min": "most outgoing SMS in ten minutes",
    "distinct_out_share": "distinct numbers called or texted per outgoing event",
    "top_counterpart_share": "share of outgoing events to the most used number",
    "sequential_pairs": "called numbers within 20 of the previous one (a range in sequence)",
    "premium_out": "outgoing calls and SMS to high-cost (IRSF) destinations",
    "night_out_share": "outgoing calls between 00:00 and 06:00 local time",
    "top_cell_share": "share of home-network records on the most used cell",
    "imei_shared_with": "other subscribers seen on the same handset (IMEI)",
    "new_handset_new_cells": "share of the newest handset's records on cells never used before it",
    "new_handset_intl_change": "international calls a day with the newest handset minus before it",
    "new_handset_in_drop": "share of calls answered before the newest handset minus after",
    "early_intl_share": "international share of the line's first three days",
    "unanswered_out_share": "share of outgoing calls nobody answered (0 seconds)",
    "weekend_out_share": "share of outgoing calls and SMS on Saturday or Sunday (local time)",
    "weekend_in_share": "share of incoming calls and SMS on Saturday or Sunday (local time)",
    "office_hours_out_share": "share of outgoing calls and SMS on weekdays 09:00-18:00 local time",
}


def _operating_point(t: TrainedModel) -> str:
    """The operating point the metrics below were measured at, and where it comes from."""
    budget = next((m.point.budget for m in t.metrics.values() if m.point is not None), None)
    cap = f", at most {budget:.2%} of the lines (`fraud.alert_budget`)" if budget else ""
    return (
        f"operating point when trained: flagged at {t.model.threshold:.2f} (`fraud.threshold`)"
        f"{cap}, worst first; scoring uses the values configured at the time, so changing "
        "them needs no retraining"
    )


_CALIBRATION = {"sigmoid": "Platt-calibrated (sigmoid)", "isotonic": "isotonic-calibrated"}


def model_card(t: TrainedModel) -> str:
    start = datetime.fromtimestamp(t.window[0], UTC).date()
    end = datetime.fromtimestamp(t.window[1], UTC).date()
    kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(t.lines_by_kind.items()))
    lines = [
        f"# Fraud model {t.version}",
        "",
        "## Data",
        "",
        f"- source: {t.source}",
        f"- {t.records:,} usage records, {start} to {end}",
        f"- lines by label: {kinds}",
        f"- split by subscriber: {len(t.train_subscribers):,} lines to train on, "
        "the rest held out for the metrics below",
        f"- training also sees every line over the trailing {TRAIN_WINDOWS[1]} and "
        f"{TRAIN_WINDOWS[2]} days, and a copy with {THIN_KEEP:.0%} of the fraud records "
        "(quieter fraud)",
        *([f"- analysts' decisions: {t.feedback}"] if getattr(t, "feedback", "") else []),
        "",
        "## Model",
        "",
        f"- HistGradientBoosting (scikit-learn), {_CALIBRATION[t.model.calibration]} on "
        "3 folds: the probability a line is fraudulent",
        "- a second HistGradientBoosting on fraudulent lines names the likely kind",
        "- novelty: how far a line's calls, SMS, international, premium or roaming traffic "
        "goes past what 99.9% of ordinary training lines show (0.75 at "
        f"{t.model.novelty_ratio:g}x), for kinds nobody described",
        f"- score = the larger of the two; {_operating_point(t)}",
        "",
        "## Features (per subscriber, over the scoring window)",
        "",
    ]
    lines += [
        f"- `{f}`" + (f": {_FEATURE_NOTES[f]}" if f in _FEATURE_NOTES else "") for f in FEATURES
    ]
    lines += ["", "## Metrics", ""]
    for name, m in t.metrics.items():
        lines += [f"### {name}", "", "```", *m.lines_of_text(), "```", ""]
    lines += [
        "## Limits",
        "",
        "- Trained on synthetic usage from the demo generator unless the source says "
        "otherwise; check it on your own labelled data (`fraud evaluate`) before trusting "
        "the threshold.",
        "- High-cost destinations are a fixed list of country codes (IRSF ranges); "
        "a new abused range is only caught by volume and the anomaly score.",
        "- A SIM box that relays calls only on weekdays 09:00-18:00 local time reads as a "
        "contact centre's seat (the office-hours share); quiet ones that do are missed.",
        "- Night is 00:00-06:00 IST; subscription fraud is seen as a line first seen "
        "inside the window, since the CSV carries no activation date.",
        "- Lines with a few records give weak evidence; a window under 3 days is too short.",
        "- Scores are calibrated on the training mix (fraud on "
        + (f"{t.train_prevalence:.2%}" if t.train_prevalence is not None else "about 4%")
        + " of the training rows, weighted); at another prevalence the probabilities shift, "
        "the ranking does not: `fraud evaluate` re-weights them to the share it estimates.",
        "",
    ]
    return "\n".join(lines)
