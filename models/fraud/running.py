"""Running aggregates of the fraud window, so a scheduled run reads only new usage.

The window is whole local days: the `window_days` days ending with the day of `now`
(rates are per day of that window). Its usage is kept as the feature builder's partial
tables keyed by (subscriber, local day), one set of Parquet files per day, under a
folder beside the model, and once more merged over the days before today (the past
tables, merged again once a day), with a high-water mark: the largest usage record id
folded in.

A run (`RunningWindow.refresh`) reads the records with an id above the mark (paged, by
id), folds each into its own day (a late record for an older day of the window into the
past tables too), drops the days that left the window, and recomputes the features of
the lines whose features can have changed: lines with new usage in the window, and lines
sharing a handset whose count of SIMs changed, from the past tables and today's only.
When the window's first day moves (midnight), the past tables are merged again from the
days left and a line's `first_seen_day` moves with the window, so that run recomputes
every line, from the stored partials, without reading old records again. Features equal
a full pass over the same window (`FeatureBuilder(window=...)`) because every partial
merges by sum, min or max.

PostgreSQL hands out ids at insert but transactions commit in any order, so a record
below the mark can become visible after a run has passed it. A run therefore remembers
the ids in the range it read that were not visible (holes) and looks at them again on
each later run, until they appear or expire (HOLE_EXPIRY_S: an id rolled back or deleted
never appears). A run reads only ranges whose every id was visible when it planned the
read, so a record is folded exactly once. SQLite commits one writer at a time; holes
there come only from deletions, and the same code handles them.

The stored state says which model scored it and over how many days; a new model, a new
window length, another home country or time zone, or another state format starts again
from the records. Writes are atomic: new files have a new generation name, and
`state.json` (written last, by rename) names the files, the mark and the holes, so a
crashed run leaves the previous state whole and the next run resumes from its mark. One
run at a time: the scheduler runs the scoring job under its cluster lock.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

from domain.billing.models import UsageRecord
from domain.db import Database, database_tag
from domain.files import replace_text
from models.fraud.data import usage_from_db
from models.fraud.features import (
    DAY,
    FEATURES,
    LOCAL_OFFSET_S,
    PARTIAL_KEYS,
    FeatureBuilder,
    Features,
    features_from_partials,
    merge_into_sorted,
    merge_partials,
    partials_of,
)
from models.fraud.usage_csv import FRAME_SCHEMA

log = logging.getLogger(__name__)

#: 3: past tables merged over the days before today, holes below the mark; 4: the past
#: cp table sorted by line and number (a run merges today's into it without sorting); 5:
#: the office-hours count in the sub table; a state of another format (or partial tables
#: of other columns) is rebuilt, never read.
STATE_FORMAT = 5
STATE_FILE = "state.json"
#: Lines whose features are computed together (bounds the memory of a large run).
FEATURE_GROUP = 16_000
#: Rows of a Parquet row group: tables are stored sorted by line, so a group of lines
#: reads only the row groups that hold it.
ROW_GROUP = 32_768
#: Lines merged together when the past tables are merged again (midnight).
PAST_GROUP = 4 * FEATURE_GROUP
#: Ids not visible when a run passed them are looked at again for this long (seconds of
#: the run's clock); a transaction open longer than this loses its records to the window.
HOLE_EXPIRY_S = 6 * 3600
#: Holes are tracked only among the newest ids of a run's range (a rebuild reads
#: millions; an id below these was not in flight).
HOLE_TRAIL_IDS = 1_000_000
#: At most this many holes are remembered (the newest); more means mass deletion.
MAX_HOLES = 10_000

#: An id range to read: after < id <= upto.
IdRange = tuple[int, int]


def day_window(
    now: datetime, window_days: int, local_offset_s: int = LOCAL_OFFSET_S
) -> tuple[int, int]:
    """The window (epoch s, end exclusive): `window_days` local days ending with today's."""
    today = (int(now.timestamp()) + local_offset_s) // DAY
    first = today - window_days + 1
    return first * DAY - local_offset_s, (today + 1) * DAY - local_offset_s


def max_usage_id(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(UsageRecord.__table__.c.id))).scalar() or 0)


