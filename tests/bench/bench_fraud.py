"""Fraud scoring: throughput and peak memory on a 2,000,000-record CSV, and model quality.

Quality is measured on held-out lines (split by subscriber) of the generator the model
was trained on, and on sets the model never saw the like of: another seed with the
generator bent (quieter fraud, other call lengths, busier or quieter ordinary lines,
renamed cells and handsets, a 10-day window). The baseline is an IsolationForest on raw
per-subscriber totals.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score

from bot.bench import BenchContext, Measurement, benchmark
from models.fraud import (
    has_model,
    load_model,
    save_model,
    train,
    unusable_model,
    write_usage_csv,
)
from models.fraud.features import FEATURES, compute_features
from models.fraud.model import NORMAL
from models.fraud.synthetic import Shift, synthetic_usage
from models.fraud.training import Metrics, baseline_totals, evaluate, feature_rows, kinds_for

RECORDS = 2_000_000
#: Lines that make about RECORDS records at the generator's 110 a line.
SCORE_LINES = 18_200
TRAIN_LINES = 12_000
THRESHOLD = 0.7
#: The per-day totals the baseline sees (rates, so windows of any length compare).
TOTALS = (
    "records_per_day",
    "voice_out_per_day",
    "sms_out_per_day",
    "data_mb_per_day",
    "intl_out_per_day",
    "intl_minutes_per_day",
)

#: The process's own peak resident memory: VmHWM starts again at exec, where ru_maxrss
#: keeps the forking parent's peak.
_PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

_SCORE = (
    _PEAK
    + """
