"""`switchboard fraud train|evaluate|score|export`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.base import Parser, Subcommands, add_command, err, out, seed_number
from domain.config import Settings
from domain.errors import DomainError
from domain.fraud.choices import SCORE_PLACES, score_text

if TYPE_CHECKING:
    from models.fraud.usage_csv import BadLines


def _report_bad(bad: BadLines) -> None:
    if bad.count:
        for line in bad.describe():
            err.print(f"skipped: {line}", markup=False)
        err.print(f"skipped {bad.count:,} bad lines in {bad.path} (see above)", markup=False)


def _fraud_data(args: argparse.Namespace, settings: Settings) -> tuple[Any, Any, str]:
    """(usage frame, labels, description) from the source the arguments name."""
    import polars as pl

    from models.fraud import (
        BadLines,
        labels_from_db,
        read_labels_csv,
        read_usage_csv,
        usage_from_db,
    )
    from models.fraud.synthetic import training_usage

    if args.input:
        if not args.labels:
            raise DomainError(
                "--input needs --labels",
                hint="labels.csv: subscriber,kind,since per fraudulent line",
            )
        bad = BadLines(args.input)
        frames = list(read_usage_csv(args.input, bad))
        _report_bad(bad)
        if not frames:
            raise DomainError(f"{args.input} holds no usable records", hint="check the file")
        return pl.concat(frames), read_labels_csv(args.labels), f"{args.input} + {args.labels}"
    if args.from_db:
        from bot.bootstrap import open_database

        db = open_database(settings)
        try:
            frames = list(usage_from_db(db))
            labels = labels_from_db(db)
        finally:
            db.dispose()
        if not frames:
            raise DomainError(
                "the database holds no usage records", hint="seed it first: switchboard seed"
            )
        return pl.concat(frames), labels, f"database {db!r}"
    frame, labels = training_usage(args.lines, args.seed)
    return frame, labels, f"synthetic demo usage, {_synthetic_lines(args.lines)}, seed {args.seed}"


def _synthetic_lines(lines: int) -> str:
    from models.fraud.synthetic import lookalike_count, training_draws

    draws = training_draws(lines)
    return (
        f"{lines:,} lines and {lookalike_count(lines):,} ordinary look-alikes, "
        + ("one draw" if draws == 1 else f"{draws} draws")
        + " of the generators' constants"
    )


def _when(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


def _feedback_from_db(settings: Settings) -> tuple[Any, str]:
    """The analysts' decisions in the database as training rows, and where they came from."""
    from datetime import UTC, datetime

    import polars as pl

    from bot.bootstrap import open_database
    from models.fraud import labels_from_db, usage_from_db
    from models.fraud.training import decided_labels, feedback_rows

    days = settings.fraud.window_days
    no_decisions = DomainError(
        "the database holds no confirmed or dismissed fraud case to learn from",
        hint="decide cases first (/fraud confirm F-1, /fraud dismiss F-2), "
        "or train without --from-db",
    )
    db = open_database(settings)
    try:
        decided = decided_labels(labels_from_db(db, window_days=days))
        if decided.is_empty():
            raise no_decisions
        lo = int(decided["since"].min())  # type: ignore[arg-type]
        hi = int(decided["decided"].max()) + 1  # type: ignore[arg-type]
        frames = list(
            usage_from_db(
                db,
                since=datetime.fromtimestamp(lo, UTC),
                until=datetime.fromtimestamp(hi, UTC),
            )
        )
    finally:
        db.dispose()
    feedback = feedback_rows(pl.concat(frames), decided) if frames else None
    if feedback is None or not len(feedback.kinds):
        raise DomainError(
            "the decided lines have no usage before their decisions",
            hint="check the usage records of the lines in the decided cases",
        )
    return feedback, f"database {db!r}"


def _configured_model(settings: Settings) -> Any:
    """The model LATEST names, flagging at the configured `fraud.threshold` (the desk's
    `FraudDesk.model` loads it the same way)."""
    from models.fraud import load_model

    return load_model(settings.fraud.model_dir, threshold=settings.fraud.threshold)