@dataclass(frozen=True)
class Reads:
    """What a run reads: id ranges whose every id was visible, the new mark, and the ids
    at or below it not visible yet (holes: [first, last, first seen (epoch s)])."""

    ranges: list[IdRange]
    mark: int
    holes: list[list[int]] = field(default_factory=list)
    #: The database's highest id is below the mark (restored from a backup, or SQLite
    #: handing out again the ids of deleted newest rows): the state no longer matches it.
    behind: bool = False


def _runs(ids: list[int]) -> list[IdRange]:
    """Sorted ids as ranges (after, upto] of consecutive ids."""
    out: list[IdRange] = []
    for i in ids:
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i - 1, i))
    return out


def plan_reads(db: Database, mark: int, holes: list[list[int]], now_s: int) -> Reads:
    """The ranges to read above the mark and in the holes that are visible now."""
    u = UsageRecord.__table__.c
    ranges: list[IdRange] = []
    kept: list[list[int]] = []
    with db.engine.connect() as conn:
        live = [h for h in holes if now_s - h[2] <= HOLE_EXPIRY_S]
        for i in range(0, len(live), 200):
            chunk = live[i : i + 200]
            found = sorted(
                conn.execute(
                    sa.select(u.id).where(sa.or_(*(u.id.between(lo, hi) for lo, hi, _ in chunk)))
                ).scalars()
            )
            ranges += _runs(found)
            seen = set(found)
            for lo, hi, when in chunk:
                kept += [[a + 1, b, when] for a, b in _gaps(lo - 1, hi, seen)]
        upto = int(conn.execute(sa.select(sa.func.max(u.id))).scalar() or 0)
        if upto < mark:
            return Reads([], mark, [], behind=True)
        if upto > mark:
            lo = max(mark, upto - HOLE_TRAIL_IDS)
            if lo > mark:  # below the trail, holes are not tracked: read it whole
                ranges.append((mark, lo))
            # The visible ids of (lo, upto] where a run of consecutive ids starts or ends,
            # in one statement (one snapshot): the ranges to read, and the holes between.
            prev = sa.func.lag(u.id).over(order_by=u.id)
            nxt = sa.func.lead(u.id).over(order_by=u.id)
            inner = (
                sa.select(u.id.label("id"), prev.label("prev"), nxt.label("nxt"))
                .where(u.id > lo, u.id <= upto)
                .subquery()
            )
            edges = conn.execute(
                sa.select(inner.c.id, inner.c.prev, inner.c.nxt)
                .where(
                    sa.or_(
                        inner.c.prev.is_(None), inner.c.nxt.is_(None), inner.c.nxt > inner.c.id + 1
                    )
                )
                .order_by(inner.c.id)
            ).all()
            if not edges:  # none of the range is visible yet
                kept.append([lo + 1, upto, now_s])
            else:
                start = int(edges[0][0]) - 1
                if start > lo:
                    kept.append([lo + 1, start, now_s])
                for a, _, b in ((int(a), p, None if b is None else int(b)) for a, p, b in edges):
                    if b is not None and b == a + 1:  # the first id, not an end of a run
                        continue
                    ranges.append((start, a))
                    if b is None:
                        if a < upto:
                            kept.append([a + 1, upto, now_s])
                        break
                    kept.append([a + 1, b - 1, now_s])
                    start = b - 1
    kept.sort(key=lambda h: h[0])
    return Reads(ranges, max(mark, upto), kept[-MAX_HOLES:])


def _gaps(after: int, upto: int, seen: set[int]) -> list[IdRange]:
    """Ranges (after, upto] of consecutive ids not in `seen`."""
    out: list[IdRange] = []
    start = after
    for i in sorted(x for x in seen if after < x <= upto):
        if i - 1 > start:
            out.append((start, i - 1))
        start = i
    if upto > start:
        out.append((start, upto))
    return out


@dataclass(frozen=True)
class Refresh:
    """What one run folded in and the features of the lines to score."""

    features: Features
    #: Records read above the previous mark or in its holes (inside the window or not).
    new_records: int
    mark: int
    #: Started again from the records (no state, a new model, window or zone).
    rebuilt: bool
    #: Every line of the window was recomputed (rebuilt, or the window's first day moved).
    all_lines: bool
    window: tuple[int, int]
    #: Ids at or below the mark not visible yet (looked at again by the next runs).
    holes: int = 0
    #: Why the running state could not be written (this run then scored every line from
    #: the records, in memory); None when it was kept.
    unsaved: str | None = None
    #: Lines with usage in the window (from the running tables, or the lines scored when
    #: every line was): the desk's daily budget is a share of them.
    window_lines: int = 0


