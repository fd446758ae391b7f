"""The demo's past bill cycles come from the billing services, not from the generator.

Every seeded invoice is what the bill run makes for its month; payments, invoice
states and dunning states are what the payment and dunning services leave; revenue
assurance finds nothing to reconcile in the past months.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from domain.billing.billrun import run_bill
from domain.billing.choices import InvoiceState, LineKind
from domain.billing.models import Invoice
from domain.billing.rating import Period, round_half_up
from domain.billing.revenue import assurance, window
from domain.billing.services import dunning_moves
from domain.config import BillingSettings, Settings
from domain.db import Database
from domain.demo.seed import seed
from domain.demo.timeline import Timeline
from tests.world import AS_OF, SMALL

PAST = (Period(2026, 8), Period(2026, 9))  # the usage month of AS_OF is October
Line = tuple[int, str, str, int | None, str | None, float, int, int]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("history") / "seeded.db"
    db = Database(f"sqlite:///{path}")
    seed(db, SMALL, seed=7, as_of=AS_OF)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    yield path


def _copy(seeded: Path, tmp_path: Path) -> Database:
    path = tmp_path / "copy.db"
    shutil.copyfile(seeded, path)
    return Database(f"sqlite:///{path}")


def _lines(conn: sa.Connection, month: Period) -> list[Line]:
    """A month's invoice lines by account, without the ids that numbering gives them."""
    rows = conn.execute(
        sa.text(
            "SELECT i.billing_account_id, l.kind, l.description, l.subscription_id, l.service, "
            "l.quantity, l.amount_minor, l.tax_minor FROM invoice_lines l "
            "JOIN invoices i ON i.id = l.invoice_id WHERE i.period_start = :p "
            "ORDER BY i.billing_account_id, l.id"
        ),
        {"p": month.first_day.isoformat()},
    ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _headers(conn: sa.Connection, month: Period) -> list[tuple[object, ...]]:
    return [
        tuple(r)
        for r in conn.execute(
            sa.text(
                "SELECT billing_account_id, issued_at, due_date, subtotal_minor, tax_minor, "
                "total_minor FROM invoices WHERE period_start = :p ORDER BY billing_account_id"
            ),
            {"p": month.first_day.isoformat()},
        ).all()
    ]


def _undo_bill_run(conn: sa.Connection, month: Period) -> datetime:
    """Take a month's bill run back out, leaving the database as it was before it ran."""
    run_at = Timeline.bill_run_at(month)
    ids = "(SELECT id FROM invoices WHERE period_start = :p)"
    p = {"p": month.first_day.isoformat()}
    for sql in (
        f"DELETE FROM payment_allocations WHERE invoice_id IN {ids}",
        f"UPDATE tickets SET invoice_id = NULL WHERE invoice_id IN {ids}",
        f"UPDATE adjustments SET invoice_id = NULL WHERE invoice_id IN {ids}",
        f"UPDATE adjustments SET billed_invoice_id = NULL WHERE billed_invoice_id IN {ids}",
        f"UPDATE usage_records SET state = 'rated', invoice_id = NULL WHERE invoice_id IN {ids}",
        f"DELETE FROM invoice_lines WHERE invoice_id IN {ids}",
        "DELETE FROM invoices WHERE period_start = :p",
    ):
        conn.execute(sa.text(sql), p)
    # Credits granted after the bill run were not there for it to carry.
    conn.execute(
        sa.text("DELETE FROM adjustments WHERE billed_invoice_id IS NULL AND created_at >= :t"),
        {"t": run_at.strftime("%Y-%m-%d %H:%M:%S.%f")},
    )
    return run_at


def _undo_bill_runs_from(conn: sa.Connection, month: Period) -> datetime:
    """Take a month's bill run back out and every later one first (a later invoice closes
    the month to a first run), leaving the database as it was before the month's ran."""
    later = conn.execute(
        sa.text("SELECT DISTINCT period_start FROM invoices WHERE period_start > :p"),
        {"p": month.first_day.isoformat()},
    ).scalars()
    for start in sorted((date.fromisoformat(str(d)[:10]) for d in later), reverse=True):
        _undo_bill_run(conn, Period.of(start))
    return _undo_bill_run(conn, month)


@pytest.mark.parametrize("month", PAST, ids=str)
def test_each_past_invoice_is_what_the_bill_run_makes_for_its_month(
    seeded: Path, tmp_path: Path, month: Period
) -> None:
    db = _copy(seeded, tmp_path)
    try:
        with db.engine.connect() as conn:
            lines, headers = _lines(conn, month), _headers(conn, month)
        assert lines and headers
        with db.transaction() as s:
            run_at = _undo_bill_runs_from(s.connection(), month)
            again = run_bill(s, month, BillingSettings(), now=run_at)
        assert again.invoices == len(headers) and again.skipped == 0
        with db.engine.connect() as conn:
            assert _lines(conn, month) == lines
            assert _headers(conn, month) == headers
    finally:
        db.dispose()


def test_a_second_bill_run_for_a_past_month_adds_nothing(seeded: Path, tmp_path: Path) -> None:
    db = _copy(seeded, tmp_path)
    try:
        for month in PAST:
            with db.transaction() as s:
                before = s.scalar(
                    sa.select(sa.func.count())
                    .select_from(Invoice)
                    .where(Invoice.period_start == month.first_day)
                )
                report = run_bill(
                    s, month, BillingSettings(), now=datetime(2026, 11, 1, tzinfo=UTC)
                )
            assert (report.invoices, report.lines, report.adjustments) == (0, 0, 0)
            assert report.skipped == before > 0
    finally:
        db.dispose()


def test_past_lines_carry_the_bill_runs_tax_and_real_usage(seeded: Path) -> None:
    db = Database(f"sqlite:///{seeded}")
    rate_ppm = round(BillingSettings().tax_rate * 1_000_000)
    try:
        with db.engine.connect() as conn:
            for month in PAST:
                lines = _lines(conn, month)
                amounts = [line[6] for line in lines]
                taxes = [line[7] for line in lines]
                # Half away from zero, once per line, as the bill run rounds.
                expected = round_half_up(np.array(amounts) * rate_ppm, 1_000_000)
                assert taxes == expected.tolist()
                kinds = {line[1] for line in lines}
                assert {LineKind.RECURRING.value, LineKind.USAGE.value} <= kinds
                # Usage lines are per service, from the records rated that month.
                services = {line[4] for line in lines if line[1] == LineKind.USAGE.value}
                assert services and services <= {"voice", "sms", "data"}
    finally:
        db.dispose()


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_past_months_reconcile_and_payments_and_dunning_are_the_services_own(
    empty_database_url: str,
) -> None:
    db = Database(empty_database_url)
    seed(db, SMALL, seed=7, as_of=AS_OF)
    try:
        with db.read() as s:
            for month in PAST:
                check = assurance(s, window(str(month), AS_OF))
                assert check.clean, check
                assert check.rated_minor == check.billed_usage_minor > 0
            # Dunning is up to date as of the data's today: the daily job has nothing to do.
            assert dunning_moves(s, BillingSettings().dunning, AS_OF) == []
            states = {
                state: n
                for state, n in s.execute(
                    sa.select(Invoice.state, sa.func.count()).group_by(Invoice.state)
                ).all()
            }
            assert {InvoiceState.SETTLED, InvoiceState.PARTIALLY_PAID, InvoiceState.SENT} <= set(
                states
            )
        with db.engine.connect() as conn:
            wrong = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM invoices i LEFT JOIN (SELECT invoice_id, "
                    "SUM(amount_minor) a FROM payment_allocations GROUP BY invoice_id) p "
                    "ON p.invoice_id = i.id WHERE i.paid_minor <> COALESCE(p.a, 0) "
                    "OR (i.state = 'settled') <> (i.paid_minor >= i.total_minor) "
                    "OR (i.state = 'sent') <> (i.paid_minor = 0)"
                )
            ).scalar_one()
            assert wrong == 0
            # Each payment settled the one bill it was meant for; none left credit.
            split = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM payments p WHERE p.unallocated_minor <> 0 OR 1 <> "
                    "(SELECT COUNT(*) FROM payment_allocations a WHERE a.payment_id = p.id)"
                )
            ).scalar_one()
            assert split == 0
            dunning = dict(
                conn.execute(
                    sa.text("SELECT dunning_state, COUNT(*) FROM billing_accounts GROUP BY 1")
                ).all()
            )
            assert dunning.get("reminded", 0) > 0 and dunning.get("suspended", 0) > 0
            # Lines of accounts suspended for debt were suspended by orders, and are.
            unsuspended = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM subscriptions s JOIN billing_accounts b "
                    "ON b.id = s.billing_account_id WHERE b.dunning_state = 'suspended' "
                    "AND s.state = 'active'"
                )
            ).scalar_one()
            assert unsuspended == 0
            disputes = conn.execute(
                sa.text(
                    "SELECT t.status, i.disputed FROM tickets t JOIN invoices i "
                    "ON i.id = t.invoice_id WHERE t.kind = 'billing_dispute'"
                )
            ).all()
            assert {(status, bool(d)) for status, d in disputes} == {
                ("acknowledged", True),
                ("resolved", False),
            }
    finally:
        db.dispose()


def test_the_history_follows_the_settings_it_is_given(tmp_path: Path) -> None:
    settings = Settings()
    settings = settings.model_copy(
        update={
            "billing": settings.billing.model_copy(
                update={"tax_rate": 0.1, "payment_terms_days": 10}
            )
        }
    )
    db = Database(f"sqlite:///{tmp_path / 'terms.db'}")
    seed(db, SMALL, seed=7, as_of=AS_OF, settings=settings)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT DISTINCT period_start, due_date FROM invoices ORDER BY 1")
            ).all()
            tax, subtotal = conn.execute(
                sa.text("SELECT SUM(tax_minor), SUM(subtotal_minor) FROM invoices")
            ).one()
        assert [(str(p), str(d)) for p, d in rows] == [
            ("2026-08-01", "2026-09-11"),
            ("2026-09-01", "2026-10-11"),
        ]
        assert abs(tax / subtotal - 0.1) < 0.001
    finally:
        db.dispose()


def test_the_past_months_are_the_two_before_the_usage_month() -> None:
    t = Timeline(AS_OF)
    assert t.usage_month == Period(2026, 10)
    assert t.past_months == PAST
    assert Timeline(date(2026, 3, 15)).past_months == (Period(2025, 12), Period(2026, 1))