import json, sys, time
t0 = time.perf_counter()
from models.fraud import BadLines, load_model, read_usage_csv, score_frame
trained = load_model(sys.argv[1])
t1 = time.perf_counter()
bad = BadLines(sys.argv[2])
scores = score_frame(trained, read_usage_csv(sys.argv[2], bad))
scores.select("subscriber", "score", "flagged").write_csv(sys.argv[3])
t2 = time.perf_counter()
print(json.dumps({
    "seconds": t2 - t1, "with_start": t2 - t0, "subscribers": scores.height,
    "flagged": int(scores["flagged"].sum()), "bad": bad.count,
    "maxrss_mb": peak_mb(),
}))
"""
)


def _model_dir(ctx: BenchContext) -> Path:
    """A model trained on synthetic usage (seed 42), trained once per workdir (again when
    the stored one is of a format this version no longer reads)."""
    d = ctx.workdir / "fraud-model"
    if has_model(d) and unusable_model(d) is not None:
        shutil.rmtree(d)
    if not has_model(d):
        frame, labels = synthetic_usage(TRAIN_LINES, 42)
        save_model(train(frame, labels, threshold=THRESHOLD, source="bench, seed 42"), d)
    return d


def _usage_csv(ctx: BenchContext) -> Path:
    path = ctx.workdir / "fraud-usage-2m.csv"
    if not path.exists():
        frame, _ = synthetic_usage(SCORE_LINES, 5, fraud_share=0.015)
        frame = frame.head(RECORDS)
        write_usage_csv([frame], path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)
    return path


@benchmark("fraud scoring")
def fraud_scoring(ctx: BenchContext) -> Measurement:
    """Score a 2M-record usage CSV end to end in a fresh process: read, features, model."""
    model_dir, usage = _model_dir(ctx), _usage_csv(ctx)
    records = sum(1 for _ in usage.open("rb")) - 1
    result = subprocess.run(
        [sys.executable, "-c", _SCORE, str(model_dir), str(usage), str(ctx.workdir / "s.csv")],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    got = json.loads(result.stdout.strip().splitlines()[-1])
    return Measurement(
        f"fraud score from CSV ({records:,} records)",
        records,
        samples=[got["seconds"]],
        throughput=records / got["seconds"],
        unit="records/s",
        target=">= 200,000 records/s; peak < 1 GB",
        note=(
            f"{got['subscribers']:,} subscribers, {got['flagged']:,} flagged; "
            f"{got['seconds']:.1f} s scoring ({got['with_start']:.1f} s with imports and "
            f"model load); peak memory {got['maxrss_mb']:,.0f} MB (VmHWM of the process)"
        ),
    )


def _baseline(train_X: np.ndarray, X: np.ndarray, kinds: np.ndarray) -> tuple[float, float]:
    forest = IsolationForest(n_estimators=200, random_state=0).fit(np.log1p(train_X))
    score = -forest.score_samples(np.log1p(X))
    y = kinds != NORMAL
    return float(average_precision_score(y, score)), float(roc_auc_score(y, score))


def _quality(name: str, m: Metrics, base: tuple[float, float]) -> Measurement:
    worst = min(r for r, _ in m.recall_by_kind.values())
    per_kind = ", ".join(f"{k} {r:.2f}" for k, (r, _) in sorted(m.recall_by_kind.items()))
    # The figures are in the name and the note: the table's throughput column is for rates.
    return Measurement(
        f"{name}: PR-AUC {m.pr_auc:.3f}, worst kind recall {worst:.2f} "
        f"(IsolationForest on totals: PR-AUC {base[0]:.3f})",
        m.lines,
        target="PR-AUC >= 0.95, recall >= 0.8 per kind",
        note=(
            f"PR-AUC {m.pr_auc:.3f} (baseline {base[0]:.3f}), ROC-AUC {m.roc_auc:.3f} "
            f"(baseline {base[1]:.3f}); at {m.threshold:.2f}: precision {m.precision:.3f}, "
            f"recall {m.recall:.3f}, {m.false_alarms} false alarms of {m.lines:,} lines; "
            f"worst kind recall {worst:.2f} ({per_kind})"
        ),
    )


@benchmark("fraud quality")
def fraud_quality(ctx: BenchContext) -> list[Measurement]:
    """Held-out quality on the training generator and on bent generators, beside a baseline."""
    trained = load_model(_model_dir(ctx))
    model = trained.model
    frame, labels = synthetic_usage(TRAIN_LINES, 42)
    features = compute_features(frame)
    kinds = kinds_for(features, labels)
    held = ~np.isin(features.subscribers.astype(str), list(trained.train_subscribers))
    totals = baseline_totals(features)
    out = [
        _quality(
            "fraud quality: held-out lines, same generator",
            evaluate(model, features.matrix[held], kinds[held]),
            _baseline(totals[~held], totals[held], kinds[held]),
        )
    ]
    shifted = (
        (
            "busier lines, quieter fraud, shorter calls, renamed cells",
            Shift(fraud_keep=0.4, duration_factor=0.7, duration_spread=0.3, rename=True),
            {"records_per_subscriber": 180.0, "fraud_share": 0.02},
            0,
        ),
        (
            "quieter lines, longer calls, last 10 days",
            Shift(fraud_keep=0.6, duration_factor=1.3, duration_spread=0.2),
            {"records_per_subscriber": 70.0, "fraud_share": 0.03},
            10,
        ),
    )
    for name, shift, kw, days in shifted:
        frame, labels = synthetic_usage(12_000, 7, shift=shift, **kw)  # type: ignore[arg-type]
        X, k, _ = feature_rows(frame, labels, (days,))
        raw = np.column_stack([X[:, FEATURES.index(c)] for c in TOTALS])
        out.append(
            _quality(
                f"fraud quality: other seed, {name}",
                evaluate(model, X, k),
                _baseline(raw, raw, k),
            )
        )
    return out


# -- incremental scoring ------------------------------------------------------------------

#: Days of synthetic usage: the 7-day window (whole local days) is full at the end.
WINDOW_DAYS = 7
INCREMENTAL_DAYS = 8
#: Lines generated per chunk (each chunk its own seed), bounding the seeding's memory.
CHUNK_LINES = 25_000
#: The generated world of `fraud incremental`, kept under var/bench: bumped when what
#: it holds changes, so an older one is built again (2: the scale's lines only).
INCREMENTAL_WORLD = 2
NEW_RECORDS = 100_000

_REFRESH = (
    _PEAK
    + """
import json, sys, time
from datetime import UTC, datetime
import numpy as np
t0 = time.perf_counter()
from domain.db import Database
from models.fraud import load_model
from models.fraud.running import RunningWindow
trained = load_model(sys.argv[1])
db = Database(sys.argv[2])
t1, c1 = time.perf_counter(), time.process_time()
now = datetime.fromtimestamp(int(sys.argv[4]), UTC)
running = RunningWindow(sys.argv[3], int(sys.argv[6]), trained.home_country)
run = running.refresh(db, trained.version, now)
t2 = time.perf_counter()
scores = trained.model.score(run.features)
t3, c3 = time.perf_counter(), time.process_time()
np.savez(sys.argv[5], subscribers=run.features.subscribers.astype(str), matrix=run.features.matrix)
scores.select("subscriber", "score").write_parquet(sys.argv[5] + ".scores.parquet")
print(json.dumps({
    "seconds": t3 - t1, "refresh": t2 - t1, "score": t3 - t2, "cpu": c3 - c1,
    "new_records": run.new_records,
    "scored": scores.height, "flagged": int(scores["flagged"].sum()), "rebuilt": run.rebuilt,
    "all_lines": run.all_lines, "maxrss_mb": peak_mb(),
}))
"""
)

_RESCAN = (
    _PEAK
    + """
