"""The migrations build exactly the schema the entities describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from domain.db import Database
from domain.errors import DatabaseUnavailable
from domain.migrate import current_revision, downgrade_to_base, head_revision, upgrade
from domain.schema import metadata


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_upgrade_builds_the_model_schema_and_is_repeatable(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        assert upgrade(db) == (None, head_revision())
        assert upgrade(db) == (head_revision(), head_revision())
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, metadata) == []
    finally:
        db.dispose()


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_upgrading_keeps_alarms_filed_under_a_storm(empty_database_url: str) -> None:
    # 0008 rebuilds alarm_storms on SQLite; alarms refer to it, and used to stop the
    # upgrade of any database that had seen a storm ("FOREIGN KEY constraint failed").
    db = Database(empty_database_url)
    try:
        upgrade(db, "0007")
        with db.transaction() as s:
            conn = s.connection()
            conn.exec_driver_sql(
                "INSERT INTO alarm_storms (id, started_at, last_at, alarm_count) "
                "VALUES (7, '2026-11-01 10:00:00.000000', '2026-11-01 10:05:00.000000', 1)"
            )
            conn.exec_driver_sql(
                "INSERT INTO alarms (id, fingerprint, source, alarm_type, perceived_severity, "
                "state, ack_state, summary, description, labels, service_affecting, raised_at, "
                "updated_at, repeat_count, storm_id) VALUES (1, 'f1', 'webhook', 'LinkDown', "
                "'major', 'raised', 'unacknowledged', 'link down', '', '{}', false, "
                "'2026-11-01 10:00:00.000000', '2026-11-01 10:00:00.000000', 0, 7)"
            )
        assert upgrade(db) == ("0007", head_revision())
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql(
                "SELECT a.id, s.id FROM alarms a JOIN alarm_storms s ON s.id = a.storm_id"
            ).all() == [(1, 7)]
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # `seed --reset` goes back down through 0008 with the storm still there.
        downgrade_to_base(db)
        assert current_revision(db) is None
    finally:
        db.dispose()


def test_a_migration_that_would_leave_broken_references_changes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(db, "0007")
        with db.engine.connect() as conn:
            dbapi = conn.connection.driver_connection
            assert dbapi is not None
            # A row from before foreign keys were enforced, pointing at no storm.
            dbapi.execute("PRAGMA foreign_keys=OFF")
            dbapi.execute(
                "INSERT INTO alarms (id, fingerprint, source, alarm_type, perceived_severity, "
                "state, ack_state, summary, description, labels, service_affecting, raised_at, "
                "updated_at, repeat_count, storm_id) VALUES (1, 'f1', 'webhook', 'LinkDown', "
                "'major', 'raised', 'unacknowledged', 'link down', '', '{}', 0, "
                "'2026-11-01 10:00:00.000000', '2026-11-01 10:00:00.000000', 0, 99)"
            )
            dbapi.execute("PRAGMA foreign_keys=ON")
        with pytest.raises(DatabaseUnavailable) as exc:
            upgrade(db)
        assert "alarms row 1 -> alarm_storms" in str(exc.value)
        assert "nothing was changed" in exc.value.hint
        assert current_revision(db) == "0007"
    finally:
        db.dispose()


def test_the_head_read_from_the_files_is_alembics() -> None:
    """Every start compares the schema with the head read from the migration files
    (Alembic loads only when there is something to do); it must be Alembic's head."""
    from alembic.script import ScriptDirectory

    from domain.migrate import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
