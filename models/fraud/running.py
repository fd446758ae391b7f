"""Running aggregates of the fraud window, so a scheduled run reads only new usage.

The window is whole local days: the `window_days` days ending with the day of `now`
(rates are per day of that window). Its usage is kept as the feature builder's partial
tables keyed by (subscriber, local day), one set of Parquet files per day, under a
folder beside the model, with a high-water mark: the largest usage record id folded in.

A run (`RunningWindow.refresh`) reads the records with an id above the mark (paged, by
id), folds each into its own day (a late record for an older day of the window too),
drops the days that left the window, and recomputes the features of the lines whose
features can have changed: lines with new usage in the window, and lines sharing a
handset whose count of SIMs changed. When the window's first day moves (midnight), a
line's `first_seen_day` moves with it, so that run recomputes every line, from the
stored partials, without reading old records again. Features equal a full pass over
the same window (`FeatureBuilder(window=...)`) because every partial merges by sum,
min or max.

The stored state says which model scored it and over how many days; a new model, a new
window length or another home country or time zone starts again from the records.
Writes are atomic: a day's new files have a new generation name, and `state.json`
(written last, by rename) names the files and the mark, so a crashed run leaves the
previous state whole and the next run resumes from its mark. One run at a time: the
scheduler runs the scoring job under its cluster lock.
"""

from __future__ import annotations

import fcntl
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

from domain.billing.models import UsageRecord
from domain.db import Database
from models.fraud.data import usage_from_db
from models.fraud.features import (
    DAY,
    FEATURES,
    LOCAL_OFFSET_S,
    PARTIAL_KEYS,
    Features,
    features_from_partials,
    merge_partials,
    partials_of,
)
from models.fraud.usage_csv import FRAME_SCHEMA

STATE_FORMAT = 2
STATE_FILE = "state.json"
#: Lines whose features are computed together (bounds the memory of a large run).
FEATURE_GROUP = 16_000


def day_window(
    now: datetime, window_days: int, local_offset_s: int = LOCAL_OFFSET_S
) -> tuple[int, int]:
    """The window (epoch s, end exclusive): `window_days` local days ending with today's."""
    today = (int(now.timestamp()) + local_offset_s) // DAY
    first = today - window_days + 1
    return first * DAY - local_offset_s, (today + 1) * DAY - local_offset_s


def usage_after(db: Database, mark: int, upto: int, since: datetime) -> Iterator[pl.DataFrame]:
    """Usage records with mark < id <= upto, started from `since` on, a page at a time."""
    return usage_from_db(db, since=since, after_id=mark, upto_id=upto)


def max_usage_id(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(UsageRecord.__table__.c.id))).scalar() or 0)


