"""A bill run only for a period that can be billed, and never a negative invoice, through
the command line on SQLite and PostgreSQL: a period before any line was active or closed by
a later one is refused, and a credit beyond an invoice's charges carries to the next one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main
from domain.billing.models import Adjustment, Invoice
from domain.db import Database
from tests.integration.test_bill_run import credit, october, scalar

ROOT = Path(__file__).resolve().parents[2]


def _run(db: Database, capsys: pytest.CaptureFixture[str], period: str) -> tuple[int, str, str]:
    code = main(
        [
            "--config",
            str(ROOT / "config.yaml"),
            "billing",
            "run",
            "--period",
            period,
            "--database",
            db.url,
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_period_before_any_line_or_closed_by_a_later_one_is_refused(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    adj = october(db)  # October's usage rated; a ₹10.00 credit on account 2 waits
    code, _, err = _run(db, capsys, "1999-01")
    assert code == 1
    assert err.splitlines()[0] == (
        "error: nothing to bill in 1999-01: the first line was activated on 2026-01-05"
    ), err
    assert scalar(db, "SELECT COUNT(*) FROM invoices") == 0
    with db.read() as s:  # the credit is still there for the real invoice
        assert s.get_one(Adjustment, adj).billed_invoice_id is None

    code, out, _ = _run(db, capsys, "2026-10")
    assert code == 0, out
    with db.read() as s:
        assert s.get_one(Adjustment, adj).billed_invoice_id is not None
    for earlier in ("2026-09", "2026-01"):
        code, _, err = _run(db, capsys, earlier)
        assert code == 1
        assert err.splitlines()[0] == (
            f"error: {earlier} is closed: invoices for 2026-10 were issued already"
        ), err
    assert scalar(db, "SELECT COUNT(*) FROM invoices WHERE period_start < '2026-10-01'") == 0
    # The same period again is still a re-run that adds nothing.
    code, out, _ = _run(db, capsys, "2026-10")
    assert code == 0 and "0 invoices (2 accounts already invoiced)" in out, out


def test_a_credit_beyond_the_charges_carries_to_the_next_invoice(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    october(db)
    # Account 1 is charged ₹399.00 in October: a ₹500.00 credit is more than that.
    big = credit(db, 1, -50000, "Outage credit")
    code, out, _ = _run(db, capsys, "2026-10")
    assert code == 0, out
    with db.read() as s:
        totals = s.scalars(sa.select(Invoice.total_minor)).all()
        assert totals and min(totals) >= 0, totals
        inv = s.scalars(sa.select(Invoice).where(Invoice.billing_account_id == 1)).one()
        assert inv.subtotal_minor == 39900  # charged in full; the credit waits, whole
        assert s.get_one(Adjustment, big).billed_invoice_id is None
