"""A storm's summary says what is behind, as an alarm's message does: `revision` is bumped
when an alarm joins or one in it changes, `posted_revision` is what the summary in chat
shows. A summary Slack failed to take survives a restart.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alarm_storms") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("posted_revision", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("alarm_storms") as batch:
        batch.drop_column("posted_revision")
        batch.drop_column("revision")