@dataclass(frozen=True)
class Refresh:
    """What one run folded in and the features of the lines to score."""

    features: Features
    #: Records read above the previous mark (inside the window or not).
    new_records: int
    mark: int
    #: Started again from the records (no state, a new model, window or zone).
    rebuilt: bool
    #: Every line of the window was recomputed (rebuilt, or the window's first day moved).
    all_lines: bool
    window: tuple[int, int]


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

    def _identity(self, model_version: str) -> dict[str, object]:
        return {
            "format": STATE_FORMAT,
            "model_version": model_version,
            "window_days": self.window_days,
            "home_country": self.home_country,
            "local_offset_s": self.local_offset_s,
        }

    def load_state(self) -> dict[str, object] | None:
        path = self.folder / STATE_FILE
        try:
            state: dict[str, object] = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return state

    def _file(self, day: int, gen: str, name: str) -> Path:
        return self.folder / f"{day}-{gen}.{name}.parquet"

    def _read(self, files: dict[int, str], name: str, subs: pl.Series | None) -> pl.DataFrame:
        # A day at a time, so no more than one day's whole table is in memory at once.
        parts = []
        for d, g in sorted(files.items()):
            lazy = pl.scan_parquet(self._file(d, g, name))
            if subs is not None:
                lazy = lazy.filter(pl.col("subscriber").is_in(subs.implode()))
            parts.append(lazy.collect())
        return pl.concat(parts) if parts else pl.DataFrame()

    def _names(self, state: dict[str, object] | None) -> pl.DataFrame:
        """The lines' names by their number in the partial tables (`line`, dense from 0)."""
        if state is not None and state.get("names"):
            return pl.read_parquet(self.folder / f"names-{state['names']}.parquet")
        return pl.DataFrame(schema={"subscriber": pl.String, "line": pl.Int64})

    def _save(
        self, state: dict[str, object], written: dict[int, str], keep: dict[int, str]
    ) -> None:
        tmp = self.folder / f"{STATE_FILE}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(json.dumps(state))
        tmp.replace(self.folder / STATE_FILE)
        # Files no state names any more: older generations and days out of the window.
        wanted = {self._file(d, g, n).name for d, g in keep.items() for n in PARTIAL_KEYS}
        wanted.add(f"names-{state['names']}.parquet")
        for path in self.folder.glob("*.parquet"):
            if path.name not in wanted:
                path.unlink(missing_ok=True)

    # -- a run ----------------------------------------------------------------------------

    def refresh(self, db: Database, model_version: str, now: datetime) -> Refresh:
        """Fold usage above the mark into its days; the features of the lines to rescore."""
        upto = max_usage_id(db)
        return self.update(
            lambda mark, since: usage_after(db, mark, upto, since), upto, model_version, now
        )

    def update(
        self,
        records_after: Callable[[int, datetime], Iterable[pl.DataFrame]],
        upto: int,
        model_version: str,
        now: datetime,
    ) -> Refresh:
        """`refresh` from any source: `records_after(mark, since)` yields the records
        above the mark (up to `upto`, the new mark) started from `since` on."""
        self.folder.mkdir(parents=True, exist_ok=True)
        # The scheduler runs one scoring job in the cluster; this lock also keeps a
        # `chat` run on the same host from interleaving its files with the job's.
        with (self.folder / "lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return self._update(records_after, upto, model_version, now)
            except (OSError, pl.exceptions.PolarsError):
                # A state whose files are gone or unreadable: start again from the records.
                (self.folder / STATE_FILE).unlink(missing_ok=True)
                return self._update(records_after, upto, model_version, now)

    def _update(
        self,
        records_after: Callable[[int, datetime], Iterable[pl.DataFrame]],
        upto: int,
        model_version: str,
        now: datetime,
    ) -> Refresh:
        w0, w1 = day_window(now, self.window_days, self.local_offset_s)
        first_day, last_day = (
            (w0 + self.local_offset_s) // DAY,
            (w1 + self.local_offset_s) // DAY - 1,
        )
        state = self.load_state()
        identity = self._identity(model_version)
        rebuilt = state is None or any(state.get(k) != v for k, v in identity.items())
        if state is not None and isinstance(state.get("window"), list):
            # A clock set back would need days already dropped: start again.
            rebuilt = rebuilt or int(state["window"][0]) > w0  # type: ignore[index]
        if rebuilt or state is None:
            mark, files = 0, {}
            moved = True
        else:
            mark = int(state["mark"])  # type: ignore[call-overload]
            files = {int(d): str(g) for d, g in state["files"].items()}  # type: ignore[attr-defined]
            moved = state.get("window") != [w0, w1]
        # Days that left the window go; days after today (clock skew) stay for later.
        files = {d: g for d, g in files.items() if d >= first_day}
        names = self._names(None if rebuilt else state)
        known = names.height
        since = datetime.fromtimestamp(w0, UTC)
        new_parts: dict[int, dict[str, list[pl.DataFrame]]] = {}
        touched: list[pl.DataFrame] = []
        read = 0
        for frame in records_after(mark, since):
            read += frame.height
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
        window_files = {d: g for d, g in files.items() if d <= last_day}
        # Handsets whose count of SIMs may change: count before the fold.
        imeis = new.filter(pl.col("imei") != "")["imei"].unique()
        before = self._sims(self._read(window_files, "seg", None), imeis) if not moved else None

        gen = uuid.uuid4().hex[:8]
        written: dict[int, str] = {}
        for day, parts in new_parts.items():
            if day < first_day:
                continue
            for name, pieces in parts.items():
                old = [pl.read_parquet(self._file(day, files[day], name))] if day in files else []
                merged = (
                    merge_partials(name, old + pieces) if (old or len(pieces) > 1) else pieces[0]
                )
                merged.write_parquet(self._file(day, gen, name))
            if day in files:  # tables no new record of this day touched keep their content
                for name in PARTIAL_KEYS:
                    if name not in parts:
                        pl.read_parquet(self._file(day, files[day], name)).write_parquet(
                            self._file(day, gen, name)
                        )
            else:
                empty = _empty_partials(self.home_country, self.local_offset_s)
                for name in PARTIAL_KEYS:
                    if name not in parts:
                        empty[name].write_parquet(self._file(day, gen, name))
            written[day] = gen
        files.update(written)
        window_files = {d: g for d, g in files.items() if d <= last_day}

        seg_all = self._read(window_files, "seg", None)
        if moved:
            subs = None
        else:
            after = self._sims(seg_all, imeis)
            changed = after.join(before, on="imei", how="left")  # type: ignore[arg-type]
            changed = changed.filter(pl.col("sims") != pl.col("sims_right").fill_null(0))["imei"]
            sharers = seg_all.filter(pl.col("imei").is_in(changed.implode()))["subscriber"]
            subs = pl.concat([new["subscriber"], sharers]).unique()
        features = _named(self._features(window_files, subs, seg_all, (w0, w1)), names)
        names_gen = state.get("names") if state is not None and not rebuilt else None
        if names.height != known or names_gen is None:
            names_gen = gen
            names.write_parquet(self.folder / f"names-{gen}.parquet")
        self._save(
            {
                **identity,
                "names": names_gen,
                "mark": upto,
                "files": {str(d): g for d, g in files.items()},
                "window": [w0, w1],
            },
            written,
            files,
        )
        return Refresh(features, read, upto, rebuilt, moved, (w0, w1))

    @staticmethod
    def _sims(seg: pl.DataFrame, imeis: pl.Series) -> pl.DataFrame:
        if seg.height == 0:
            return pl.DataFrame(
                {"imei": [], "sims": []}, schema={"imei": pl.String, "sims": pl.UInt32}
            )
        return (
            seg.filter(pl.col("imei").is_in(imeis.implode()))
            .select("subscriber", "imei")
            .unique()
            .group_by("imei")
            .agg(sims=pl.len())
        )

    def _features(
        self,
        files: dict[int, str],
        subs: pl.Series | None,
        seg_all: pl.DataFrame,
        window: tuple[int, int],
    ) -> Features:
        if not files or (subs is not None and subs.len() == 0):
            return Features(np.array([], dtype=object), np.zeros((0, len(FEATURES))), 0, *window)
        tables = {name: self._read(files, name, subs) for name in PARTIAL_KEYS}
        sharing = (
            seg_all.filter(pl.col("imei") != "")
            .select("subscriber", "imei")
            .unique()
            .group_by("imei")
            .agg(sims=pl.len())
        )
        # Lines in groups (by number): merging and the features' joins hold one group's
        # intermediate tables at a time, not every line's.
        lines = tables["sub"]["subscriber"].n_unique()
        groups = max(1, -(-lines // FEATURE_GROUP))
        out = []
        for g in range(groups):
            t = {}
            for name, table in tables.items():
                part = table.filter(pl.col("subscriber") % groups == g) if groups > 1 else table
                t[name] = merge_partials(name, [part], drop=() if name == "day" else ("day",))
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
        return Features(
            np.concatenate([f.subscribers for f in out]),
            np.vstack([f.matrix for f in out]),
            sum(f.records for f in out),
            *window,
        )


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


__all__ = ["Refresh", "RunningWindow", "day_window", "max_usage_id", "usage_after"]