def cmd_fraud_train(args: argparse.Namespace, settings: Settings) -> int:
    from models.fraud import has_model, save_model, train, unusable_model

    model_dir = settings.fraud.model_dir
    if args.if_missing and has_model(model_dir):
        problem = unusable_model(model_dir)
        if problem is None:
            out.print(f"a fraud model is already in {model_dir}; keeping it")
            return 0
        out.print(f"the fraud model in {model_dir} cannot be used ({problem}); training a new one")
    feedback = None
    if args.from_db:
        # The analysts' decisions teach on top of the generated (or --input) set.
        with out.status("reading the analysts' decisions"):
            feedback, where = _feedback_from_db(settings)
        args = argparse.Namespace(**{**vars(args), "from_db": False})
    with out.status("reading the training data"):
        frame, labels, source = _fraud_data(args, settings)
    if feedback is not None:
        source = f"{source}; analysts' decisions in {where}"
        out.print(
            f"learning from {feedback.confirmed:,} confirmed and {feedback.dismissed:,} "
            f"dismissed cases decided {_when(feedback.first)} to {_when(feedback.last)} UTC, "
            f"each line's usage up to its decision only"
        )
    with out.status(f"training on {frame.height:,} records"):
        trained = train(
            frame,
            labels,
            threshold=settings.fraud.threshold,
            source=source,
            seed=args.seed,
            feedback=feedback,
            alert_budget=settings.fraud.alert_budget,
        )
        path = save_model(trained, model_dir)
    out.print(f"fraud model {trained.version} written to {path} (model card beside it)")
    for name, m in trained.metrics.items():
        out.print(f"{name}:")
        for line in m.lines_of_text():
            out.print(f"  {line}", markup=False)
    return 0


def _train_without(args: argparse.Namespace, settings: Settings, kind: str) -> Any:
    """A model trained on the demo generator with every line of `kind` left out."""
    import polars as pl

    from models.fraud import train
    from models.fraud.synthetic import training_usage

    frame, labels = training_usage(args.lines, args.seed)
    gone = labels.filter(pl.col("kind") == kind)["subscriber"]
    with out.status(f"training on the demo generator without {kind}"):
        return train(
            frame.filter(~pl.col("subscriber").is_in(gone.implode())),
            labels.filter(pl.col("kind") != kind),
            threshold=settings.fraud.threshold,
            source=(
                f"synthetic demo usage without {kind}, {_synthetic_lines(args.lines)}, "
                f"seed {args.seed}"
            ),
            seed=args.seed,
            alert_budget=settings.fraud.alert_budget,
        )


def _evaluate_suite(args: argparse.Namespace, settings: Settings) -> int:
    """The model on independent generated worlds (models.fraud.world), one with a held-out kind."""
    from domain.fraud.choices import FraudKind
    from models.fraud.training import evaluation_suite, suite_targets
    from models.fraud.world import UNKNOWN_KINDS

    known = [k.value for k in FraudKind]
    if args.holdout_kind and args.holdout_kind not in known:
        raise DomainError(
            f"--holdout-kind {args.holdout_kind}: not a fraud kind the model trains on",
            hint=f"one of {', '.join(known)}",
        )
    if args.held_out not in UNKNOWN_KINDS:
        raise DomainError(
            f"--held-out {args.held_out}: no such kind in the worlds",
            hint=f"one of {', '.join(UNKNOWN_KINDS)} (or --holdout-kind for a trained kind)",
        )
    if args.worlds < 1 or args.world_lines < 500 or not 1 <= args.world_days <= 31:
        raise DomainError(
            "the suite needs --worlds >= 1, --world-lines >= 500 and --world-days 1..31",
            hint="for example: --worlds 4 --world-lines 20000 --world-days 7",
        )
    if args.holdout_kind:
        trained = _train_without(args, settings, args.holdout_kind)
        held, origin = args.holdout_kind, f"trained now without {args.holdout_kind}"
    else:
        trained = _configured_model(settings)
        held, origin = args.held_out, f"from {settings.fraud.model_dir}"
    budget = settings.fraud.alert_budget
    out.print(
        f"fraud model {trained.version} ({origin}) on {args.worlds} independent generated "
        f"worlds of {args.world_lines:,} lines x {args.world_days} days (seeds {args.seed}.."
        f"{args.seed + args.worlds - 1}) and one holding {held}, a kind it never trained on "
        f"(seed {args.seed + args.worlds}); operating point: threshold "
        f"{trained.model.threshold:.2f}, at most {budget:.2%} of each world's lines "
        f"(fraud.alert_budget), worst first",
        markup=False,
    )
    results = []
    for result in evaluation_suite(
        trained.model,
        worlds=args.worlds,
        lines=args.world_lines,
        days=args.world_days,
        seed=args.seed,
        budget=budget,
        held_out=held,
        home_country=trained.home_country,
        train_prior=trained.train_prevalence,
    ):
        for line in result.lines_of_text():
            out.print(line, markup=False)
        results.append(result)
    out.print("targets (worst world)", markup=False)
    for target, worst, met in suite_targets(results):
        out.print(f"  {target:<48} {worst:>7}  {'met' if met else 'NOT met'}", markup=False)
    return 0


