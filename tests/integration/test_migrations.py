"""The migrations build exactly the schema the entities describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from domain.db import Database
from domain.migrate import current_revision, head_revision, upgrade
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
