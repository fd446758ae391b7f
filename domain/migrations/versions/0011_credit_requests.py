"""Credit requests: credits that wait for a second person (a manager) before they
become adjustments.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import domain.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credit_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('billing_account_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('why', sa.String(length=200), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('pending', 'approved', 'rejected', name='creditstate', native_enum=False, create_constraint=False, length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('adjustment_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_credit_requests_positive')),
    sa.ForeignKeyConstraint(['adjustment_id'], ['adjustments.id'], name=op.f('fk_credit_requests_adjustment_id_adjustments')),
    sa.ForeignKeyConstraint(['billing_account_id'], ['billing_accounts.id'], name=op.f('fk_credit_requests_billing_account_id_billing_accounts')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_credit_requests_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_credit_requests_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_requests'))
    )
    with op.batch_alter_table('credit_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_requests_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_requests_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('credit_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_requests_state'))
        batch_op.drop_index(batch_op.f('ix_credit_requests_invoice_id'))

    op.drop_table('credit_requests')
