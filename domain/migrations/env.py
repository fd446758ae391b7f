"""Alembic environment: runs on the connection `domain.migrate` hands it."""

from __future__ import annotations

from alembic import context

from domain.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand gets here
    raise SystemExit("run migrations with `switchboard db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
