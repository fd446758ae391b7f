"""The demo's fraud cases rank: `make demo` trains the model (`fraud train --if-missing`),
seeds the demo scale and scores once; every open case then has a score of its own, so
"worst first" orders the analysts' queue instead of listing a plateau of equal scores."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database
from domain.demo.generator import SCALES
from domain.demo.seed import seed
from domain.fraud.models import FraudCase
from models.fraud.desk import FraudDesk
from tests import fraud_lines
from tests.fraud_lines import copy_models
from tests.world import AS_OF

demo_model_dir = fraud_lines.demo_model_dir

NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory, demo_model_dir: Path) -> Path:
    """The shipped config with its own model folder, the model trained as `make demo` does
    (`fraud train --if-missing`, trained once a run: `demo_model_dir`)."""
    d = tmp_path_factory.mktemp("demo-fraud")
    config = d / "config.yaml"
    config.write_text(
        (PROJECT_ROOT / "config.yaml")
        .read_text()
        .replace("model_dir: var/models/fraud", f"model_dir: {d / 'models'}")
    )
    copy_models(demo_model_dir, d)
    assert main(["--config", str(config), "fraud", "train", "--if-missing"]) == 0  # keeps it
    return config


def test_the_demos_open_cases_have_distinct_scores(
    db: Database, demo_config: Path, tmp_path: Path
) -> None:
    seed(db, SCALES["demo"], seed=42, as_of=AS_OF)
    # Each database gets its own model folder, as each deployment has: the running window
    # kept beside the model belongs to the database it was folded from.
    own = tmp_path / "config.yaml"
    models = tmp_path / "models"
    shutil.copytree(demo_config.parent / "models", models, ignore=shutil.ignore_patterns("running"))
    own.write_text(demo_config.read_text().replace(str(demo_config.parent / "models"), str(models)))
    settings = load_settings(own, env={"SWITCHBOARD_DATABASE_URL": db.url})
    run = FraudDesk(db, settings.fraud).score_and_open(NOW)
    with db.read() as s:
        scores = s.scalars(
            sa.select(FraudCase.score)
            .where(FraudCase.state == "open")
            .order_by(FraudCase.score.desc())
        ).all()
    assert len(scores) == len(run.opened) >= 10
    assert len(set(scores)) == len(scores), scores
    assert max(scores) < 1.0
