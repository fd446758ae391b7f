"""A fixed line records the customer VLAN it was given on its access port.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("vlan", sa.Integer(), nullable=True))
    # Lines provisioned by an order carry the VLAN that order was given.
    op.execute(
        """
        UPDATE subscriptions SET vlan = (
            SELECT MAX(o.vlan) FROM product_orders o
            WHERE o.subscription_id = subscriptions.id AND o.action = 'add'
              AND o.vlan IS NOT NULL
        )
        WHERE circuit_id IS NOT NULL
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("vlan")
