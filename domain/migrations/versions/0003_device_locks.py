"""Device locks: a device is held by at most one running change, also across replicas.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import domain.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_locks',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('locked_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['change_requests.id'], name=op.f('fk_device_locks_change_id_change_requests')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_device_locks_device_id_devices')),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_device_locks'))
    )
    with op.batch_alter_table('device_locks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_locks_change_id'), ['change_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('device_locks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_locks_change_id'))

    op.drop_table('device_locks')
