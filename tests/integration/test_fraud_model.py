"""The fraud model end to end: train, save, load, score with reasons; the fraud CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from bot.cli import main
from domain.db import Database
from domain.demo.seed import seed
from domain.fraud.choices import FraudKind
from models.fraud import as_scores, load_model, score_frame, write_labels_csv, write_usage_csv
from models.fraud.synthetic import synthetic_usage
from tests import fraud_lines
from tests.fraud_lines import copy_models
from tests.world import AS_OF, SMALL

cli_model_dir = fraud_lines.cli_model_dir

LINES = 3_000


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, cli_model_dir: Path) -> Path:
    """A config whose model_dir holds what `fraud train --lines 3000` writes, trained
    through the CLI once a run (`cli_model_dir`: training reads fraud.threshold and
    fraud.alert_budget only, the defaults both here and in the shipped config)."""
    assert LINES == 3_000  # what the run's CLI-trained model was trained on
    d = tmp_path_factory.mktemp("fraud")
    (d / "config.yaml").write_text(
        f"database:\n  url: sqlite:///{d / 'f.db'}\nfraud:\n  model_dir: {d / 'models'}\n"
    )
    copy_models(cli_model_dir, d)
    return d


def test_train_writes_a_versioned_artifact_and_a_model_card(workdir: Path) -> None:
    models = workdir / "models"
    version = (models / "LATEST").read_text().strip()
    assert (models / f"fraud-{version}.joblib").is_file()
    card = (models / f"fraud-{version}.md").read_text()
    for heading in ("## Data", "## Model", "## Features", "## Metrics", "## Limits"):
        assert heading in card
    assert "PR-AUC" in card and "recall sim_box" in card


def test_train_if_missing_keeps_the_model(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "--config", str(workdir / "config.yaml"), "fraud", "train", "--if-missing"
    )
    assert code == 0 and "keeping it" in out


def test_scores_on_unseen_lines_flag_fraud_with_kind_and_reasons(workdir: Path) -> None:
    trained = load_model(workdir / "models")
    frame, labels = synthetic_usage(1_500, seed=77, fraud_share=0.05)
    scores = score_frame(trained, frame)
    assert scores.height == frame["subscriber"].n_unique()
    assert scores["score"].is_between(0, 1).all()
    truth = dict(zip(labels["subscriber"], labels["kind"], strict=True))
    rows = as_scores(scores)
    flagged = [s for s in rows if s.flagged]
    caught = [s for s in flagged if s.subscriber in truth]
    assert len(caught) >= 0.8 * len(truth)
    assert len(flagged) - len(caught) <= 0.25 * len(flagged)
    for s in flagged:
        assert s.kind in {k.value for k in FraudKind}
        assert s.reasons
        # A known pattern leads; a line only the novelty part flags leads with what is
        # unusual, then names the nearest known pattern.
        only_novel = s.novel and not s.reasons[0].endswith("pattern")
        if only_novel:
            nearest = [r for r in s.reasons if r.startswith("nearest known: ")]
            assert len(nearest) == 1 and nearest[0].endswith("pattern"), s.reasons
        else:
            assert s.reasons[0].endswith("pattern"), s.reasons
    # The known patterns are the supervised part's: the novelty part alone adds a few.
    assert sum(s.novel and not s.reasons[0].endswith("pattern") for s in caught) <= 0.1 * len(
        caught
    )
    assert all(not s.reasons and s.kind is None for s in rows if not s.flagged)
    sim_box = [s for s in caught if truth[s.subscriber] == "sim_box"]
    # A SIM box's reason leads with its volume; a shared handset is named only where it is
    # past what ordinary lines show (households in training share handsets too).
    assert sim_box and all(
        s.reasons[0].endswith("SIM box pattern") and "calls" in " ".join(s.reasons) for s in sim_box
    ), [s.reasons[0] for s in sim_box]


def test_scoring_in_chunks_equals_scoring_at_once(workdir: Path) -> None:
    trained = load_model(workdir / "models")
    frame, _ = synthetic_usage(300, seed=78, fraud_share=0.05, records_per_subscriber=50)
    whole = score_frame(trained, frame)
    chunks = score_frame(trained, (frame.slice(i, 2_000) for i in range(0, frame.height, 2_000)))
    assert whole.equals(chunks)


def test_cli_score_writes_the_interchange(
    workdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame, _ = synthetic_usage(300, seed=79, fraud_share=0.05, records_per_subscriber=50)
    usage = tmp_path / "usage.csv"
    write_usage_csv([frame], usage)
    with usage.open("a") as f:
        f.write("9,911,yesterday,voice,out,919812345678,IN,60,0,C1,353328110000001,0,\n")
    out_csv = tmp_path / "scores.csv"
    cfg = str(workdir / "config.yaml")
    code, out, err = run(
        capsys, "--config", cfg, "fraud", "score", "--input", str(usage), "--output", str(out_csv)
    )
    assert code == 0, err
    assert f"scored {frame['subscriber'].n_unique()} subscribers" in out
    last = frame.height + 2
    assert f"line {last}: started_at 'yesterday' is not an ISO 8601 UTC time" in err
    assert "skipped 1 bad lines" in err
    rows = list(csv.DictReader(out_csv.open()))
    assert list(rows[0]) == ["subscriber", "score", "flagged", "reasons"]
    assert all(0 <= float(r["score"]) <= 1 and r["flagged"] in ("0", "1") for r in rows)
    assert all(r["reasons"] for r in rows if r["flagged"] == "1")


def test_cli_score_bad_input_is_one_line_and_exit_1(
    workdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(workdir / "config.yaml")
    bad = tmp_path / "bad.csv"
    bad.write_text("subscriber,started_at\n911,2026-10-01T00:00:00Z\n")
    code, _, err = run(
        capsys,
        "--config",
        cfg,
        "fraud",
        "score",
        "--input",
        str(bad),
        "--output",
        str(tmp_path / "s.csv"),
    )
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith(f"error: {bad} line 1: missing column(s) service")
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in err
    code, _, err = run(
        capsys,
        "--config",
        cfg,
        "fraud",
        "score",
        "--input",
        str(tmp_path / "nope.csv"),
        "--output",
        str(tmp_path / "s.csv"),
    )
    assert code == 1 and err.startswith("error: cannot read")


def test_cli_without_a_model_says_how_to_train(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"fraud:\n  model_dir: {tmp_path / 'empty'}\n")
    code, _, err = run(
        capsys, "--config", str(cfg), "fraud", "score", "--input", "x.csv", "--output", "y.csv"
    )
    assert code == 1
    assert err.splitlines() == [
        f"error: no fraud model in {tmp_path / 'empty'}",
        "hint: train one: switchboard fraud train --synthetic (or --from-db)",
    ]


def test_cli_evaluate_on_csv_prints_the_metrics(
    workdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame, labels = synthetic_usage(1_200, seed=80, fraud_share=0.05)
    write_usage_csv([frame], tmp_path / "u.csv")
    write_labels_csv(labels, tmp_path / "l.csv")
    cfg = str(workdir / "config.yaml")
    code, out, err = run(
        capsys,
        "--config",
        cfg,
        "fraud",
        "evaluate",
        "--input",
        str(tmp_path / "u.csv"),
        "--labels",
        str(tmp_path / "l.csv"),
    )
    assert code == 0, err
    for text in ("PR-AUC", "ROC-AUC", "precision", "recall irsf", "held-out lines"):
        assert text in out
    pr_auc = float(out.split("PR-AUC ")[1].split()[0])
    assert pr_auc >= 0.9


def test_export_from_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = Database(f"sqlite:///{tmp_path / 'seeded.db'}")
    report = seed(db, SMALL, seed=5, as_of=AS_OF)
    db.dispose()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"database:\n  url: sqlite:///{tmp_path / 'seeded.db'}\n")
    usage, labels = tmp_path / "usage.csv", tmp_path / "labels.csv"
    code, _, err = run(
        capsys,
        "--config",
        str(cfg),
        "fraud",
        "export",
        "--usage",
        str(usage),
        "--labels",
        str(labels),
    )
    assert code == 0, err
    frame = pl.read_csv(usage)
    assert frame.height == report.counts["usage_records"]
    assert frame["subscriber"].cast(pl.String).str.starts_with("91").all()
    lab = pl.read_csv(labels)
    assert lab.height == report.counts["fraud_labels"] > 0
    assert set(lab["subscriber"].cast(pl.String)) <= set(frame["subscriber"].cast(pl.String))
    assert np.isin(lab["kind"].to_numpy(), [k.value for k in FraudKind]).all()
