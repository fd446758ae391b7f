"""Audit events name the key whose HMAC seals them ('' for rows sealed before keys).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('key_id', sa.String(length=16), server_default='', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_id')
