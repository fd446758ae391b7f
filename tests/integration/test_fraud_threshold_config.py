"""`fraud.threshold` in the configuration is the threshold in use, without retraining:
`fraud score`, `fraud evaluate`, `/fraud check` and the desk's scheduled run flag at it."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.access import Access
from bot.cli import main
from domain.config import PROJECT_ROOT, Settings, load_settings
from domain.db import Database
from domain.demo.seed import seed
from models.fraud import write_usage_csv
from models.fraud.desk import FraudDesk
from models.fraud.synthetic import synthetic_usage
from tests import fraud_lines
from tests.fraud_lines import copy_models
from tests.world import AS_OF, SMALL, make_router

cli_model_dir = fraud_lines.cli_model_dir

TRAINED_AT = 0.7
NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)


def _config(d: Path, models: Path, threshold: float) -> Path:
    path = d / f"config-{threshold:.2f}.yaml"
    path.write_text(
        (PROJECT_ROOT / "config.yaml")
        .read_text()
        .replace("model_dir: var/models/fraud", f"model_dir: {models}")
        .replace("  threshold: 0.7\n", f"  threshold: {threshold}\n")
    )
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, cli_model_dir: Path) -> tuple[Path, Path]:
    """(folder, model folder) with a model trained through the CLI at 0.7."""
    assert f"  threshold: {TRAINED_AT}\n" in (PROJECT_ROOT / "config.yaml").read_text()
    d = tmp_path_factory.mktemp("threshold")
    return d, copy_models(cli_model_dir, d)


def _score(
    config: Path, usage: Path, out_csv: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[str, list[tuple[float, bool]]]:
    """`fraud score` with `config`: what it printed, and (score, flagged) per line."""
    argv = ["fraud", "score", "--input", str(usage), "--output", str(out_csv)]
    code = main(["--config", str(config), *argv])
    printed = capsys.readouterr().out
    assert code == 0, printed
    return printed, [
        (float(r["score"]), r["flagged"] == "1") for r in csv.DictReader(out_csv.open())
    ]


def test_fraud_score_and_evaluate_flag_at_the_configured_threshold(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d, models = trained
    frame, _ = synthetic_usage(600, seed=79, fraud_share=0.05, records_per_subscriber=50)
    usage = tmp_path / "usage.csv"
    write_usage_csv([frame], usage)
    printed, at_trained = _score(_config(d, models, TRAINED_AT), usage, tmp_path / "a.csv", capsys)
    assert f"flagged at {TRAINED_AT:.2f}" in printed
    flagged = sorted(s for s, f in at_trained if f)
    assert len(flagged) >= 4
    # A threshold between the flagged lines' scores: some of today's flags fall below it.
    higher = round(flagged[len(flagged) // 2], 2)
    assert TRAINED_AT < higher < 1 and any(s < higher for s in flagged)
    config = _config(d, models, higher)
    printed, at_higher = _score(config, usage, tmp_path / "b.csv", capsys)
    assert f"flagged at {higher:.2f}" in printed
    assert all(f == (s >= higher) for s, f in at_higher)
    assert sum(f for _, f in at_higher) < len(flagged)

    code = main(["--config", str(config), "fraud", "evaluate", "--lines", "1500", "--seed", "7"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"operating point: threshold {higher:.2f}, at most" in printed
    assert f"at threshold {higher:.2f}: precision" in printed
    assert f"{TRAINED_AT:.2f}" not in printed.split("operating point:")[1].split(",")[0]


def _settings(config: Path, db: Database) -> Settings:
    return load_settings(config, env={"SWITCHBOARD_DATABASE_URL": db.url})


def test_fraud_check_and_the_desk_flag_at_the_configured_threshold(
    trained: tuple[Path, Path], db: Database
) -> None:
    d, models = trained
    seed(db, SMALL, seed=5, as_of=AS_OF)
    # A line the trained threshold flags and a higher one does not: 0.99, or half-way from
    # the lowest flagged score to 1 where every flagged line scores 0.99 or more.
    first = FraudDesk(db, _settings(_config(d, models, TRAINED_AT), db).fraud).rescan(NOW)
    flagged = first.filter(first["flagged"])
    assert flagged.height >= 1
    lowest = float(flagged["score"].min())  # type: ignore[arg-type]
    higher = 0.99 if lowest < 0.99 else round((lowest + 1) / 2, 6)
    between = flagged.filter(flagged["score"] < higher)
    assert between.height >= 1
    fraud = str(between["subscriber"][0])
    at = {}
    for threshold in (TRAINED_AT, higher):
        settings = _settings(_config(d, models, threshold), db)
        desk = FraudDesk(db, settings.fraud, clock=lambda: NOW)
        assert desk.model().model.threshold == threshold
        check = desk.check_line(fraud, NOW)
        assert check.threshold == threshold and check.score is not None
        assert check.score.flagged == (check.score.score >= threshold)
        at[threshold] = check.score
        scores = desk.rescan(NOW)
        assert (scores["flagged"] == (scores["score"] >= threshold)).all()
        router = make_router(db, settings, clock=lambda: NOW)
        reply = router.handle(Access(settings).user("erin"), f"/fraud check {fraud}")
        assert reply.ok
        fields = {f.label: f.value for sec in reply.sections for f in sec.fields}
        assert fields["threshold"] == f"{threshold:.2f}"
        assert ("flagged" in reply.text) == check.score.flagged
    # The same line, the same score: only the configured threshold moved.
    assert at[TRAINED_AT].score == at[higher].score
    assert at[TRAINED_AT].flagged and not at[higher].flagged


def test_the_model_card_shows_the_operating_point_it_was_measured_at(
    trained: tuple[Path, Path],
) -> None:
    d, models = trained
    budget = load_settings(_config(d, models, TRAINED_AT), env={}).fraud.alert_budget
    version = (models / "LATEST").read_text().strip()
    card = (models / f"fraud-{version}.md").read_text()
    assert (
        f"operating point when trained: flagged at {TRAINED_AT:.2f} (`fraud.threshold`), "
        f"at most {budget:.2%} of the lines (`fraud.alert_budget`)"
    ) in card
    # The metrics `fraud train` prints and the card keeps, at that point.
    assert f"operating point: threshold {TRAINED_AT:.2f}, at most " in card
    assert f"= {budget:.2%} of lines: " in card
