"""The bill run against hand-computed invoices, on SQLite and PostgreSQL; the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main
from domain import bulk
from domain.billing import rating
from domain.billing.billrun import BillRunReport, run_bill
from domain.billing.models import Adjustment, Invoice
from domain.billing.rating import Period
from domain.config import BillingSettings
from domain.db import Database
from domain.demo.seed import seed
from domain.errors import PolicyViolation
from tests.integration.test_rating import OCT, add, billing_world, october_usage, rate, usage
from tests.world import AS_OF, SMALL

NOV_2 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def bill(db: Database, period: Period = OCT) -> BillRunReport:
    with db.transaction() as s:
        return run_bill(s, period, BillingSettings(), now=NOV_2)


def lines_of(db: Database, account: int) -> list[tuple[str, str | None, str, float, int, int]]:
    with db.engine.connect() as conn:
        return [
            tuple(r)  # type: ignore[misc]
            for r in conn.execute(
                sa.text(
                    "SELECT l.kind, l.service, l.description, l.quantity, l.amount_minor, "
                    "l.tax_minor FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id "
                    "WHERE i.billing_account_id = :a ORDER BY l.id"
                ),
                {"a": account},
            ).all()
        ]


def scalar(db: Database, sql: str, **params: object) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def credit(db: Database, account: int, amount: int, reason: str) -> int:
    with db.transaction() as s:
        adj = Adjustment(
            billing_account_id=account, amount_minor=amount, reason=reason, created_by="carol"
        )
        s.add(adj)
        s.flush()
        return adj.id


def october(db: Database) -> int:
    billing_world(db)
    add(db, list(october_usage().values()))
    rate(db)
    return credit(db, 2, -1000, "Goodwill credit")


def test_bill_run_matches_the_hand_computed_invoice(db: Database) -> None:
    adj = october(db)
    report = bill(db)
    assert (report.invoices, report.skipped, report.adjustments) == (2, 0, 1)
    assert lines_of(db, 2) == [
        ("recurring", None, "Test 300 monthly charge", 1.0, 30000, 5400),
        ("recurring", None, "Test 300 monthly charge, 22 of 31 days", 0.7097, 21290, 3832),
        ("recurring", None, "Test 300 monthly charge, 20 of 31 days", 0.6452, 19355, 3484),
        ("one_off", None, "Test 300 one-off fee", 1.0, 5000, 900),
        ("usage", "voice", "Voice national, 6 min beyond allowance", 6.0, 360, 65),
        ("usage", "voice", "Voice roaming to India, 3 min", 3.0, 216, 39),
        ("usage", "voice", "Voice to the Gulf and SAARC, 2 min", 2.0, 2400, 432),
        ("usage", "voice", "Voice to premium numbers, 0.1 min", 0.12, 1750, 315),
        ("usage", "sms", "SMS national, 1 message beyond allowance", 1.0, 100, 18),
        ("usage", "sms", "SMS to the rest of the world, 1 message", 1.0, 500, 90),
        ("usage", "data", "Data, 10.5 MB beyond allowance", 10.5, 525, 95),
        ("usage", "data", "Data roaming, 3 MB", 3.0, 180, 32),
        ("adjustment", None, f"Goodwill credit (ADJ-{adj})", 1.0, -1000, -180),
    ]
    with db.read() as s:
        inv = s.scalars(sa.select(Invoice).where(Invoice.billing_account_id == 2)).one()
        assert (inv.subtotal_minor, inv.tax_minor, inv.total_minor) == (80676, 14522, 95198)
        assert inv.state == "sent" and inv.due_date == date(2026, 11, 17)
        assert (inv.period_start, inv.period_end) == (date(2026, 10, 1), date(2026, 10, 31))
        assert inv.number == f"INV-202610-{inv.id:07d}"
        assert s.get(Adjustment, adj).billed_invoice_id == inv.id  # type: ignore[union-attr]
    assert lines_of(db, 1) == [("recurring", None, "Postpaid 399 monthly charge", 1.0, 39900, 7182)]
    # Line 5's plan has no fee and its account no usage: no invoice for account 3.
    assert scalar(db, "SELECT COUNT(*) FROM invoices WHERE billing_account_id = 3") == 0
    assert scalar(db, "SELECT balance_minor FROM billing_accounts WHERE id = 2") == 95198
    assert report.total_minor == 95198 + 39900 + 7182
    # Every record of the period is billed on its account's invoice.
    assert scalar(db, "SELECT COUNT(*) FROM usage_records WHERE state <> 'billed'") == 0
    assert report.usage_records == len(october_usage())
    assert (
        scalar(
            db,
            "SELECT COUNT(*) FROM usage_records u JOIN invoices i ON i.id = u.invoice_id "
            "WHERE i.billing_account_id <> 2",
        )
        == 0
    )


def test_rerun_adds_nothing_and_adjustments_are_carried_once(db: Database) -> None:
    october(db)
    first = bill(db)
    balance = scalar(db, "SELECT balance_minor FROM billing_accounts WHERE id = 2")
    later = credit(db, 2, -500, "Second credit")
    again = bill(db)
    assert (again.invoices, again.skipped, again.lines) == (0, first.invoices, 0)
    assert scalar(db, "SELECT COUNT(*) FROM invoices") == first.invoices
    assert scalar(db, "SELECT balance_minor FROM billing_accounts WHERE id = 2") == balance
    assert scalar(db, "SELECT COUNT(*) FROM invoice_lines WHERE kind = 'adjustment'") == 1
    # The later credit waits for November's invoice, and goes on it only.
    add(db, [usage(2, datetime(2026, 11, 3, tzinfo=UTC), "sms")])
    rate(db, Period(2026, 11))
    with db.transaction() as s:
        nov = run_bill(
            s, Period(2026, 11), BillingSettings(), now=datetime(2026, 12, 1, tzinfo=UTC)
        )
    assert nov.adjustments == 1
    assert scalar(db, "SELECT COUNT(*) FROM invoice_lines WHERE kind = 'adjustment'") == 2
    assert (
        scalar(
            db,
            "SELECT COUNT(*) FROM adjustments WHERE billed_invoice_id IS NULL AND id = :i",
            i=later,
        )
        == 0
    )


def test_every_invoice_adds_up_to_its_lines(db: Database) -> None:
    october(db)
    bill(db)
    assert (
        scalar(
            db,
            """
            SELECT COUNT(*) FROM invoices i JOIN (
              SELECT invoice_id, SUM(amount_minor) a, SUM(tax_minor) t
              FROM invoice_lines GROUP BY invoice_id) l ON l.invoice_id = i.id
            WHERE l.a <> i.subtotal_minor OR l.t <> i.tax_minor
               OR i.total_minor <> i.subtotal_minor + i.tax_minor""",
        )
        == 0
    )


def test_a_bill_run_refuses_unrated_usage_and_unfinished_months(db: Database) -> None:
    billing_world(db)
    add(db, [usage(2, datetime(2026, 10, 5, tzinfo=UTC), "sms")])
    with pytest.raises(PolicyViolation) as exc:
        bill(db)
    assert str(exc.value) == "1 usage records of 2026-10 are not rated yet"
    assert "billing rate --period 2026-10" in exc.value.hint
    with pytest.raises(PolicyViolation, match="2026-11 is not over yet"):
        bill(db, Period(2026, 11))
    assert scalar(db, "SELECT COUNT(*) FROM invoices") == 0


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--config", str(ROOT / "config.yaml"), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_rates_then_bills_seeded_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'bill.db'}"
    db = Database(url)
    seed(db, SMALL, seed=3, as_of=AS_OF)
    db.dispose()
    code, out, err = _cli(capsys, "billing", "rate", "--period", "2026-13", "--database", url)
    assert code == 1 and err.splitlines() == [
        "error: '2026-13' is not a bill period",
        "hint: write the month as YYYY-MM, e.g. --period 2026-10",
    ]
    code, out, err = _cli(capsys, "billing", "run", "--period", "2026-10", "--database", url)
    assert code == 1 and err.startswith("error: ") and "not rated yet" in err
    assert len(err.splitlines()) == 2 and "Traceback" not in err
    code, out, _ = _cli(capsys, "billing", "rate", "--database", url)
    assert code == 0 and out.startswith("2026-10: ") and " rated (" in out
    code, out, _ = _cli(capsys, "billing", "rate", "--database", url)
    assert (code, out.strip()) == (0, "nothing to rate: no usage record is in state received")
    code, out, _ = _cli(capsys, "billing", "run", "--period", "2026-10", "--database", url)
    invoices = int(out.split(": ", 1)[1].split(" invoices")[0].replace(",", ""))
    assert code == 0 and invoices > 0 and "(0 accounts already invoiced)" in out
    code, out, _ = _cli(capsys, "billing", "run", "--period", "2026-10", "--database", url)
    assert code == 0 and out.startswith(f"2026-10: 0 invoices ({invoices:,} accounts already")


def test_a_bill_run_read_by_the_reader_process_gives_the_same_invoice(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Large months are read by a reader process (domain/bulk.py); both reads must agree.
    monkeypatch.setattr(bulk, "READER_PROCESS_FROM_IDS", 0)
    test_bill_run_matches_the_hand_computed_invoice(db)


def test_a_bill_run_in_slices_gives_the_same_invoice(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rating, "_SLICE", 3)
    test_bill_run_matches_the_hand_computed_invoice(db)
