"""initial schema

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

import domain.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('roles', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('command', sa.String(length=120), nullable=False),
    sa.Column('arguments', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Enum('ok', 'refused', 'invalid', 'failed', 'interrupted', name='outcome', native_enum=False, length=19), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor'), ['actor'], unique=False)

    op.create_table('change_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('targets', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('planned', 'approved', 'running', 'succeeded', 'failed', 'rolled_back', 'cancelled', 'interrupted', name='changestate', native_enum=False, length=19), nullable=False),
    sa.Column('risk', sa.Enum('low', 'medium', 'high', name='risk', native_enum=False, length=14), nullable=False),
    sa.Column('needs_second_approval', sa.Boolean(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('created_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('approved_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('started_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_requests'))
    )
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_requests_state'), ['state'], unique=False)

    op.create_table('destinations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('country_name', sa.String(length=80), nullable=False),
    sa.Column('zone', sa.Enum('national', 'intl_a', 'intl_b', 'intl_c', 'premium', name='zone', native_enum=False, length=16), nullable=False),
    sa.Column('high_cost', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_destinations')),
    sa.UniqueConstraint('prefix', name=op.f('uq_destinations_prefix'))
    )
    op.create_table('processed_requests',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('seen_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_processed_requests'))
    )
    with op.batch_alter_table('processed_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_requests_seen_at'), ['seen_at'], unique=False)

    op.create_table('product_offerings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('segment', sa.Enum('consumer', 'enterprise', name='segment', native_enum=False, length=18), nullable=False),
    sa.Column('product_line', sa.Enum('mobile_postpaid', 'mobile_prepaid', 'broadband', 'leased_line', name='productline', native_enum=False, length=23), nullable=False),
    sa.Column('monthly_fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('one_off_fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('allowance_voice_min', sa.Integer(), nullable=False),
    sa.Column('allowance_sms', sa.Integer(), nullable=False),
    sa.Column('allowance_data_mb', sa.Integer(), nullable=False),
    sa.Column('roaming_surcharge_pct', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_offerings')),
    sa.UniqueConstraint('code', name=op.f('uq_product_offerings_code'))
    )
    op.create_table('regions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('code', name=op.f('uq_regions_code'))
    )
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('segment', sa.Enum('consumer', 'enterprise', name='segment', native_enum=False, length=18), nullable=False),
    sa.Column('status', sa.Enum('active', 'suspended', 'closed', name='customerstatus', native_enum=False, length=17), nullable=False),
    sa.Column('id_document', sa.Enum('aadhaar', 'pan', 'gstin', 'passport', name='iddocument', native_enum=False, length=16), nullable=False),
    sa.Column('id_number', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=160), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=240), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('created_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_customers_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_name'), ['name'], unique=False)

    op.create_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('exchange', 'tower', 'pop', 'data_centre', name='sitekind', native_enum=False, length=19), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_sites_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('code', name=op.f('uq_sites_code'))
    )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sites_region_id'), ['region_id'], unique=False)

    op.create_table('tariffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.Enum('voice', 'sms', 'data', name='service', native_enum=False, length=13), nullable=False),
    sa.Column('zone', sa.Enum('national', 'intl_a', 'intl_b', 'intl_c', 'premium', name='zone', native_enum=False, length=16), nullable=False),
    sa.Column('unit', sa.Enum('second', 'minute', 'message', 'megabyte', name='ratingunit', native_enum=False, length=16), nullable=False),
    sa.Column('rate_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['offering_id'], ['product_offerings.id'], name=op.f('fk_tariffs_offering_id_product_offerings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariffs')),
    sa.UniqueConstraint('offering_id', 'service', 'zone', name=op.f('uq_tariffs_offering_id_service_zone'))
    )
    op.create_table('billing_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'suspended', 'closed', name='accountstatus', native_enum=False, length=17), nullable=False),
    sa.Column('bill_cycle_day', sa.SmallInteger(), nullable=False),
    sa.Column('credit_limit_minor', sa.BigInteger(), nullable=False),
    sa.Column('balance_minor', sa.BigInteger(), nullable=False),
    sa.Column('dunning_state', sa.Enum('current', 'reminded', 'final_notice', 'suspended', name='dunningstate', native_enum=False, length=20), nullable=False),
    sa.Column('payment_method', sa.Enum('upi', 'card', 'netbanking', 'autodebit', 'cheque', 'cash', name='paymentmethod', native_enum=False, length=18), nullable=False),
    sa.Column('created_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('bill_cycle_day BETWEEN 1 AND 28', name=op.f('ck_billing_accounts_cycle_day')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_billing_accounts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_accounts')),
    sa.UniqueConstraint('account_number', name=op.f('uq_billing_accounts_account_number'))
    )
    with op.batch_alter_table('billing_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_accounts_customer_id'), ['customer_id'], unique=False)

    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hostname', sa.String(length=63), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('core', 'aggregation', 'access', 'bng', 'pe', 'firewall', 'ran', name='devicerole', native_enum=False, length=19), nullable=False),
    sa.Column('platform', sa.Enum('cisco_ios', 'cisco_xr', 'cisco_nxos', 'arista_eos', 'juniper_junos', 'huawei_vrp', 'nokia_sros', name='platform', native_enum=False, length=21), nullable=False),
    sa.Column('vendor', sa.String(length=40), nullable=False),
    sa.Column('model', sa.String(length=60), nullable=False),
    sa.Column('os_version', sa.String(length=60), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('mgmt_host', sa.String(length=64), nullable=False),
    sa.Column('mgmt_port', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'planned', 'staged', 'offline', 'failed', 'decommissioning', name='devicestatus', native_enum=False, length=23), nullable=False),
    sa.Column('lab', sa.Boolean(), nullable=False),
    sa.Column('created_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_devices_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('hostname', name=op.f('uq_devices_hostname')),
    sa.UniqueConstraint('serial', name=op.f('uq_devices_serial'))
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_mgmt_host'), ['mgmt_host'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_role'), ['role'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_status'), ['status'], unique=False)

    op.create_table('change_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'skipped', 'pushed', 'verified', 'failed', 'rolled_back', 'interrupted', name='targetstate', native_enum=False, length=19), nullable=False),
    sa.Column('canary', sa.Boolean(), nullable=False),
    sa.Column('diff', sa.Text(), nullable=False),
    sa.Column('rollback', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['change_id'], ['change_requests.id'], name=op.f('fk_change_targets_change_id_change_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_change_targets_device_id_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_targets')),
    sa.UniqueConstraint('change_id', 'device_id', name=op.f('uq_change_targets_change_id_device_id'))
    )
    with op.batch_alter_table('change_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_targets_device_id'), ['device_id'], unique=False)

    op.create_table('config_backups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=True),
    sa.Column('taken_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=120), nullable=False),
    sa.Column('config', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['change_requests.id'], name=op.f('fk_config_backups_change_id_change_requests')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_config_backups_device_id_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_config_backups'))
    )
    with op.batch_alter_table('config_backups', schema=None) as batch_op:
        batch_op.create_index('ix_config_backups_device_taken', ['device_id', 'taken_at'], unique=False)

    op.create_table('interfaces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('ethernet', 'lag', 'loopback', 'virtual', name='interfacekind', native_enum=False, length=16), nullable=False),
    sa.Column('speed_mbps', sa.Integer(), nullable=True),
    sa.Column('mtu', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=240), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('oper_status', sa.Enum('up', 'down', name='operstatus', native_enum=False, length=12), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_interfaces_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interfaces')),
    sa.UniqueConstraint('device_id', 'name', name=op.f('uq_interfaces_device_id_name'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('billing_account_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('issued_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('new', 'onHold', 'sent', 'partiallyPaid', 'settled', name='invoicestate', native_enum=False, length=21), nullable=False),
    sa.Column('subtotal_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_minor', sa.BigInteger(), nullable=False),
    sa.Column('disputed', sa.Boolean(), nullable=False),
    sa.CheckConstraint('total_minor = subtotal_minor + tax_minor', name=op.f('ck_invoices_total_adds_up')),
    sa.ForeignKeyConstraint(['billing_account_id'], ['billing_accounts.id'], name=op.f('fk_invoices_billing_account_id_billing_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('billing_account_id', 'period_start', name=op.f('uq_invoices_billing_account_id_period_start')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_state'), ['state'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('billing_account_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('received_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('method', sa.Enum('upi', 'card', 'netbanking', 'autodebit', 'cheque', 'cash', name='paymentmethod', native_enum=False, length=18), nullable=False),
    sa.Column('unallocated_minor', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_payments_positive')),
    sa.ForeignKeyConstraint(['billing_account_id'], ['billing_accounts.id'], name=op.f('fk_payments_billing_account_id_billing_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('reference', name=op.f('uq_payments_reference'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_billing_account_id'), ['billing_account_id'], unique=False)

    op.create_table('subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('billing_account_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('msisdn', sa.String(length=15), nullable=True),
    sa.Column('circuit_id', sa.String(length=32), nullable=True),
    sa.Column('imsi', sa.String(length=15), nullable=True),
    sa.Column('imei', sa.String(length=16), nullable=True),
    sa.Column('state', sa.Enum('created', 'pendingActive', 'active', 'suspended', 'pendingTerminate', 'terminated', name='subscriptionstate', native_enum=False, length=24), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('port', sa.String(length=64), nullable=True),
    sa.Column('activated_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('terminated_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['billing_account_id'], ['billing_accounts.id'], name=op.f('fk_subscriptions_billing_account_id_billing_accounts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_subscriptions_customer_id_customers')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_subscriptions_device_id_devices')),
    sa.ForeignKeyConstraint(['offering_id'], ['product_offerings.id'], name=op.f('fk_subscriptions_offering_id_product_offerings')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_subscriptions_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
    sa.UniqueConstraint('circuit_id', name=op.f('uq_subscriptions_circuit_id')),
    sa.UniqueConstraint('msisdn', name=op.f('uq_subscriptions_msisdn'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_billing_account_id'), ['billing_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_state'), ['state'], unique=False)

    op.create_table('fraud_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('open', 'confirmed', 'dismissed', name='casestate', native_enum=False, length=17), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('kind', sa.Enum('sim_box', 'irsf', 'sms_pumping', 'subscription_fraud', 'account_takeover', 'roaming_fraud', name='fraudkind', native_enum=False, length=26), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('model_version', sa.String(length=40), nullable=False),
    sa.Column('opened_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_fraud_cases_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_cases'))
    )
    with op.batch_alter_table('fraud_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fraud_cases_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_index('uq_fraud_cases_open_subscription', ['subscription_id'], unique=True, sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))

    op.create_table('invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('recurring', 'one_off', 'usage', 'adjustment', 'discount', name='linekind', native_enum=False, length=18), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('service', sa.Enum('voice', 'sms', 'data', name='service', native_enum=False, length=13), nullable=True),
    sa.Column('quantity', sa.Double(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_invoice_lines_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines'))
    )
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_lines_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('payment_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payment_allocations_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_allocations_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocations'))
    )
    with op.batch_alter_table('payment_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_allocations_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_allocations_payment_id'), ['payment_id'], unique=False)

    op.create_table('product_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('add', 'modify', 'suspend', 'resume', 'terminate', name='orderaction', native_enum=False, length=17), nullable=False),
    sa.Column('state', sa.Enum('acknowledged', 'pending', 'inProgress', 'completed', 'failed', 'rejected', 'cancelled', 'held', name='orderstate', native_enum=False, length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=True),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('port', sa.String(length=64), nullable=True),
    sa.Column('one_off_minor', sa.BigInteger(), nullable=False),
    sa.Column('monthly_minor', sa.BigInteger(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('change_request_id', sa.Integer(), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('created_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_requests.id'], name=op.f('fk_product_orders_change_request_id_change_requests')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_product_orders_customer_id_customers')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_product_orders_device_id_devices')),
    sa.ForeignKeyConstraint(['offering_id'], ['product_offerings.id'], name=op.f('fk_product_orders_offering_id_product_offerings')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_product_orders_site_id_sites')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_product_orders_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_orders'))
    )
    with op.batch_alter_table('product_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_orders_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_orders_state'), ['state'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('incident', 'service_request', 'billing_dispute', 'provisioning', 'fraud', name='ticketkind', native_enum=False, length=23), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.Enum('acknowledged', 'inProgress', 'pending', 'held', 'resolved', 'closed', 'cancelled', 'rejected', name='ticketstatus', native_enum=False, length=20), nullable=False),
    sa.Column('reporter', sa.String(length=64), nullable=False),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('sla_due_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('created_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('severity BETWEEN 1 AND 4', name=op.f('ck_tickets_severity_range')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_tickets_customer_id_customers')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_tickets_device_id_devices')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_tickets_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_tickets_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_assignee'), ['assignee'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_status'), ['status'], unique=False)
        batch_op.create_index('ix_tickets_status_sla', ['status', 'sla_due_at'], unique=False)

    op.create_table('usage_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('started_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('service', sa.Enum('voice', 'sms', 'data', name='service', native_enum=False, length=13), nullable=False),
    sa.Column('direction', sa.Enum('out', 'in', name='direction', native_enum=False, length=11), nullable=False),
    sa.Column('counterpart', sa.String(length=24), nullable=False),
    sa.Column('counterpart_country', sa.String(length=2), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=False),
    sa.Column('volume_bytes', sa.BigInteger(), nullable=False),
    sa.Column('cell_id', sa.String(length=24), nullable=False),
    sa.Column('imei', sa.String(length=16), nullable=False),
    sa.Column('roaming', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('received', 'rated', 'billed', name='usagestate', native_enum=False, length=16), nullable=False),
    sa.Column('zone', sa.Enum('national', 'intl_a', 'intl_b', 'intl_c', 'premium', name='zone', native_enum=False, length=16), nullable=True),
    sa.Column('charge_minor', sa.BigInteger(), nullable=True),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('duration_s >= 0 AND volume_bytes >= 0', name=op.f('ck_usage_records_non_negative')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_usage_records_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_usage_records_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_records'))
    )
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.create_index('ix_usage_records_started_at', ['started_at'], unique=False)
        batch_op.create_index('ix_usage_records_subscription_started', ['subscription_id', 'started_at'], unique=False)

    op.create_table('alarms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=128), nullable=False),
    sa.Column('source', sa.Enum('alertmanager', 'webhook', 'device', name='alarmsource', native_enum=False, length=20), nullable=False),
    sa.Column('alarm_type', sa.String(length=120), nullable=False),
    sa.Column('perceived_severity', sa.Enum('critical', 'major', 'minor', 'warning', 'indeterminate', 'cleared', name='perceivedseverity', native_enum=False, length=21), nullable=False),
    sa.Column('state', sa.Enum('raised', 'updated', 'cleared', name='alarmstate', native_enum=False, length=15), nullable=False),
    sa.Column('ack_state', sa.Enum('unacknowledged', 'acknowledged', name='ackstate', native_enum=False, length=22), nullable=False),
    sa.Column('acked_by', sa.String(length=64), nullable=True),
    sa.Column('acked_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=400), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('service_affecting', sa.Boolean(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('raised_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', domain.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('repeat_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_alarms_device_id_devices')),
    sa.ForeignKeyConstraint(['parent_id'], ['alarms.id'], name=op.f('fk_alarms_parent_id_alarms')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_alarms_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarms')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_alarms_fingerprint'))
    )
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarms_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alarms_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_alarms_state_severity', ['state', 'perceived_severity'], unique=False)

    op.create_table('fraud_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('is_fraud', sa.Boolean(), nullable=False),
    sa.Column('kind', sa.Enum('sim_box', 'irsf', 'sms_pumping', 'subscription_fraud', 'account_takeover', 'roaming_fraud', name='fraudkind', native_enum=False, length=26), nullable=True),
    sa.Column('source', sa.Enum('seed', 'analyst', name='labelsource', native_enum=False, length=15), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('since', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['fraud_cases.id'], name=op.f('fk_fraud_labels_case_id_fraud_cases')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_fraud_labels_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_labels'))
    )
    with op.batch_alter_table('fraud_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fraud_labels_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', domain.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('created', 'note', 'status', 'assigned', 'resolution', name='ticketeventkind', native_enum=False, length=18), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('from_status', sa.Enum('acknowledged', 'inProgress', 'pending', 'held', 'resolved', 'closed', 'cancelled', 'rejected', name='ticketstatus', native_enum=False, length=20), nullable=True),
    sa.Column('to_status', sa.Enum('acknowledged', 'inProgress', 'pending', 'held', 'resolved', 'closed', 'cancelled', 'rejected', name='ticketstatus', native_enum=False, length=20), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_events_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_events_ticket_id'))

    op.drop_table('ticket_events')
    with op.batch_alter_table('fraud_labels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fraud_labels_subscription_id'))

    op.drop_table('fraud_labels')
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index('ix_alarms_state_severity')
        batch_op.drop_index(batch_op.f('ix_alarms_parent_id'))
        batch_op.drop_index(batch_op.f('ix_alarms_device_id'))

    op.drop_table('alarms')
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_records_subscription_started')
        batch_op.drop_index('ix_usage_records_started_at')

    op.drop_table('usage_records')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_status_sla')
        batch_op.drop_index(batch_op.f('ix_tickets_status'))
        batch_op.drop_index(batch_op.f('ix_tickets_device_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_customer_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_assignee'))

    op.drop_table('tickets')
    with op.batch_alter_table('product_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_orders_state'))
        batch_op.drop_index(batch_op.f('ix_product_orders_customer_id'))

    op.drop_table('product_orders')
    with op.batch_alter_table('payment_allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_allocations_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_allocations_invoice_id'))

    op.drop_table('payment_allocations')
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_lines_invoice_id'))

    op.drop_table('invoice_lines')
    with op.batch_alter_table('fraud_cases', schema=None) as batch_op:
        batch_op.drop_index('uq_fraud_cases_open_subscription', sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
        batch_op.drop_index(batch_op.f('ix_fraud_cases_subscription_id'))

    op.drop_table('fraud_cases')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_state'))
        batch_op.drop_index(batch_op.f('ix_subscriptions_customer_id'))
        batch_op.drop_index(batch_op.f('ix_subscriptions_billing_account_id'))

    op.drop_table('subscriptions')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_billing_account_id'))

    op.drop_table('payments')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_state'))

    op.drop_table('invoices')
    op.drop_table('interfaces')
    with op.batch_alter_table('config_backups', schema=None) as batch_op:
        batch_op.drop_index('ix_config_backups_device_taken')

    op.drop_table('config_backups')
    with op.batch_alter_table('change_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_targets_device_id'))

    op.drop_table('change_targets')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devices_status'))
        batch_op.drop_index(batch_op.f('ix_devices_site_id'))
        batch_op.drop_index(batch_op.f('ix_devices_role'))
        batch_op.drop_index(batch_op.f('ix_devices_mgmt_host'))

    op.drop_table('devices')
    with op.batch_alter_table('billing_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_accounts_customer_id'))

    op.drop_table('billing_accounts')
    op.drop_table('tariffs')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sites_region_id'))

    op.drop_table('sites')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_name'))

    op.drop_table('customers')
    op.drop_table('regions')
    op.drop_table('product_offerings')
    with op.batch_alter_table('processed_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_requests_seen_at'))

    op.drop_table('processed_requests')
    op.drop_table('destinations')
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_requests_state'))

    op.drop_table('change_requests')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_actor'))

    op.drop_table('audit_events')
