"""Demo data: deterministic, bulk-loaded, believable and consistent."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from domain.billing.models import Invoice, Payment, PaymentAllocation
from domain.billing.services import DUNNING_ACTOR
from domain.config import BillingSettings
from domain.customers.choices import AccountStatus, DunningState
from domain.customers.models import BillingAccount
from domain.db import Database
from domain.demo.seed import fingerprint, seed
from domain.errors import DomainError
from domain.fraud.choices import FraudKind
from domain.orders.choices import OrderState
from tests.world import AS_OF, SMALL


def _seeded(url: str, seed_value: int = 7) -> Database:
    db = Database(url)
    seed(db, SMALL, seed=seed_value, as_of=AS_OF)
    return db


def scalar(db: Database, sql: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def unexplained_suspensions(db: Database, as_of: date) -> dict[str, list[tuple[object, ...]]]:
    """Suspended lines and accounts the data gives no reason for (empty lists: none).

    A suspended line has a completed suspend order with no resume after it, and where
    dunning asked for it, its account is suspended for debt; a line whose standing
    order is a suspension is suspended. An account is suspended exactly when dunning
    has it suspended: a bill of it is still overdue, and one went unpaid for the
    suspend step's days after its due date (its lines may have been off already, at
    their customers' request or ended, so no order need show it).
    """
    steps = BillingSettings().dunning
    after = timedelta(days=next(s.after_days for s in steps if s.action == "suspend"))
    last_order = """
        SELECT s.id, s.state, b.dunning_state, o.action, o.requested_by
        FROM subscriptions s JOIN billing_accounts b ON b.id = s.billing_account_id
        LEFT JOIN product_orders o ON o.id = (
          SELECT o2.id FROM product_orders o2 WHERE o2.subscription_id = s.id
            AND o2.state = 'completed' AND o2.action IN ('suspend', 'resume')
          ORDER BY o2.completed_at DESC, o2.id DESC LIMIT 1)"""
    with db.engine.connect() as conn:
        lines = conn.execute(
            sa.text(
                f"{last_order} WHERE s.state = 'suspended' AND (o.action IS NULL "
                "OR o.action <> 'suspend' OR (o.requested_by = :dunning "
                "AND b.dunning_state <> 'suspended')) ORDER BY s.id"
            ),
            {"dunning": DUNNING_ACTOR},
        ).all()
        standing = conn.execute(
            sa.text(
                f"{last_order} WHERE o.action = 'suspend' AND s.state <> 'suspended' ORDER BY s.id"
            )
        ).all()
        accounts = conn.execute(
            sa.select(BillingAccount.id, BillingAccount.status, BillingAccount.dunning_state)
            .where(
                sa.or_(
                    BillingAccount.status == AccountStatus.SUSPENDED,
                    BillingAccount.dunning_state == DunningState.SUSPENDED,
                )
            )
            .order_by(BillingAccount.id)
        ).all()
        paid_on = (
            sa.select(sa.func.max(Payment.received_at))
            .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
            .where(PaymentAllocation.invoice_id == Invoice.id)
            .scalar_subquery()
        )
        bills: dict[int, list[tuple[date, bool, datetime | None]]] = {}
        for account, due, unpaid, paid in conn.execute(
            sa.select(
                Invoice.billing_account_id,
                Invoice.due_date,
                Invoice.paid_minor < Invoice.total_minor,
                paid_on,
            ).where(Invoice.billing_account_id.in_([a for a, _, _ in accounts]))
        ):
            bills.setdefault(account, []).append((due, unpaid, paid))
    odd: list[tuple[object, ...]] = []
    for account, status, dunning in accounts:
        mine = bills.get(account, [])
        overdue = any(unpaid and due < as_of for due, unpaid, _ in mine)
        # Unpaid until today, or until the payment that settled it (none: nothing owed).
        until = [
            (as_of if unpaid else paid.date() if paid else None, due) for due, unpaid, paid in mine
        ]
        long_unpaid = any(u is not None and u >= due + after for u, due in until)
        if status != AccountStatus.SUSPENDED or dunning != DunningState.SUSPENDED:
            odd.append((account, status, dunning))
        elif not (overdue and long_unpaid):
            odd.append((account, status, dunning, overdue, long_unpaid))
    return {
        "lines": [tuple(r) for r in lines],
        "standing suspensions": [tuple(r) for r in standing],
        "accounts": odd,
    }


def test_same_seed_same_data_other_seed_other_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = _seeded(f"sqlite:///{tmp_path / 'a.db'}")
    b = _seeded(f"sqlite:///{tmp_path / 'b.db'}")
    c = _seeded(f"sqlite:///{tmp_path / 'c.db'}", seed_value=8)
    fa, fb, fc = fingerprint(a), fingerprint(b), fingerprint(c)
    assert fa == fb
    assert fa["usage_records"][1] != fc["usage_records"][1]
    assert fa["customers"][1] != fc["customers"][1]
    for db in (a, b, c):
        db.dispose()


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_seeded_data_is_consistent(empty_database_url: str) -> None:
    db = _seeded(empty_database_url)
    try:
        assert scalar(db, "SELECT COUNT(*) FROM subscriptions") == SMALL.subscriptions
        assert scalar(db, "SELECT COUNT(*) FROM usage_records") > 0
        # Every invoice adds up to its lines, and its total to subtotal plus tax.
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
        # Balances are what is still owed on invoices.
        assert (
            scalar(
                db,
                """
            SELECT COUNT(*) FROM billing_accounts b LEFT JOIN (
              SELECT billing_account_id, SUM(total_minor - paid_minor) owed FROM invoices
              GROUP BY billing_account_id) o ON o.billing_account_id = b.id
            WHERE b.balance_minor <> COALESCE(o.owed, 0)""",
            )
            == 0
        )
        assert scalar(db, "SELECT COUNT(*) FROM payments") == scalar(
            db, "SELECT COUNT(*) FROM invoices WHERE paid_minor > 0"
        )
        # Usage never precedes its line's activation.
        assert (
            scalar(
                db,
                """
            SELECT COUNT(*) FROM usage_records u JOIN subscriptions s ON s.id = u.subscription_id
            WHERE u.started_at < s.activated_at""",
            )
            == 0
        )
        # The lab devices answer on loopback ports; nothing points off this machine.
        with db.engine.connect() as conn:
            lab = conn.execute(
                sa.text(
                    "SELECT hostname, mgmt_host, mgmt_port FROM devices "
                    "WHERE lab ORDER BY mgmt_port"
                )
            ).all()
            hosts = conn.execute(sa.text("SELECT mgmt_host FROM devices")).scalars().all()
        assert [h for h, _, _ in lab][:2] == ["r1-mum", "r2-del"]
        assert [(m, p) for _, m, p in lab] == [("127.0.0.1", 6000 + i) for i in range(8)]
        assert all(h.startswith("127.") for h in hosts)
        # Ids keep counting after seeded rows, so new rows do not collide.
        with db.transaction() as s:
            s.execute(sa.text("INSERT INTO regions (code, name) VALUES ('TEST', 'Test circle')"))
        assert scalar(db, "SELECT id FROM regions WHERE code = 'TEST'") == 13
    finally:
        db.dispose()


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_every_suspended_line_and_account_shows_why(empty_database_url: str) -> None:
    db = _seeded(empty_database_url)
    try:
        assert unexplained_suspensions(db, AS_OF) == {
            "lines": [],
            "standing suspensions": [],
            "accounts": [],
        }
        with db.engine.connect() as conn:
            why: dict[str, int] = dict(
                conn.execute(
                    sa.text(
                        "SELECT o.requested_by, COUNT(*) FROM subscriptions s "
                        "JOIN product_orders o ON o.subscription_id = s.id "
                        "WHERE s.state = 'suspended' AND o.action = 'suspend' "
                        "AND o.state = 'completed' GROUP BY o.requested_by"
                    )
                ).all()
            )
            held = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM product_orders WHERE action = 'suspend' "
                    "AND requested_by <> :dunning AND (note IS NULL "
                    "OR note NOT LIKE 'Customer''s request: %')"
                ),
                {"dunning": DUNNING_ACTOR},
            ).scalar_one()
        # Both ways a seeded line comes to be suspended are there: debt and the
        # customer's own request, which says why.
        assert why.get(DUNNING_ACTOR, 0) > 0 and why.get("carol", 0) > 0
        assert held == 0
    finally:
        db.dispose()


def test_demo_scale_has_everything_the_skills_need(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from domain.demo.generator import SCALES

    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    report = seed(db, SCALES["demo"], seed=42, as_of=AS_OF)
    try:
        assert 280 <= report.counts["devices"] <= 320
        assert report.counts["subscriptions"] == 5_000
        assert report.counts["usage_records"] >= 500_000
        assert report.seconds < 60
        assert not any(unexplained_suspensions(db, AS_OF).values())
        with db.engine.connect() as conn:
            kinds = set(conn.execute(sa.text("SELECT DISTINCT kind FROM fraud_labels")).scalars())
            states = set(
                conn.execute(sa.text("SELECT DISTINCT state FROM product_orders")).scalars()
            )
            overdue = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM invoices WHERE paid_minor < total_minor AND due_date < :d"
                ),
                {"d": AS_OF.isoformat()},
            ).scalar_one()
            open_tickets = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM tickets WHERE status IN "
                    "('acknowledged', 'inProgress', 'pending', 'held')"
                )
            ).scalar_one()
            raised = conn.execute(
                sa.text("SELECT COUNT(*) FROM alarms WHERE state <> 'cleared'")
            ).scalar_one()
            roaming = conn.execute(
                sa.text("SELECT COUNT(*) FROM usage_records WHERE roaming")
            ).scalar_one()
            intl = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM usage_records WHERE counterpart_country NOT IN ('IN', '')"
                )
            ).scalar_one()
            fixed = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM subscriptions WHERE circuit_id IS NOT NULL "
                    "AND device_id IS NOT NULL AND port IS NOT NULL"
                )
            ).scalar_one()
        assert kinds == {k.value for k in FraudKind}
        assert states == {s.value for s in OrderState}
        assert overdue > 0 and open_tickets > 0 and raised > 0
        assert roaming > 0 and intl > 0 and fixed > 0
    finally:
        db.dispose()


def test_seeding_twice_needs_reset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    db = _seeded(url)
    with pytest.raises(DomainError, match="already holds data") as exc:
        seed(db, SMALL, seed=7, as_of=AS_OF)
    assert "--reset" in exc.value.hint
    seed(db, SMALL, seed=9, as_of=AS_OF, reset=True)
    assert scalar(db, "SELECT COUNT(*) FROM subscriptions") == SMALL.subscriptions
    db.dispose()
