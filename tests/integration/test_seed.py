"""Demo data: deterministic, bulk-loaded, believable and consistent."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

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


def test_demo_scale_has_everything_the_skills_need(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from domain.demo.generator import SCALES

    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    report = seed(db, SCALES["demo"], seed=42, as_of=AS_OF)
    try:
        assert 280 <= report.counts["devices"] <= 320
        assert report.counts["subscriptions"] == 5_000
        assert report.counts["usage_records"] >= 500_000
        assert report.seconds < 60
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
