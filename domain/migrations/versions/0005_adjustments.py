"""Adjustments: credits and charges billed on an account's next invoice.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import domain.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('billing_account_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('billed_invoice_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_minor <> 0', name=op.f('ck_adjustments_not_zero')),
    sa.ForeignKeyConstraint(['billed_invoice_id'], ['invoices.id'], name=op.f('fk_adjustments_billed_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['billing_account_id'], ['billing_accounts.id'], name=op.f('fk_adjustments_billing_account_id_billing_accounts')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_adjustments_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_adjustments_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustments'))
    )
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustments_billed_invoice_id'), ['billed_invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adjustments_billing_account_id'), ['billing_account_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjustments_billing_account_id'))
        batch_op.drop_index(batch_op.f('ix_adjustments_billed_invoice_id'))

    op.drop_table('adjustments')
