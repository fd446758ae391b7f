"""Bad CSV files through the real entry points: `switchboard fraud score`, a payment import.

Each bad usage file is one line and a hint, exit status 1, no traceback, nothing
written; scores.csv keeps a subscriber that looks like a formula as text.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from bot.cli import main
from domain.billing.models import Payment
from domain.config import BillingSettings
from domain.csvfiles import CsvFileError
from domain.db import Database
from models.fraud import write_usage_csv
from models.fraud.synthetic import synthetic_usage
from tests.fraud_lines import cli_trained, copy_models

ROOT = Path(__file__).resolve().parents[2]
HEADER = (
    b"record_id,subscriber,started_at,service,direction,counterpart,counterpart_country,"
    b"duration_s,volume_bytes,cell_id,imei,roaming,charge\n"
)
GOOD = b"1,911,2026-10-01T00:00:01Z,voice,out,919812345678,IN,60,0,C1,353328110000001,0,\n"
BAD_FILES = {
    "bad UTF-8": (
        GOOD.replace(b",C1,", b",C\xff1,"),
        "row 4, column 60 (cell_id): not UTF-8 (byte 0xff)",
    ),
    "an unclosed quote": (
        GOOD.replace(b",C1,", b',"C1,'),
        "row 4, column 59 (cell_id): the quote here is not closed on that line",
    ),
    "a 1 MB line": (
        b"9," + b"1" * 1_000_000 + b"\n",
        "row 4 is longer than 65,536 bytes (64 KiB), the most a record may be",
    ),
    "text after a closing quote": (
        GOOD.replace(b",C1,", b',"C1"x,'),
        'line 4: cannot be read as CSV: Field `"C1"x` is not properly escaped.',
    ),
}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose fraud model (trained through the CLI, small) is its own: a copy of
    what `fraud train --lines 300` writes, trained once a run (training reads the fraud
    defaults, here as in the shipped config)."""
    d = tmp_path_factory.mktemp("csv")
    path = d / "config.yaml"
    path.write_text(
        f"database:\n  url: sqlite:///{d / 'f.db'}\nfraud:\n  model_dir: {d / 'models'}\n"
    )
    copy_models(cli_trained(tmp_path_factory, "fraud-model-cli-300", "--lines", "300"), d)
    return path


def score(config: Path, usage: Path, out: Path) -> list[str]:
    return ["--config", str(config), "fraud", "score", "--input", str(usage), "--output", str(out)]


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_fraud_score_on_a_bad_file_is_one_line_and_a_hint(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    body, said = BAD_FILES[kind]
    usage = tmp_path / "usage.csv"
    usage.write_bytes(HEADER + GOOD * 2 + body + GOOD)
    out = tmp_path / "scores.csv"
    capsys.readouterr()
    code = main(score(config, usage, out))
    stdout, err = capsys.readouterr()
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 2, err
    sep = ": " if kind != "text after a closing quote" else " "
    assert lines[0] == f"error: {usage}{sep}{said}"
    assert lines[1].startswith("hint: ")
    assert stdout == "" and not out.exists()


def test_fraud_score_in_a_real_process_prints_no_traceback(config: Path, tmp_path: Path) -> None:
    usage = tmp_path / "usage.csv"
    usage.write_bytes(HEADER + GOOD + BAD_FILES["bad UTF-8"][0])
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *score(config, usage, tmp_path / "s.csv")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {usage}: row 3, column 60 (cell_id): not UTF-8 (byte 0xff)",
        "hint: save the file as UTF-8 (a spreadsheet's 'CSV UTF-8')",
    ]


def test_scores_csv_keeps_formula_looking_subscribers_as_text(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame, _ = synthetic_usage(60, seed=81, records_per_subscriber=30)
    names = {
        s: n
        for s, n in zip(
            frame["subscriber"].unique(maintain_order=True).to_list(),
            ['=HYPERLINK("http://evil.example","see")', "+1+2", "-3+4", "@SUM(A1)", "-12.50"],
            strict=False,
        )
    }
    frame = frame.with_columns(pl.col("subscriber").replace(names))
    usage, out = tmp_path / "usage.csv", tmp_path / "scores.csv"
    write_usage_csv([frame], usage)
    # The export itself wrote them as text; put them back as a sender would have them.
    usage.write_text(usage.read_text().replace(",'", ",").replace(",\"'", ',"'))
    assert main(score(config, usage, out)) == 0, capsys.readouterr().err
    rows = {r["subscriber"]: r for r in csv.DictReader(out.open(newline=""))}
    for written in (
        '\'=HYPERLINK("http://evil.example","see")',
        "'+1+2",
        "'-3+4",
        "'@SUM(A1)",
        "-12.50",  # a plain number is no formula
    ):
        assert written in rows
    assert all(0 <= float(r["score"]) <= 1 for r in rows.values())


def test_a_payment_text_is_checked_before_any_row_is_read(world: Database) -> None:
    from domain.billing.services import import_payments

    text = (
        "reference,account,amount,received_at,method\n"
        'P1,BA100000001,10,2026-11-02,"upi\nor card"\n'  # a quoted newline: one row
        'P2,BA100000001,"10,2026-11-02,upi\n'
        "P3,BA100000001,10,2026-11-02,upi\n"
    )
    with pytest.raises(CsvFileError) as exc:
        import_payments(world, text, BillingSettings(), name="payments.csv")
    assert (
        str(exc.value) == "payments.csv: row 3, column 16 (amount): the quote here is never closed"
    )
    long = "reference,account,amount,received_at,method\n" + "P1,BA1,1,2026-11-02," + "u" * 70_000
    with pytest.raises(CsvFileError, match=r"^payments.csv: row 2 is longer than 65,536 bytes"):
        import_payments(world, long, BillingSettings(), name="payments.csv")
    with world.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0