import json, sys, time
from pathlib import Path
import numpy as np
import polars as pl
from models.fraud import load_model
from models.fraud.features import FeatureBuilder
trained = load_model(sys.argv[1])
t1 = time.perf_counter()
builder = FeatureBuilder(trained.home_country, window=(int(sys.argv[3]), int(sys.argv[4])))
d = Path(sys.argv[2])
for path in [*sorted(d.glob("window-*.parquet")), d / "new.parquet"]:
    builder.add(pl.read_parquet(path).drop("subscription_id", strict=False))
features = builder.finish()
scores = trained.model.score(features)
t2 = time.perf_counter()
np.savez(sys.argv[5], subscribers=features.subscribers.astype(str), matrix=features.matrix)
scores.select("subscriber", "score").write_parquet(sys.argv[5] + ".scores.parquet")
print(json.dumps({
    "seconds": t2 - t1, "records": features.records, "scored": scores.height,
    "maxrss_mb": peak_mb(),
}))
"""
)


def _running_base(d: Path, now: int, model_dir: Path) -> None:
    """The earlier run: every window record folded in, mark 0 (the database's records are
    new). Built again when the model, the state's format or its database changed."""
    from datetime import UTC, datetime

    import polars as pl

    from domain.db import database_tag
    from models.fraud.running import STATE_FORMAT, Reads, RunningWindow

    # The run that continues this state reads the bench's database: the state is its own.
    source = database_tag(f"sqlite:///{d / 'usage.db'}")
    trained = load_model(model_dir)
    base = RunningWindow(d / "running-base", WINDOW_DAYS, trained.home_country)
    state = base.load_state() or {}
    if (state.get("format"), state.get("model_version"), state.get("source")) == (
        STATE_FORMAT,
        trained.version,
        source,
    ):
        return
    shutil.rmtree(d / "running-base", ignore_errors=True)
    paths = sorted(d.glob("window-*.parquet"))
    base.update(
        lambda ranges, since: (pl.read_parquet(p) for p in paths),
        lambda mark, holes, now_s: Reads([(0, 0)], 0),
        trained.version,
        datetime.fromtimestamp(now - 3600, UTC),
        source=source,
    )


def _incremental_world(ctx: BenchContext) -> tuple[Path, int]:
    """Running aggregates over the scale's window of usage, and NEW_RECORDS new records in
    a database; (folder, now). Built once per workdir and scale.

    The window's records were folded in by an earlier run (they are kept as Parquet files
    here for the full rescan, not in the database); the database holds the lines and the
    new records above the mark (0).
    """
    import polars as pl
    import sqlalchemy as sa

    from domain.billing.models import UsageRecord
    from domain.customers.choices import SubscriptionState
    from domain.customers.models import Subscription
    from domain.db import Database
    from domain.demo.seed import scale_named
    from domain.migrate import upgrade
    from models.fraud.features import DAY
    from models.fraud.synthetic import WINDOW_START
    from tests.world import populate_world

    d = ctx.workdir / f"fraud-incremental-{ctx.scale}-{INCREMENTAL_WORLD}"
    now = WINDOW_START + INCREMENTAL_DAYS * DAY
    if (d / "ready").exists():
        _running_base(d, now, _model_dir(ctx))
        return d, now
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    scale = scale_named(ctx.scale)
    per_line = scale.usage_records / scale.subscriptions * INCREMENTAL_DAYS / WINDOW_DAYS
    paths = []
    for i, first in enumerate(range(0, scale.subscriptions, CHUNK_LINES)):
        lines = min(CHUNK_LINES, scale.subscriptions - first)
        # The scale's own lines: no look-alike lines on top (their contact centres alone
        # would add a third more records than the scale has).
        frame, _ = synthetic_usage(
            lines,
            1000 + i,
            days=INCREMENTAL_DAYS,
            records_per_subscriber=per_line,
            lookalike_share=0,
        )
        paths.append(d / f"window-{i:03d}.parquet")
        frame.write_parquet(paths[-1])
    subs = (
        pl.concat([pl.scan_parquet(p).select("subscriber").unique().collect() for p in paths])
        .unique()
        .sort("subscriber")["subscriber"]
        .to_list()
    )
    db = Database(f"sqlite:///{d / 'usage.db'}")
    upgrade(db)
    populate_world(db)
    ids = {s: i for i, s in enumerate(subs, start=2)}
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(Subscription.__table__),
            [
                {
                    "id": i,
                    "customer_id": 1,
                    "billing_account_id": 1,
                    "offering_id": 1,
                    "msisdn": s,
                    "state": SubscriptionState.ACTIVE.value,
                }
                for s, i in ids.items()
            ],
        )
    # The new records: the window's own traffic again, in the last hour before `now`.
    sample = pl.concat([pl.read_parquet(p) for p in paths]).sample(NEW_RECORDS, seed=3)
    rng = np.random.default_rng(3)
    new = sample.with_columns(started_at=pl.Series(now - rng.integers(1, 3600, sample.height)))
    new.write_parquet(d / "new.parquet")
    from datetime import UTC, datetime

    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(UsageRecord.__table__),
            [
                {
                    **{k: r[k] for k in ("service", "direction", "counterpart")},
                    **{k: r[k] for k in ("counterpart_country", "duration_s", "volume_bytes")},
                    **{k: r[k] for k in ("cell_id", "imei", "roaming")},
                    "subscription_id": ids[r["subscriber"]],
                    "started_at": datetime.fromtimestamp(r["started_at"], UTC),
                    "state": "received",
                }
                for r in new.iter_rows(named=True)
            ],
        )
    db.dispose()
    _running_base(d, now, _model_dir(ctx))
    (d / "ready").write_text("")
    return d, now


