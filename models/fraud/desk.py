"""The fraud desk's use-cases: score the window and open cases, score one line now.

`FraudDesk` is built once by bootstrap with the `fraud` settings (the model folder
already resolved against the config file), so the scheduled job, `/fraud check` and
`make demo` load the same model from the same place. Heavy libraries (polars,
scikit-learn) load on first use, not when the desk is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from domain.config import FraudSettings
from domain.customers.services import subscription_by_msisdn
from domain.db import Database, utcnow
from domain.fraud.services import Flag, open_cases

if TYPE_CHECKING:
    from models.fraud.artifact import TrainedModel
    from models.fraud.model import SubscriberScore


@dataclass(frozen=True)
class LineCheck:
    """One line scored now over the fraud window."""

    msisdn: str
    window_days: int
    model_version: str
    threshold: float
    #: None when the line has no usage in the window.
    score: SubscriberScore | None


@dataclass(frozen=True)
class ScoringRun:
    """A scheduled scoring pass: what was scored and which cases it opened."""

    model_version: str
    scored: int
    flagged: int
    opened: tuple[int, ...]


class FraudDesk:
    def __init__(
        self, db: Database, settings: FraudSettings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.settings = settings
        self.model_dir = Path(settings.model_dir)
        self.clock = clock

    @property
    def window_days(self) -> int:
        return self.settings.window_days

    def model(self) -> TrainedModel:
        """The model LATEST names in the configured folder (ModelMissing if none)."""
        from models.fraud.artifact import load_model

        return load_model(self.model_dir)

    def score_and_open(self, now: datetime | None = None) -> ScoringRun:
        """Score every line's usage over the window and open a case per new flag."""
        from models.fraud.artifact import score_frames
        from models.fraud.data import usage_from_db
        from models.fraud.model import as_scores

        now = now or self.clock()
        trained = self.model()
        since = now - timedelta(days=self.window_days)
        scores = as_scores(score_frames(trained, usage_from_db(self.db, since=since)))
        flags = [Flag(s.subscriber, s.score, s.kind, tuple(s.reasons)) for s in scores if s.flagged]
        with self.db.transaction() as session:
            made = open_cases(
                session,
                flags,
                model_version=trained.version,
                quiet_days=self.window_days,
                now=now,
            )
            opened = tuple(c.id for c in made)
        return ScoringRun(trained.version, len(scores), len(flags), opened)

    def check_line(self, msisdn: str, now: datetime | None = None) -> LineCheck:
        """Score one line now over the window."""
        from models.fraud.artifact import score_frames
        from models.fraud.data import usage_from_db
        from models.fraud.model import as_scores

        now = now or self.clock()
        with self.db.read() as s:
            sub = subscription_by_msisdn(s, msisdn)
            sub_id, shown = sub.id, sub.msisdn or msisdn
        trained = self.model()
        since = now - timedelta(days=self.window_days)
        frames = usage_from_db(self.db, since=since, subscription_ids=[sub_id])
        scores = as_scores(score_frames(trained, frames))
        return LineCheck(
            msisdn=shown,
            window_days=self.window_days,
            model_version=trained.version,
            threshold=trained.model.threshold,
            score=scores[0] if scores else None,
        )
