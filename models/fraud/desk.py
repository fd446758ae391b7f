"""The fraud desk's use-cases: score the window and open cases, score one line now.

`FraudDesk` is built once by bootstrap with the `fraud` settings (the model folder
already resolved against the config file), so the scheduled job, `/fraud check` and
`make demo` load the same model from the same place. Heavy libraries (polars,
scikit-learn) load on first use, not when the desk is built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from domain.config import FraudSettings
from domain.customers.services import subscription_by_msisdn
from domain.db import Database, utcnow
from domain.fraud.services import Flag, open_cases_within_budget

if TYPE_CHECKING:
    import polars as pl

    from models.fraud.artifact import TrainedModel
    from models.fraud.model import SubscriberScore
    from models.fraud.running import RunningWindow

log = logging.getLogger(__name__)


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
    #: Usage records folded in since the previous run (the whole window when rebuilt).
    new_records: int = 0
    #: Every line of the window was scored (a new model or window, or a new day).
    all_lines: bool = True
    #: Flagged lines due a case that the day's budget had no room for. None is kept: the
    #: day's first run scores every line again, and a held line gets a case then only if
    #: it is still flagged and fits that day's budget, worst first.
    held_back: int = 0
    #: Flagged lines due no case: one is open or was decided lately (or the line is no
    #: longer active).
    not_due: int = 0
    #: New cases a day of the window may bring: `fraud.alert_budget` of its lines.
    daily_cap: int = 0
    window_lines: int = 0
    #: What the run could not keep beside the models, one phrase each for the log (its
    #: cases are opened all the same); the run's line only says there were some.
    problems: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the log and the fraud channel: what the run scored, and where
        each flagged line went (opened, held back, or due no case)."""
        text = (
            f"scored {self.scored:,} lines ({self.new_records:,} new records), "
            f"{self.flagged:,} flagged: {len(self.opened):,} cases opened"
        )
        if self.held_back:
            text += (
                f", {self.held_back:,} held back for tomorrow's budget (today's "
                f"{self.daily_cap:,} new cases, for {self.window_lines:,} lines in the "
                "window, are used up)"
            )
        if self.not_due:
            text += (
                f", {self.not_due:,} already have a case, were decided lately or are no "
                "longer active"
            )
        if self.problems:
            text += "; some of the desk's files could not be saved; see the log"
        return text


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
        """The model LATEST names in the configured folder (ModelMissing if none), flagging
        at the configured `fraud.threshold`."""
        from models.fraud.artifact import load_model

        return load_model(self.model_dir, threshold=self.settings.threshold)

    def running_window(self, trained: TrainedModel) -> RunningWindow:
        """The window's running aggregates, kept beside the models."""
        from models.fraud.running import RunningWindow

        return RunningWindow(
            self.model_dir / "running", self.window_days, home_country=trained.home_country
        )

    def score_and_open(self, now: datetime | None = None) -> ScoringRun:
        """Score the lines with new usage over the window and open a case per new flag,
        worst first, at most `alert_budget` of the window's lines a day of the window.

        Usage is folded into running aggregates from a high-water mark, so a run reads
        only records it has not seen. The budget's day is the window's local day: its
        first run scores every line again from the aggregates, so the lines a previous
        day held back are judged by their new scores, with that day's budget.
        """
        from models.fraud.features import DAY
        from models.fraud.model import as_scores
        from models.fraud.training import budget_lines

        now = now or self.clock()
        trained = self.model()
        refresh = self.running_window(trained).refresh(self.db, trained.version, now)
        scores = as_scores(trained.model.score(refresh.features))
        flags = [Flag(s.subscriber, s.score, s.kind, tuple(s.reasons)) for s in scores if s.flagged]
        problems: list[str] = []
        if refresh.unsaved is not None:
            problems.append(
                f"running window not saved ({refresh.unsaved}): every line scored from the records"
            )
        cap = budget_lines(refresh.window_lines, self.settings.alert_budget)
        with self.db.transaction() as session:
            result = open_cases_within_budget(
                session,
                flags,
                model_version=trained.version,
                quiet_days=self.window_days,
                now=now,
                daily_cap=cap,
                day_start=datetime.fromtimestamp(refresh.window[1] - DAY, UTC),
            )
            opened = tuple(c.id for c in result.cases)
        run = ScoringRun(
            trained.version,
            len(scores),
            len(flags),
            opened,
            new_records=refresh.new_records,
            all_lines=refresh.all_lines,
            held_back=len(result.held_back),
            not_due=result.not_due,
            daily_cap=cap,
            window_lines=refresh.window_lines,
            problems=tuple(problems),
        )
        log.info(
            "fraud scoring with model %s: %s%s",
            trained.version,
            run.describe(),
            "".join(f" [{p}]" for p in problems),
        )
        return run

    def rescan(self, now: datetime | None = None) -> pl.DataFrame:
        """Score every line over the window from all its records (what a run must equal)."""
        from models.fraud.data import usage_from_db
        from models.fraud.features import FeatureBuilder
        from models.fraud.running import day_window

        now = now or self.clock()
        trained = self.model()
        window = day_window(now, self.window_days)
        builder = FeatureBuilder(trained.home_country, window=window)
        since = datetime.fromtimestamp(window[0], UTC)
        return trained.model.score(builder.add_all(usage_from_db(self.db, since=since)).finish())

    def check_line(self, msisdn: str, now: datetime | None = None) -> LineCheck:
        """Score one line now over the window."""
        from models.fraud.data import usage_from_db
        from models.fraud.features import FeatureBuilder
        from models.fraud.model import as_scores
        from models.fraud.running import day_window

        now = now or self.clock()
        with self.db.read() as s:
            sub = subscription_by_msisdn(s, msisdn)
            sub_id, shown = sub.id, sub.msisdn or msisdn
        trained = self.model()
        # The scheduled run's window, so a check shows the score the run gives.
        window = day_window(now, self.window_days)
        since = datetime.fromtimestamp(window[0], UTC)
        frames = usage_from_db(self.db, since=since, subscription_ids=[sub_id])
        builder = FeatureBuilder(trained.home_country, window=window)
        scores = as_scores(trained.model.score(builder.add_all(frames).finish()))
        return LineCheck(
            msisdn=shown,
            window_days=self.window_days,
            model_version=trained.version,
            threshold=trained.model.threshold,
            score=scores[0] if scores else None,
        )
