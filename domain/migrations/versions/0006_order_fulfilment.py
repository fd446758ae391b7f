"""Order fulfilment: the requester's note, the policy's word, the access VLAN, an
idempotency key for POST /orders, the fulfilment claim, and the order's message in
the orders channel.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import domain.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('product_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('policy_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('vlan', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('fulfilment_started_at', domain.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('slack_channel', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('slack_ts', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('channel_due', sa.Boolean(), server_default=sa.false(), nullable=True))
        batch_op.add_column(sa.Column('requester_due', sa.Boolean(), server_default=sa.false(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_product_orders_external_id'), ['external_id'])
    # Orders approved before fulfilment was recorded were taken up back then: the
    # provisioning worker must not start them again.
    op.execute(
        "UPDATE product_orders SET fulfilment_started_at = updated_at "
        "WHERE state IN ('inProgress', 'completed', 'failed')"
    )


def downgrade() -> None:
    with op.batch_alter_table('product_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_product_orders_external_id'), type_='unique')
        batch_op.drop_column('requester_due')
        batch_op.drop_column('channel_due')
        batch_op.drop_column('slack_ts')
        batch_op.drop_column('slack_channel')
        batch_op.drop_column('fulfilment_started_at')
        batch_op.drop_column('external_id')
        batch_op.drop_column('vlan')
        batch_op.drop_column('policy_note')
        batch_op.drop_column('note')
