"""The fraud desk's use-cases: score the window and open cases, score one line now.

`FraudDesk` is built once by bootstrap with the `fraud` settings (the model folder
already resolved against the config file), so the scheduled job, `/fraud check` and
`make demo` load the same model from the same place. Heavy libraries (polars,
scikit-learn) load on first use, not when the desk is built.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from domain.config import FraudSettings
from domain.customers.models import Subscription
from domain.customers.services import subscription_by_msisdn
from domain.db import Database, utcnow
from domain.files import replace_text
from domain.fraud.services import Flag, lines_with_usage, open_cases_within_budget

if TYPE_CHECKING:
    import polars as pl

    from models.fraud.artifact import TrainedModel
    from models.fraud.model import SubscriberScore
    from models.fraud.running import Refresh, RunningWindow

log = logging.getLogger(__name__)

#: The flagged lines the daily budget held back, kept beside the models for later runs.
HELD_BACK_FILE = "held-back.json"


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
    #: Lines due a case that today's budget had no room for; a later run opens them,
    #: worst first, when a new UTC day's budget allows.
    held_back: int = 0
    #: New cases a UTC day may bring: `fraud.alert_budget` of the window's lines.
    daily_cap: int = 0
    window_lines: int = 0
    #: What the run could not keep or read beside the models, one phrase each (its
    #: cases are opened all the same).
    problems: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the logs: what the run scored, opened and held back."""
        text = (
            f"scored {self.scored:,} lines ({self.new_records:,} new records), "
            f"{self.flagged:,} flagged, {len(self.opened):,} cases opened"
        )
        if self.held_back:
            text += (
                f", {self.held_back:,} held back: today's budget of {self.daily_cap:,} new "
                f"cases ({self.window_lines:,} lines in the window) is used up"
            )
        for problem in self.problems:
            text += f"; {problem}"
        return text


#: Bounds of a held-back entry's text: a model's kind and reasons are short plain words.
MAX_KIND = 64
MAX_REASONS = 16
MAX_REASON = 1_000
#: A line's number is at most this long (E.164: 15 digits, with room for a prefix).
MAX_MSISDN = 32


def _plain(text: object, limit: int) -> bool:
    """Short printable text that a spreadsheet would not take for a formula."""
    return (
        isinstance(text, str)
        and 0 < len(text) <= limit
        and text.isprintable()
        and text[0] not in "=+-@"
    )


