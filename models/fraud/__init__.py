"""The fraud model: per-subscriber features, training, scoring with reasons, the model card.

What a scheduled job calls::

    trained = load_model(settings.fraud.model_dir)      # TrainedModel (version, model)
    scores = score_frame(trained, usage_from_db(db, since=...))   # polars DataFrame
    for s in as_scores(scores):                         # SubscriberScore rows, worst first
        if s.flagged: ...                               # s.score, s.kind, s.reasons

`score_frame` takes one polars frame or an iterable of chunks in the usage CSV
interchange's columns (`read_usage_csv`, `usage_from_db` and `frame_from_columns`
make them).

The names load from their submodules on first use (PEP 562), so importing the package,
or a light submodule such as `models.fraud.desk`, does not import scikit-learn and
polars: a chat command that never scores should not wait for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.fraud.artifact import (
        ModelMissing,
        TrainedModel,
        has_model,
        load_model,
        model_card,
        save_model,
        score_frames,
        train,
        unusable_model,
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

#: Where each public name is defined: (submodule, name there).
_SOURCES: dict[str, tuple[str, str]] = {
    "ModelMissing": ("artifact", "ModelMissing"),
    "TrainedModel": ("artifact", "TrainedModel"),
    "has_model": ("artifact", "has_model"),
    "unusable_model": ("artifact", "unusable_model"),
    "load_model": ("artifact", "load_model"),
    "model_card": ("artifact", "model_card"),
    "save_model": ("artifact", "save_model"),
    "score_frames": ("artifact", "score_frames"),
    "score_frame": ("artifact", "score_frames"),
    "train": ("artifact", "train"),
    "labels_from_db": ("data", "labels_from_db"),
    "usage_from_db": ("data", "usage_from_db"),
    "FEATURES": ("features", "FEATURES"),
    "FeatureBuilder": ("features", "FeatureBuilder"),
    "Features": ("features", "Features"),
    "compute_features": ("features", "compute_features"),
    "FraudModel": ("model", "FraudModel"),
    "SubscriberScore": ("model", "SubscriberScore"),
    "as_scores": ("model", "as_scores"),
    "BadLines": ("usage_csv", "BadLines"),
    "UsageFileError": ("usage_csv", "UsageFileError"),
    "frame_from_columns": ("usage_csv", "frame_from_columns"),
    "read_labels_csv": ("usage_csv", "read_labels_csv"),
    "read_usage_csv": ("usage_csv", "read_usage_csv"),
    "write_labels_csv": ("usage_csv", "write_labels_csv"),
    "write_usage_csv": ("usage_csv", "write_usage_csv"),
}


def __getattr__(name: str) -> Any:
    """Import the submodule that defines `name` on first use, and keep the value."""
    try:
        module, attribute = _SOURCES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_SOURCES})


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
    "unusable_model",
    "usage_from_db",
    "write_labels_csv",
    "write_usage_csv",
]