def cmd_fraud_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    if args.suite:
        return _evaluate_suite(args, settings)
    import numpy as np

    from models.fraud.model import NORMAL
    from models.fraud.training import evaluate, feature_rows

    trained = _configured_model(settings)
    with out.status("reading the evaluation data"):
        frame, labels, source = _fraud_data(args, settings)
    if "is_fraud" in labels.columns:
        labels = labels.filter(labels["is_fraud"])
    X, kinds, subs = feature_rows(frame, labels, (args.window_days,))
    held_out = ~np.isin(subs, list(trained.train_subscribers))
    if not (kinds[held_out] != NORMAL).any():
        raise DomainError(
            "no held-out fraudulent line in this data",
            hint="evaluate on data the model was not trained on, with fraud labels",
        )
    budget = settings.fraud.alert_budget
    m = evaluate(
        trained.model,
        X[held_out],
        kinds[held_out],
        budget=budget,
        train_prior=trained.train_prevalence,
    )
    window = f"last {args.window_days} days" if args.window_days else "whole window"
    out.print(
        f"fraud model {trained.version} on {source}: {int(held_out.sum()):,} held-out lines "
        f"(split by subscriber), {window}"
    )
    for line in m.lines_of_text():
        out.print(f"  {line}", markup=False)
    return 0


def cmd_fraud_score(args: argparse.Namespace, settings: Settings) -> int:
    import time

    import polars as pl

    from domain.csvfiles import write_csv
    from models.fraud import BadLines, read_usage_csv, score_frame

    trained = _configured_model(settings)
    bad = BadLines(args.input)
    started = time.perf_counter()
    scores = score_frame(trained, read_usage_csv(args.input, bad))
    _report_bad(bad)
    if scores.height == 0:
        raise DomainError(
            f"{args.input} holds no usable records",
            hint="see the skipped lines above" if bad.count else "the file has a header only",
        )
    table = scores.select(
        "subscriber",
        pl.col("score").round(SCORE_PLACES),
        pl.col("flagged").cast(pl.Int8),
        reasons=pl.col("reasons").list.join("; ").fill_null(""),
    )
    write_csv(args.output, table)  # a subscriber or reason like "=HYPERLINK(" stays text
    flagged = int(scores["flagged"].sum())
    out.print(
        f"scored {scores.height:,} subscribers in {time.perf_counter() - started:.1f} s with "
        f"model {trained.version}: {flagged:,} flagged at {trained.model.threshold:.2f}; "
        f"wrote {args.output}"
    )
    for row in scores.filter(pl.col("flagged")).head(args.show).iter_rows(named=True):
        out.print(f"  {row['subscriber']}  {score_text(row['score'])}  {row['kind']}", markup=False)
        out.print(f"    {row['reasons'][0]}", markup=False)
    return 0