def _child(script: str, *args: object) -> dict[str, object]:
    """Run a measuring script in a process of its own; its last line of JSON."""
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    got: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return got


def _difference(inc: Path, full: Path) -> tuple[float, float]:
    """Largest feature and score difference of the lines an incremental run scored."""
    import polars as pl

    a, b = np.load(inc), np.load(full)
    row = {s: i for i, s in enumerate(b["subscribers"].tolist())}
    at = np.array([row[s] for s in a["subscribers"].tolist()], dtype=np.int64)
    diff = float(np.abs(a["matrix"] - b["matrix"][at]).max(initial=0.0))
    same = pl.read_parquet(f"{inc}.scores.parquet").join(
        pl.read_parquet(f"{full}.scores.parquet"), on="subscriber", suffix="_full"
    )
    return diff, float((same["score"] - same["score_full"]).abs().max() or 0.0)


@benchmark("fraud incremental")
def fraud_incremental(ctx: BenchContext) -> list[Measurement]:
    """Score after NEW_RECORDS new records from running aggregates, beside a full rescan;
    then the midnight run (the window moves a day: every line rescored)."""
    from datetime import UTC, datetime

    from models.fraud.features import DAY, LOCAL_OFFSET_S
    from models.fraud.running import day_window

    d, now = _incremental_world(ctx)
    model_dir = _model_dir(ctx)
    folder = d / "running"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(d / "running-base", folder)
    url = f"sqlite:///{d / 'usage.db'}"
    # A minute into the next local day, no new records: the oldest day leaves the window.
    midnight = ((now + LOCAL_OFFSET_S) // DAY + 1) * DAY - LOCAL_OFFSET_S + 60
    out = []
    for name, t in (("run", now), ("midnight run", midnight)):
        tag = name.split()[0]
        inc = _child(_REFRESH, model_dir, url, folder, t, d / f"inc-{tag}.npz", WINDOW_DAYS)
        w0, w1 = day_window(datetime.fromtimestamp(t, UTC), WINDOW_DAYS)
        full = _child(_RESCAN, model_dir, d, w0, w1, d / f"full-{tag}.npz")
        diff, score_diff = _difference(d / f"inc-{tag}.npz", d / f"full-{tag}.npz")
        rescan = Measurement(
            f"fraud full rescan ({full['records']:,} window records, in memory)",
            int(full["records"]),  # type: ignore[call-overload]
            samples=[float(full["seconds"])],  # type: ignore[arg-type]
            throughput=int(full["records"]) / float(full["seconds"]),  # type: ignore[call-overload, arg-type]
            unit="records/s",
            note=(
                f"{full['scored']:,} lines; features and scores from Parquet, no database "
                f"read (a lower bound on a rescan); peak memory {full['maxrss_mb']:,.0f} MB"
            ),
        )
        what = (
            f"{inc['new_records']:,} new records"
            if tag == "run"
            else "midnight: the window moves a day, every line rescored"
        )
        out += [
            Measurement(
                f"fraud incremental {name} ({what})",
                int(inc["new_records"]),  # type: ignore[call-overload]
                samples=[float(inc["seconds"])],  # type: ignore[arg-type]
                baseline=rescan,
                target="< 5 s; peak < 1 GB; equal to a full rescan to 1e-9",
                note=(
                    f"{inc['scored']:,} lines scored ({inc['flagged']:,} flagged) of "
                    f"{full['scored']:,} in the window; {inc['seconds']:.2f} s = "
                    f"{inc['refresh']:.2f} s read, fold and features + {inc['score']:.2f} s "
                    f"the model's scores ({inc['cpu']:.1f} s of CPU, all threads: on a "
                    f"loaded machine the wall time is the larger; full rescan "
                    f"{full['seconds']:.1f} s); peak memory "
                    f"{inc['maxrss_mb']:,.0f} MB (VmHWM of the process); largest difference "
                    f"from the full rescan: features {diff:.1e}, scores {score_diff:.1e}"
                ),
            ),
            rescan,
        ]
    return out
