"""Changes keep the lines they intend and push, and a rollback names what it reverts.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reverts_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('forced_by', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_change_requests_reverts_id_change_requests'),
            'change_requests',
            ['reverts_id'],
            ['id'],
        )
    with op.batch_alter_table('change_targets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intended', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('pushed', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('change_targets', schema=None) as batch_op:
        batch_op.drop_column('pushed')
        batch_op.drop_column('intended')
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_change_requests_reverts_id_change_requests'), type_='foreignkey'
        )
        batch_op.drop_column('forced_by')
        batch_op.drop_column('reverts_id')
