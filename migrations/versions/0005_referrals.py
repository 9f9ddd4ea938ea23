"""referrals: partner referrals, their history and attachments, API idempotency keys,
organisations' webhook endpoint and secret

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-26 13:12:07.430444
"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('response_location', sa.String(length=500), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_idempotency_keys_tenant_id_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_idempotency_keys_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('tenant_id', 'user_id', 'key', name=op.f('uq_idempotency_keys_tenant_id_user_id_key'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_expires', ['tenant_id', 'expires_at'], unique=False)

    op.create_table('referrals',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('from_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('to_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('purpose', sa.String(length=24), nullable=False),
    sa.Column('amount_requested', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('consent_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consent_by', sa.String(length=200), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('sent', 'received', 'accepted', 'declined', 'expired', 'in_evaluation', 'submitted_to_lender', 'granted', 'refused', 'reoriented', 'abandoned', 'closed', name='referralstatus', native_enum=False, length=24), nullable=False),
    sa.Column('decline_reason', sa.String(length=80), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('source_case_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_referrals_tenant_id_case_id_cases')),
    sa.ForeignKeyConstraint(['tenant_id', 'created_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_referrals_tenant_id_created_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'from_organisation_id'], ['organisations.tenant_id', 'organisations.id'], name=op.f('fk_referrals_tenant_id_from_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['tenant_id', 'source_case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_referrals_tenant_id_source_case_id_cases')),
    sa.ForeignKeyConstraint(['tenant_id', 'to_organisation_id'], ['organisations.tenant_id', 'organisations.id'], name=op.f('fk_referrals_tenant_id_to_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_referrals_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_from', ['tenant_id', 'from_organisation_id', 'updated_at'], unique=False)
        batch_op.create_index('ix_referrals_to', ['tenant_id', 'to_organisation_id', 'status'], unique=False)
        batch_op.create_index('ix_referrals_updated', ['tenant_id', 'updated_at', 'id'], unique=False)

    op.create_table('referral_attachments',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'referral_id'], ['referrals.tenant_id', 'referrals.id'], name=op.f('fk_referral_attachments_tenant_id_referral_id_referrals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_referral_attachments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_referral_attachments'))
    )
    with op.batch_alter_table('referral_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_referral_attachments_referral', ['tenant_id', 'referral_id'], unique=False)

    op.create_table('referral_status_changes',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=False),
    sa.Column('at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_label', sa.String(length=300), nullable=False),
    sa.Column('reason_code', sa.String(length=80), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'referral_id'], ['referrals.tenant_id', 'referrals.id'], name=op.f('fk_referral_status_changes_tenant_id_referral_id_referrals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_referral_status_changes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_referral_status_changes'))
    )
    with op.batch_alter_table('referral_status_changes', schema=None) as batch_op:
        batch_op.create_index('ix_referral_status_changes_referral', ['tenant_id', 'referral_id'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('webhook_secret', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret')
        batch_op.drop_column('webhook_url')

    with op.batch_alter_table('referral_status_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_status_changes_referral')
    op.drop_table('referral_status_changes')
    with op.batch_alter_table('referral_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_attachments_referral')
    op.drop_table('referral_attachments')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_updated')
        batch_op.drop_index('ix_referrals_to')
        batch_op.drop_index('ix_referrals_from')
    op.drop_table('referrals')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_keys_expires')
    op.drop_table('idempotency_keys')
