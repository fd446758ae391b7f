"""Alarm storms no longer store their alarm count: it is counted from the alarms.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alarm_storms', schema=None) as batch_op:
        batch_op.drop_column('alarm_count')


def downgrade() -> None:
    with op.batch_alter_table('alarm_storms', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('alarm_count', sa.Integer(), nullable=False, server_default='0')
        )
