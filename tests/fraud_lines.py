"""Generated usage on lines of the small world, and a small fraud model, for the fraud
desk's integration and scenario tests.

A test module takes the model with `model_dir = fraud_lines.model_dir` (a fixture used
by name must be an attribute of the module; an import of it alone would read as unused).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from domain.billing.models import UsageRecord
from domain.config import PROJECT_ROOT
from domain.customers.choices import SubscriptionState
from domain.customers.models import Subscription
from domain.db import Database
from models.fraud import save_model, train
from models.fraud.artifact import has_model
from models.fraud.synthetic import synthetic_usage
from models.fraud.usage_csv import REQUIRED
from tests.world import populate_world

#: What a generated row stores as it is: the CSV interchange's columns, with the line's
#: subscription in place of its number (started_at is converted).
USAGE_COLUMNS = ("subscription_id", *(c for c in REQUIRED if c not in ("subscriber", "started_at")))


def trained_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, train_into: Callable[[Path], None]
) -> Path:
    """The model folder `name`, trained by `train_into(folder)` once for the whole run.

    With xdist each worker is a session of its own; the folder lives where every worker
    of the run sees it (the run's base temp, above each worker's own), and a file lock
    keeps the others waiting while the first one trains, so `name` must say everything
    the training depends on.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    d = shared / name
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not has_model(d):
            train_into(d)
    return d


def cli_trained(tmp_path_factory: pytest.TempPathFactory, name: str, *argv: str) -> Path:
    """The model `switchboard fraud train ARGV` writes with the shipped config, trained
    once a run (`trained_once`; `name` stands for the arguments)."""
    from bot.cli import main

    def train_into(d: Path) -> None:
        config = d.parent / f"{name}.yaml"
        config.write_text(
            (PROJECT_ROOT / "config.yaml")
            .read_text()
            .replace("model_dir: var/models/fraud", f"model_dir: {d}")
        )
        assert main(["--config", str(config), "fraud", "train", *argv]) == 0

    return trained_once(tmp_path_factory, name, train_into)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model trained on 500 generated lines (10% fraud), trained once a run.

    Tests read it in place; one that lets the desk write beside it copies it first
    (`copy_models`).
    """

    def train_into(d: Path) -> None:
        frame, labels = synthetic_usage(500, 3, days=10, fraud_share=0.1)
        save_model(train(frame, labels, threshold=0.7, source="test, seed 3"), d)

    # Each test module holds its own copy of this fixture; the first one trains.
    return trained_once(tmp_path_factory, "fraud-model", train_into)


@pytest.fixture(scope="session")
def cli_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model `switchboard fraud train --lines 3000` writes with the shipped config,
    trained once a run (a test that writes beside it copies it: `copy_models`)."""
    return cli_trained(tmp_path_factory, "fraud-model-cli-3000", "--lines", "3000")


@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model `make demo` trains (`switchboard fraud train --if-missing`: 12,000 lines,
    seed 42) with the shipped config, trained once a run; copy it before writing beside it."""
    return cli_trained(tmp_path_factory, "fraud-model-cli-demo", "--if-missing")


def copy_models(model_dir: Path, tmp_path: Path) -> Path:
    """A copy of the model's folder under tmp_path, for a desk that writes beside it."""
    models = tmp_path / "models"
    models.mkdir()
    for p in model_dir.iterdir():
        (models / p.name).write_bytes(p.read_bytes())
    return models


def usage_on_lines(
    db: Database,
    *,
    fraud_share: float,
    lines: int = 60,
    seed: int = 11,
    days: int = 12,
    records_per_line: int = 150,
) -> pl.DataFrame:
    """Generated usage of `lines` lines, each an active subscription of the world in `db`
    (ids 2 and up, in the order of their numbers), with its `subscription_id`; by time."""
    frame, _ = synthetic_usage(
        lines, seed, days=days, fraud_share=fraud_share, records_per_subscriber=records_per_line
    )
    subs = frame["subscriber"].unique().sort().to_list()
    populate_world(db)
    with db.transaction() as s:
        for i, msisdn in enumerate(subs, start=2):
            s.add(
                Subscription(
                    id=i,
                    customer_id=1,
                    billing_account_id=1,
                    offering_id=1,
                    msisdn=msisdn,
                    state=SubscriptionState.ACTIVE,
                )
            )
    ids = pl.DataFrame({"subscriber": subs, "subscription_id": range(2, len(subs) + 2)})
    return frame.join(ids, on="subscriber").sort("started_at")


def insert_usage(db: Database, rows: pl.DataFrame) -> None:
    """Store generated rows (started_at in epoch seconds) as usage records."""
    values = [
        {
            **{c: r[c] for c in USAGE_COLUMNS},
            "started_at": datetime.fromtimestamp(r["started_at"], UTC),
        }
        for r in rows.iter_rows(named=True)
    ]
    with db.engine.begin() as conn:
        conn.execute(sa.insert(UsageRecord), values)


def voice_call(
    subscription_id: int,
    started_at: object,
    imei: str,
    *,
    direction: str = "out",
    counterpart: str = "919800001111",
    country: str = "IN",
    duration_s: int = 60,
    cell_id: str = "MUM-TWR-0001-1",
) -> dict[str, object]:
    """One voice call as a usage record's values (by default a minute out to a local number)."""
    return {
        "subscription_id": subscription_id,
        "started_at": started_at,
        "service": "voice",
        "direction": direction,
        "counterpart": counterpart,
        "counterpart_country": country,
        "duration_s": duration_s,
        "volume_bytes": 0,
        "cell_id": cell_id,
        "imei": imei,
        "roaming": False,
    }


def fraud_config(
    tmp_path: Path,
    models: Path,
    *,
    alert_budget: float | None = None,
    window_days: int | None = None,
    scheduler: bool = True,
) -> Path:
    """The shipped config.yaml with the fraud desk's model folder (and budget, window,
    scheduler off when asked), written to tmp_path/config.yaml."""
    budget = "" if alert_budget is None else f"\n  alert_budget: {alert_budget}"
    changes = [("model_dir: var/models/fraud", f"model_dir: {models}{budget}")]
    if window_days is not None:
        changes.append(("window_days: 7", f"window_days: {window_days}"))
    if not scheduler:
        changes.append(("scheduler:\n  enabled: true", "scheduler:\n  enabled: false"))
    text = (PROJECT_ROOT / "config.yaml").read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    config = tmp_path / "config.yaml"
    config.write_text(text)
    return config
