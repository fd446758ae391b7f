"""A saved fraud model this version cannot read: one line saying why, and how to get one."""

from __future__ import annotations

from pathlib import Path

import joblib
import pytest

from bot.cli import main
from models.fraud.artifact import ARTIFACT_FORMAT, ModelMissing, load_model


def _old_model(model_dir: Path, blob: object) -> Path:
    model_dir.mkdir(parents=True)
    path = model_dir / "fraud-20260101-old.joblib"
    joblib.dump(blob, path)
    (model_dir / "LATEST").write_text("20260101-old\n")
    return path


def test_a_model_of_an_older_format_is_refused_with_the_way_out(tmp_path: Path) -> None:
    path = _old_model(tmp_path / "m", {"format": ARTIFACT_FORMAT - 1, "trained": None})
    with pytest.raises(ModelMissing) as refused:
        load_model(tmp_path / "m")
    assert str(refused.value) == (
        f"{path} is a fraud model of format {ARTIFACT_FORMAT - 1}; "
        f"this version reads format {ARTIFACT_FORMAT}"
    )
    assert refused.value.hint == "train a new one: switchboard fraud train"


def test_the_cli_says_it_in_one_line_and_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _old_model(tmp_path / "m", ["not", "a", "model"])
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"database:\n  url: sqlite:///{tmp_path / 'f.db'}\nfraud:\n  model_dir: {tmp_path / 'm'}\n"
    )
    code = main(["--config", str(cfg), "fraud", "score", "--input", "x.csv", "--output", "y.csv"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines() == [
        f"error: {path} is not a fraud model; this version reads format {ARTIFACT_FORMAT}",
        "hint: train a new one: switchboard fraud train",
    ]


def test_train_if_missing_replaces_a_model_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make demo` runs `fraud train --if-missing`: a model of an older format is no model
    to keep (the demo would then say there is none), so it trains a new one and says why."""
    path = _old_model(tmp_path / "m", {"format": ARTIFACT_FORMAT - 1, "trained": None})
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"database:\n  url: sqlite:///{tmp_path / 'f.db'}\nfraud:\n  model_dir: {tmp_path / 'm'}\n"
    )
    argv = ["--config", str(cfg), "fraud", "train", "--if-missing", "--lines", "600"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        f"the fraud model in {tmp_path / 'm'} cannot be used ({path} is a fraud model of "
        f"format {ARTIFACT_FORMAT - 1}; this version reads format {ARTIFACT_FORMAT}); "
        "training a new one"
    )
    assert load_model(tmp_path / "m").version != "20260101-old"
    assert main(argv) == 0  # now a model it can read: kept
    assert "keeping it" in capsys.readouterr().out