class RunningWindow:
    """Per-(subscriber, local day) partial tables of the fraud window, kept in `folder`."""

    def __init__(
        self,
        folder: str | Path,
        window_days: int,
        home_country: str = "IN",
        local_offset_s: int = LOCAL_OFFSET_S,
    ) -> None:
        self.folder = Path(folder)
        self.window_days = window_days
        self.home_country = home_country
        self.local_offset_s = local_offset_s

    # -- stored state ---------------------------------------------------------------------

    def _identity(self, model_version: str, source: str) -> dict[str, object]:
        empty = _empty_partials(self.home_country, self.local_offset_s)
        return {
            "format": STATE_FORMAT,
            # The partial tables' columns: a feature builder with other sums starts again.
            "columns": {name: empty[name].columns for name in PARTIAL_KEYS},
            "model_version": model_version,
            # The records' source (a database): its aggregates and mark are its own.
            "source": source,
            "window_days": self.window_days,
            "home_country": self.home_country,
            "local_offset_s": self.local_offset_s,
        }

    def load_state(self) -> dict[str, object] | None:
        """The stored state, or None when there is none or it is not one this code wrote
        (garbage is said once in the log and the window is rebuilt from the records)."""
        path = self.folder / STATE_FILE
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning(
                "fraud running window: %s unreadable (%s: %s); rebuilt from the records",
                path,
                type(exc).__name__,
                exc,
            )
            return None
        problem = _state_problem(state)
        if problem is not None:
            log.warning(
                "fraud running window: %s is not a valid state (%s); rebuilt from the records",
                path,
                problem,
            )
            return None
        return state

    def _file(self, day: int, gen: str, name: str) -> Path:
        return self.folder / f"{day}-{gen}.{name}.parquet"

    def _past(self, gen: str, name: str) -> Path:
        return self.folder / f"past-{gen}.{name}.parquet"

    def _names(self, state: dict[str, object] | None) -> pl.DataFrame:
        """The lines' names by their number in the partial tables (`line`, dense from 0)."""
        if state is not None and state.get("names"):
            return pl.read_parquet(self.folder / f"names-{state['names']}.parquet")
        return pl.DataFrame(schema={"subscriber": pl.String, "line": pl.Int64})

    def _save(self, state: dict[str, object], keep: dict[int, str], past: str | None) -> None:
        replace_text(self.folder / STATE_FILE, json.dumps(state))
        # Files no state names any more: older generations and days out of the window.
        wanted = {self._file(d, g, n).name for d, g in keep.items() for n in PARTIAL_KEYS}
        if past is not None:
            wanted |= {self._past(past, n).name for n in PARTIAL_KEYS}
        wanted.add(f"names-{state['names']}.parquet")
        for path in self.folder.glob("*.parquet"):
            if path.name not in wanted:
                path.unlink(missing_ok=True)

    # -- a run ----------------------------------------------------------------------------

    def refresh(self, db: Database, model_version: str, now: datetime) -> Refresh:
        """Fold usage above the mark (and in its holes) into its days; the features of
        the lines to rescore."""

        def read(ranges: list[IdRange], since: datetime) -> Iterator[pl.DataFrame]:
            for after, upto in ranges:
                yield from usage_from_db(db, since=since, after_id=after, upto_id=upto)

        return self.update(
            read,
            lambda mark, holes, now_s: plan_reads(db, mark, holes, now_s),
            model_version,
            now,
            source=database_tag(db.url),
        )

    def update(
        self,
        read: Callable[[list[IdRange], datetime], Iterable[pl.DataFrame]],
        plan: Callable[[int, list[list[int]], int], Reads],
        model_version: str,
        now: datetime,
        source: str = "",
    ) -> Refresh:
        """`refresh` from any source: `plan(mark, holes, now_s)` says which id ranges to
        read, `read(ranges, since)` yields their records started from `since` on;
        `source` names it (state kept for another source is rebuilt, never continued).

        When the folder cannot be written, the run scores every line from the records in
        memory and says why in `Refresh.unsaved` (and once in the log)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = (self.folder / "lock").open("a")
        except OSError as exc:
            return self._unsaved(read, plan, now, exc)
        # The scheduler runs one scoring job in the cluster; this lock also keeps a
        # `chat` run on the same host from interleaving its files with the job's.
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return self._update(read, plan, model_version, now, source)
            except (OSError, pl.exceptions.PolarsError) as exc:
                first = exc
            # A state whose files are gone or unreadable: start again from the records.
            try:
                (self.folder / STATE_FILE).unlink(missing_ok=True)
                refresh = self._update(read, plan, model_version, now, source)
            except OSError as exc:
                return self._unsaved(read, plan, now, exc)
            log.warning(
                "fraud running window: its files in %s are unusable (%s: %s); rebuilt from "
                "the records",
                self.folder,
                type(first).__name__,
                first,
            )
            return refresh

    def _unsaved(
        self,
        read: Callable[[list[IdRange], datetime], Iterable[pl.DataFrame]],
        plan: Callable[[int, list[list[int]], int], Reads],
        now: datetime,
        exc: OSError,
    ) -> Refresh:
        """Every line of the window from all its records, nothing kept (the folder cannot
        be written): the features a full pass gives, so the run still scores truthfully."""
        reason = f"{type(exc).__name__}: {exc}"
        log.warning(
            "fraud running window not saved in %s (%s); every line scored from the records",
            self.folder,
            reason,
        )
        w0, w1 = day_window(now, self.window_days, self.local_offset_s)
        reads = plan(0, [], int(now.timestamp()))
        builder = FeatureBuilder(self.home_country, self.local_offset_s, window=(w0, w1))
        count = 0
        for frame in read(reads.ranges, datetime.fromtimestamp(w0, UTC)):
            count += frame.height
            builder.add(frame)
        features = builder.finish()
        return Refresh(
            features,
            count,
            reads.mark,
            True,
            True,
            (w0, w1),
            0,
            unsaved=reason,
            window_lines=int(features.subscribers.size),
        )

    def _update(
        self,
        read: Callable[[list[IdRange], datetime], Iterable[pl.DataFrame]],
        plan: Callable[[int, list[list[int]], int], Reads],
        model_version: str,
        now: datetime,
        source: str,
    ) -> Refresh:
        w0, w1 = day_window(now, self.window_days, self.local_offset_s)
        first_day, today = (
            (w0 + self.local_offset_s) // DAY,
            (w1 + self.local_offset_s) // DAY - 1,
        )
        state = self.load_state()
        identity = json.loads(json.dumps(self._identity(model_version, source)))
        rebuilt = state is None or any(state.get(k) != v for k, v in identity.items())
        if state is not None and isinstance(state.get("window"), list):
            # A clock set back would need days already dropped: start again.
            rebuilt = rebuilt or int(state["window"][0]) > w0  # type: ignore[index]
        past: str | None = None
        if rebuilt or state is None:
            mark, files, holes = 0, {}, []
            moved = True
        else:
            mark = int(state["mark"])  # type: ignore[call-overload]
            files = {int(d): str(g) for d, g in state["files"].items()}  # type: ignore[attr-defined]
            holes = [list(map(int, h)) for h in state.get("holes", [])]  # type: ignore[attr-defined]
            moved = state.get("window") != [w0, w1]
            if not moved:
                past = str(state["past"])
        reads = plan(mark, holes, int(now.timestamp()))
        if reads.behind and not rebuilt:
            log.info(
                "fraud running window: the database's newest usage record is below the "
                "mark %s (restored, or ids handed out again); rebuilt from the records",
                mark,
            )
            rebuilt, moved, past = True, True, None
            mark, files, holes = 0, {}, []
            reads = plan(mark, holes, int(now.timestamp()))
        # Days that left the window go; days after today (clock skew) stay for later.
        files = {d: g for d, g in files.items() if d >= first_day}
        names = self._names(None if rebuilt else state)
        known = names.height
        since = datetime.fromtimestamp(w0, UTC)
        new_parts: dict[int, dict[str, list[pl.DataFrame]]] = {}
        touched: list[pl.DataFrame] = []
        count = 0
        for frame in read(reads.ranges, since):
            count += frame.height
            if frame.height == 0:
                continue
            frame, names = _numbered(frame, names)
            inside = frame.filter(pl.col("started_at") < w1)
            touched.append(inside.select("subscriber", "imei"))
            by_day = partials_of(frame, self.home_country, self.local_offset_s, by_day=True)
            for name, part in by_day.items():
                for (day,), piece in part.partition_by("day", as_dict=True).items():
                    new_parts.setdefault(int(day), {}).setdefault(name, []).append(piece)  # type: ignore[arg-type]
        new = (
            pl.concat(touched)
            if touched
            else pl.DataFrame(
                {"subscriber": [], "imei": []}, schema={"subscriber": pl.Int64, "imei": pl.String}
            )
        )
        # Handsets whose count of SIMs may change: count before the fold.
        imeis = new.filter(pl.col("imei") != "")["imei"].unique()
        before = (
            _sims(
                self._pairs(past, (today, files[today]) if today in files else None, imeis), imeis
            )
            if past is not None
            else None
        )

        gen = uuid.uuid4().hex[:8]
        late: dict[str, list[pl.DataFrame]] = {}
        for day, parts in new_parts.items():
            if day < first_day:
                continue
            for name in PARTIAL_KEYS:
                pieces = parts.get(name, [])
                if day in files:
                    if not pieces:  # a table no new record of this day touched
                        os.link(self._file(day, files[day], name), self._file(day, gen, name))
                        continue
                    pieces = [pl.read_parquet(self._file(day, files[day], name)), *pieces]
                elif not pieces:
                    pieces = [_empty_partials(self.home_country, self.local_offset_s)[name]]
                merged = merge_partials(name, pieces) if len(pieces) > 1 else pieces[0]
                _write(merged, self._file(day, gen, name))
            if day < today:  # a late record of a day before today: the past tables too
                for name, pieces in parts.items():
                    late.setdefault(name, []).extend(pieces)
        files.update({d: gen for d in new_parts if d >= first_day})
        if past is None:
            past = gen
            self._merge_past([(d, g) for d, g in files.items() if d < today], past, names.height)
        elif late:
            self._fold_past(past, gen, late)
            past = gen
        now_file = (today, files[today]) if today in files else None

        pairs = self._pairs(past, now_file, None)
        if moved:
            subs = None
        else:
            after = _sims(pairs, imeis)
            changed = after.join(before, on="imei", how="left")  # type: ignore[arg-type]
            changed = changed.filter(pl.col("sims") != pl.col("sims_right").fill_null(0))["imei"]
            sharers = pairs.filter(pl.col("imei").is_in(changed.implode()))["subscriber"]
            subs = pl.concat([new["subscriber"], sharers]).unique()
        lines = subs if subs is not None else pl.Series("subscriber", range(names.height))
        features = _named(self._features(past, now_file, lines, pairs, (w0, w1)), names)
        names_gen = state.get("names") if state is not None and not rebuilt else None
        if names.height != known or names_gen is None:
            names_gen = gen
            names.write_parquet(self.folder / f"names-{gen}.parquet")
        self._save(
            {
                **identity,
                "names": names_gen,
                "mark": reads.mark,
                "holes": reads.holes,
                "files": {str(d): g for d, g in files.items()},
                "past": past,
                "window": [w0, w1],
            },
            files,
            past,
        )
        holes_left = sum(h[1] - h[0] + 1 for h in reads.holes)
        return Refresh(
            features,
            count,
            reads.mark,
            rebuilt,
            moved,
            (w0, w1),
            holes_left,
            window_lines=self._line_count(past, now_file),
        )

    def _line_count(self, past: str, today: tuple[int, str] | None) -> int:
        """Lines with usage in the window: the past tables' and today's, read by line only."""
        paths = [self._past(past, "sub")]
        if today is not None:
            paths.append(self._file(*today, "sub"))
        lines = pl.concat([pl.scan_parquet(p).select("subscriber") for p in paths])
        return int(lines.unique().select(pl.len()).collect().item())

    def _fold_past(self, past: str, gen: str, parts: dict[str, list[pl.DataFrame]]) -> None:
        for name in PARTIAL_KEYS:
            pieces = [_undated(name, p) for p in parts.get(name, [])]
            if not pieces:
                os.link(self._past(past, name), self._past(gen, name))
                continue
            merged = merge_partials(name, [pl.read_parquet(self._past(past, name)), *pieces])
            _write(merged, self._past(gen, name), _past_order(name))

    def _merge_past(self, days: list[tuple[int, str]], gen: str, lines: int) -> None:
        """The past tables merged again from the days before today (once a day), a range
        of lines at a time: the days' rows of those lines only (their row groups)."""
        line = pl.col("subscriber")
        empty = _empty_partials(self.home_country, self.local_offset_s)
        for name in PARTIAL_KEYS:
            merged = []
            for lo in range(0, max(lines, 1), PAST_GROUP):
                parts = [
                    _undated(
                        name,
                        pl.scan_parquet(self._file(d, g, name))
                        .filter(line >= lo, line < lo + PAST_GROUP)
                        .collect(),
                    )
                    for d, g in sorted(days)
                ]
                merged.append(
                    merge_partials(name, parts or [_undated(name, empty[name])]).sort(
                        _past_order(name)
                    )
                )
            # Sorted a range at a time: in order as they stand.
            pl.concat(merged).write_parquet(self._past(gen, name), row_group_size=ROW_GROUP)

    def _tables(
        self, name: str, past: str, today: tuple[int, str] | None, subs: pl.Series
    ) -> list[pl.DataFrame]:
        """Rows of the past and of today's table of some lines (sorted), today's undated."""
        paths = [(self._past(past, name), False)]
        if today is not None:
            paths.append((self._file(*today, name), True))
        parts = []
        for path, dated in paths:
            lazy = pl.scan_parquet(path)
            if dated and name != "day":
                lazy = lazy.drop("day")
            # The range first: row groups outside it are not read at all.
            line = pl.col("subscriber")
            lazy = lazy.filter(line >= subs[0], line <= subs[-1])
            if subs.len() < subs[-1] - subs[0] + 1:
                lazy = lazy.filter(line.is_in(subs.implode()))
            parts.append(lazy.collect())
        return parts

    def _pairs(
        self, past: str | None, today: tuple[int, str] | None, imeis: pl.Series | None
    ) -> pl.DataFrame:
        """(subscriber, imei) of every line and handset of the window (or these handsets)."""
        if past is None:
            return pl.DataFrame(schema={"subscriber": pl.Int64, "imei": pl.String})
        out = []
        paths = [self._past(past, "seg")]
        if today is not None:
            paths.append(self._file(*today, "seg"))
        for path in paths:
            lazy = pl.scan_parquet(path).select("subscriber", "imei").filter(pl.col("imei") != "")
            if imeis is not None:
                lazy = lazy.filter(pl.col("imei").is_in(imeis.implode()))
            out.append(lazy.collect())
        return pl.concat(out).unique()

    def _features(
        self,
        past: str,
        today: tuple[int, str] | None,
        lines: pl.Series,
        pairs: pl.DataFrame,
        window: tuple[int, int],
    ) -> Features:
        """Features of `lines` (numbers), FEATURE_GROUP lines at a time: one group's
        tables are read (only their row groups), merged and turned into features at once."""
        sharing = pairs.group_by("imei").agg(sims=pl.len())
        lines = lines.sort()
        out = []
        for start in range(0, lines.len(), FEATURE_GROUP):
            group = lines.slice(start, FEATURE_GROUP)
            t = {
                name: merge_partials(name, [pl.concat(self._tables(name, past, today, group))])
                for name in PARTIAL_KEYS
                if name != "cp"
            }
            # Millions of rows a group: merged into the sorted past, never sorted whole.
            t["cp"] = merge_into_sorted("cp", *self._tables("cp", past, today, group))
            if t["sub"].height:
                out.append(
                    features_from_partials(
                        t,
                        local_offset_s=self.local_offset_s,
                        window=window,
                        sharing=sharing,
                        records=int(t["sub"]["n"].sum()),
                    )
                )
        if not out:
            return Features(np.array([], dtype=object), np.zeros((0, len(FEATURES))), 0, *window)
        return Features(
            np.concatenate([f.subscribers for f in out]),
            np.vstack([f.matrix for f in out]),
            sum(f.records for f in out),
            *window,
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_gen(value: object) -> bool:
    """A generation name this code writes (uuid hex): never a path."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 32
        and all(c in "0123456789abcdef" for c in value)
    )


def _state_problem(state: object) -> str | None:
    """What makes a stored state unusable (None when it can be used, or is of another
    format, which the identity check rebuilds anyway)."""
    if not isinstance(state, dict):
        return f"a JSON {type(state).__name__}, not an object"
    if not _is_int(state.get("format")):
        return "no format"
    if state["format"] != STATE_FORMAT:
        return None
    mark, window, files = state.get("mark"), state.get("window"), state.get("files")
    if not _is_int(mark) or mark < 0:  # type: ignore[operator]
        return f"mark {mark!r} is not a record id"
    if not (isinstance(window, list) and len(window) == 2 and all(map(_is_int, window))):
        return f"window {window!r} is not two times"
    if not isinstance(files, dict) or not all(
        isinstance(d, str) and d.lstrip("-").isdigit() and _is_gen(g) for d, g in files.items()
    ):
        return "files is not days and generations"
    if not _is_gen(state.get("past")) or not _is_gen(state.get("names")):
        return "past or names is not a generation"
    holes = state.get("holes", [])
    if not isinstance(holes, list) or not all(
        isinstance(h, list) and len(h) == 3 and all(map(_is_int, h)) for h in holes
    ):
        return "holes is not a list of id ranges"
    return None


def _sims(pairs: pl.DataFrame, imeis: pl.Series) -> pl.DataFrame:
    """SIMs per handset among `imeis`, from (subscriber, imei) pairs."""
    return (
        pairs.filter(pl.col("imei").is_in(imeis.implode()))
        .group_by("imei")
        .agg(sims=pl.len().cast(pl.UInt32))
    )


def _write(table: pl.DataFrame, path: Path, by: list[str] | None = None) -> None:
    """A partial table sorted by line (or `by`), in row groups a group of lines can pick
    out."""
    table.sort(by or "subscriber").write_parquet(path, row_group_size=ROW_GROUP)


def _past_order(name: str) -> list[str]:
    """The order a past table is stored in: by line, the cp table by line and number."""
    return PARTIAL_KEYS[name] if name == "cp" else ["subscriber"]


def _undated(name: str, table: pl.DataFrame) -> pl.DataFrame:
    """A by-day partial table without its day (the day table keeps it: it is its key)."""
    return table if name == "day" else table.drop("day", strict=False)


def _numbered(frame: pl.DataFrame, names: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The frame with each line's number for its name (grouping and sorting numbers is
    much quicker than names), and the names with any new line numbered."""
    seen = frame.select("subscriber").unique().join(names, on="subscriber", how="left")
    fresh = seen.filter(pl.col("line").is_null()).select("subscriber").sort("subscriber")
    if fresh.height:
        numbers = pl.int_range(names.height, names.height + fresh.height, dtype=pl.Int64)
        names = pl.concat([names, fresh.with_columns(line=numbers)])
    frame = frame.join(names, on="subscriber", how="left")
    return frame.drop("subscriber").rename({"line": "subscriber"}), names


def _named(features: Features, names: pl.DataFrame) -> Features:
    """Features by line number as features by name, sorted by name."""
    lookup = names.sort("line")["subscriber"].to_numpy()
    subscribers = lookup[features.subscribers.astype(np.int64)]
    order = np.argsort(subscribers, kind="stable")
    return Features(
        subscribers[order].astype(object),
        features.matrix[order],
        features.records,
        features.window_start,
        features.window_end,
    )


def _empty_partials(home_country: str, local_offset_s: int) -> dict[str, pl.DataFrame]:
    """Each by-day partial table with no rows, for a day some kind of record never reached."""
    none = pl.DataFrame(schema={**FRAME_SCHEMA, "subscriber": pl.Int64})
    return partials_of(none, home_country, local_offset_s, by_day=True)


__all__ = [
    "Reads",
    "Refresh",
    "RunningWindow",
    "day_window",
    "max_usage_id",
    "plan_reads",
]
