"""Alarm messages in chat: each alarm's revision and message, and storm summaries.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import domain.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alarm_storms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('alarm_count', sa.Integer(), nullable=False),
    sa.Column('slack_channel', sa.String(length=32), nullable=True),
    sa.Column('slack_ts', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_storms'))
    )
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('posted_revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('slack_channel', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('slack_ts', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('storm_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_alarms_storm_id'), ['storm_id'], unique=False)
        batch_op.create_index('ix_alarms_unposted', ['posted_revision', 'revision'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_alarms_storm_id_alarm_storms'), 'alarm_storms', ['storm_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alarms_storm_id_alarm_storms'), type_='foreignkey')
        batch_op.drop_index('ix_alarms_unposted')
        batch_op.drop_index(batch_op.f('ix_alarms_storm_id'))
        batch_op.drop_column('storm_id')
        batch_op.drop_column('slack_ts')
        batch_op.drop_column('slack_channel')
        batch_op.drop_column('posted_revision')
        batch_op.drop_column('revision')

    op.drop_table('alarm_storms')
