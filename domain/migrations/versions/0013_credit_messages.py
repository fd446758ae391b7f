"""A pending credit's card in the approvals channel, and whether its requester has been
told how it was decided.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credit_requests") as batch:
        batch.add_column(sa.Column("slack_channel", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("slack_ts", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("channel_due", sa.Boolean(), server_default=sa.false(), nullable=True)
        )
        batch.add_column(
            sa.Column("requester_due", sa.Boolean(), server_default=sa.false(), nullable=True)
        )
    # Credits that already wait for a manager are announced once the worker runs.
    op.execute("UPDATE credit_requests SET channel_due = TRUE WHERE state = 'pending'")


def downgrade() -> None:
    with op.batch_alter_table("credit_requests") as batch:
        batch.drop_column("requester_due")
        batch.drop_column("channel_due")
        batch.drop_column("slack_ts")
        batch.drop_column("slack_channel")