def cmd_fraud_export(args: argparse.Namespace, settings: Settings) -> int:
    from models.fraud import write_labels_csv, write_usage_csv
    from models.fraud.synthetic import training_usage

    if args.synthetic:
        frame, labels = training_usage(args.lines, args.seed)
        records = write_usage_csv([frame], args.usage)
        source = f"synthetic demo usage, {_synthetic_lines(args.lines)}, seed {args.seed}"
    else:
        from bot.bootstrap import open_database
        from models.fraud import labels_from_db, usage_from_db

        db = open_database(settings)
        try:
            records = write_usage_csv(usage_from_db(db), args.usage)
            labels = labels_from_db(db)
        finally:
            db.dispose()
        labels = labels.filter(labels["is_fraud"])
        source = f"database {db!r}"
    n = write_labels_csv(labels, args.labels)
    out.print(f"wrote {records:,} usage records to {args.usage} and {n:,} labels to {args.labels}")
    out.print(f"  from {source}")
    return 0


def register(sub: Subcommands) -> None:
    fr = add_command(
        sub, "fraud", lambda a, s: 0, "the fraud model: train, evaluate, score, export"
    )
    frs = fr.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    frs.required = True

    def data_source(sp: Parser, from_db: str = "usage and labels from the database") -> None:
        sp.add_argument("--input", help="usage CSV (the interchange in DESIGN.md)")
        sp.add_argument("--labels", help="labels CSV: subscriber,kind,since")
        sp.add_argument("--from-db", action="store_true", help=from_db)
        sp.add_argument(
            "--synthetic",
            action="store_true",
            help="freshly generated demo usage (the default without --input or --from-db)",
        )
        sp.add_argument("--lines", type=int, default=12_000, help="synthetic lines (default 12000)")
        sp.add_argument("--seed", type=seed_number, default=42, help="random seed (default 42)")

    t = frs.add_parser("train", help="train the model; write the artifact and model card")
    t.set_defaults(handler=cmd_fraud_train)
    data_source(
        t,
        from_db="also learn from analysts' confirmed and dismissed cases in the database, "
        "each line's usage up to its decision",
    )
    t.add_argument("--if-missing", action="store_true", help="do nothing if a model exists")
    e = frs.add_parser("evaluate", help="PR-AUC, ROC-AUC, precision, recall on held-out lines")
    e.set_defaults(handler=cmd_fraud_evaluate)
    data_source(e)
    e.add_argument(
        "--window-days", type=int, default=0, help="score the last N days only (default: all)"
    )
    e.add_argument(
        "--suite",
        action="store_true",
        help="judge the saved model on independent generated worlds, at the alert budget",
    )
    e.add_argument("--worlds", type=int, default=4, help="suite: worlds (default 4)")
    e.add_argument(
        "--world-lines", type=int, default=20_000, help="suite: lines a world (default 20000)"
    )
    e.add_argument("--world-days", type=int, default=7, help="suite: days a world (default 7)")
    e.add_argument(
        "--held-out",
        default="wangiri",
        help="suite: the unknown kind of the last world: wangiri, pbx_hacking or sms_farm",
    )
    e.add_argument(
        "--holdout-kind",
        help="suite: train a model now on the demo generator without this fraud kind "
        "(--lines, --seed) and judge it on worlds holding it",
    )
    sc = frs.add_parser("score", help="score a usage CSV; write subscriber,score,flagged,reasons")
    sc.set_defaults(handler=cmd_fraud_score)
    sc.add_argument("--input", required=True, help="usage CSV")
    sc.add_argument("--output", required=True, help="scores CSV to write")
    sc.add_argument("--show", type=int, default=10, help="flagged lines to print (default 10)")
    ex = frs.add_parser("export", help="write usage and fraud labels as CSV")
    ex.set_defaults(handler=cmd_fraud_export)
    ex.add_argument("--usage", required=True, help="usage CSV to write")
    ex.add_argument("--labels", required=True, help="labels CSV to write")
    ex.add_argument("--synthetic", action="store_true", help="generated data, not the database")
    ex.add_argument("--lines", type=int, default=12_000, help="synthetic lines (default 12000)")
    ex.add_argument("--seed", type=seed_number, default=42, help="random seed (default 42)")
