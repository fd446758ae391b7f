"""The fraud model: per-subscriber features, training, scoring with reasons, the model card.

What a scheduled job calls::

    trained = load_model(settings.fraud.model_dir)      # TrainedModel (version, model)
    scores = score_frame(trained, usage_from_db(db, since=...))   # polars DataFrame
    for s in as_scores(scores):                         # SubscriberScore rows, worst first
        if s.flagged: ...                               # s.score, s.kind, s.reasons

`score_frame` takes one polars frame or an iterable of chunks in the usage CSV
interchange's columns (`read_usage_csv`, `usage_from_db` and `frame_from_columns`
make them).
"""

from __future__ import annotations

from models.fraud.artifact import (
    ModelMissing,
    TrainedModel,
    has_model,
    load_model,
    model_card,
    save_model,
    score_frames,
    train,
)
from models.fraud.data import labels_from_db, usage_from_db
from models.fraud.features import FEATURES, FeatureBuilder, Features, compute_features
from models.fraud.model import FraudModel, SubscriberScore, as_scores
from models.fraud.usage_csv import (
    BadLines,
    UsageFileError,
    frame_from_columns,
    read_labels_csv,
    read_usage_csv,
    write_labels_csv,
    write_usage_csv,
)

#: The name the scheduled job uses.
score_frame = score_frames

__all__ = [
    "FEATURES",
    "BadLines",
    "FeatureBuilder",
    "Features",
    "FraudModel",
    "ModelMissing",
    "SubscriberScore",
    "TrainedModel",
    "UsageFileError",
    "as_scores",
    "compute_features",
    "frame_from_columns",
    "has_model",
    "labels_from_db",
    "load_model",
    "model_card",
    "read_labels_csv",
    "read_usage_csv",
    "save_model",
    "score_frame",
    "score_frames",
    "train",
    "usage_from_db",
    "write_labels_csv",
    "write_usage_csv",
]