def _held_flag(entry: object) -> Flag | None:
    """A held-back entry `[msisdn, score, kind, reasons]` as a Flag; None if malformed."""
    if not isinstance(entry, list) or len(entry) != 4:
        return None
    msisdn, score, kind, reasons = entry
    if not _plain(msisdn, MAX_MSISDN) or not _plain(kind, MAX_KIND):
        return None
    if isinstance(score, bool) or not isinstance(score, int | float):
        return None
    if not 0.0 <= score <= 1.0:  # NaN fails too
        return None
    if not isinstance(reasons, list) or len(reasons) > MAX_REASONS:
        return None
    if not all(_plain(r, MAX_REASON) for r in reasons):
        return None
    return Flag(msisdn, float(score), kind, tuple(reasons))


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
        worst first, at most `alert_budget` of the window's lines a UTC day.

        Usage is folded into running aggregates from a high-water mark, so a run reads
        only records it has not seen; at a new day (or model, or window) every line of
        the window is scored again from the aggregates. Flagged lines the day's budget
        has no room for are held back (kept beside the models) and offered again on
        later runs with the new flags, until a day's budget has room for them or a new
        score no longer flags them.
        """
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
        kept = self._held_back(trained.version, refresh, problems)
        lines = self._window_lines(refresh)
        cap = budget_lines(lines, self.settings.alert_budget)
        # A held-back line scored again in this run is judged by its new score only.
        rescored = {str(s) for s in refresh.features.subscribers}
        waiting = [f for f in kept if f.msisdn not in rescored]
        with self.db.transaction() as session:
            result = open_cases_within_budget(
                session,
                flags + waiting,
                daily_cap=cap,
                model_version=trained.version,
                quiet_days=self.window_days,
                now=now,
            )
            opened = tuple(c.id for c in result.cases)
        # The cases are committed: a side file that cannot be written is said, never raised,
        # so the run is still announced.
        try:
            self._keep_held_back(trained.version, refresh, result.held_back)
        except OSError as exc:
            log.warning(
                "fraud held-back list not saved in %s (%s: %s)",
                self._held_back_path(),
                type(exc).__name__,
                exc,
            )
            problems.append(f"held-back list not saved: {type(exc).__name__}: {exc}")
        run = ScoringRun(
            trained.version,
            len(scores),
            len(flags),
            opened,
            new_records=refresh.new_records,
            all_lines=refresh.all_lines,
            held_back=len(result.held_back),
            daily_cap=cap,
            window_lines=lines,
            problems=tuple(problems),
        )
        log.info("fraud scoring with model %s: %s", trained.version, run.describe())
        return run

    # -- the lines the daily budget held back -----------------------------------------------

    def _held_back_path(self) -> Path:
        return self.model_dir / HELD_BACK_FILE

    def _held_back(self, model_version: str, refresh: Refresh, problems: list[str]) -> list[Flag]:
        """The held-back flags the previous run kept, when they apply; each entry checked
        (a line of the database, a score within 0..1, reasons of plain bounded text).

        After a run that scores every line no flag is carried over: its own are complete,
        so an unreadable list is rebuilt there (said once in the log and in `problems`).
        """
        if refresh.all_lines:
            return []
        path = self._held_back_path()
        try:
            state = json.loads(path.read_text())
            if not isinstance(state, dict):
                raise ValueError(f"a JSON {type(state).__name__}, not an object")
            if state.get("model_version") != model_version or state.get("window") != list(
                refresh.window
            ):
                return []
            entries = state["flags"]
            if not isinstance(entries, list):
                raise ValueError("its flags are not a list")
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.warning(
                "fraud held-back list %s unreadable (%s); dropped: its lines are held back "
                "again at the next full rescore",
                path,
                reason,
            )
            problems.append(
                f"held-back list unreadable ({reason}): its lines are held back again at the "
                "next full rescore"
            )
            return []
        flags = [f for f in map(_held_flag, entries) if f is not None]
        if flags:
            with self.db.read() as session:
                known = set(
                    session.scalars(
                        sa.select(Subscription.msisdn).where(
                            Subscription.msisdn.in_([f.msisdn for f in flags])
                        )
                    )
                )
            flags = [f for f in flags if f.msisdn in known]
        if len(flags) < len(entries):
            dropped = len(entries) - len(flags)
            log.warning(
                "fraud held-back list %s: %d of its %d entries are not a flagged line of the "
                "database (score 0..1, plain reasons); dropped",
                path,
                dropped,
                len(entries),
            )
            problems.append(f"{dropped:,} invalid held-back entries dropped")
        return flags

    def _window_lines(self, refresh: Refresh) -> int:
        """Lines with usage in the window: counted by a run that scored them all, else
        from the running tables the run just wrote, else in the database (never taken
        from the held-back file)."""
        if refresh.all_lines:
            return int(refresh.features.subscribers.size)
        if refresh.window_lines:
            return refresh.window_lines
        w0, w1 = refresh.window
        with self.db.read() as session:
            return lines_with_usage(
                session, datetime.fromtimestamp(w0, UTC), datetime.fromtimestamp(w1, UTC)
            )

    def _keep_held_back(self, model_version: str, refresh: Refresh, held: tuple[Flag, ...]) -> None:
        path = self._held_back_path()
        state = {
            "model_version": model_version,
            "window": list(refresh.window),
            "flags": [[f.msisdn, f.score, f.kind, list(f.reasons)] for f in held],
        }
        replace_text(path, json.dumps(state))

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
