"""suggestions ("other aids first")

Revision ID: 0008
Revises: 0003
Create Date: 2026-11-26 14:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


revision = '0008'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_suggestions',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('blocking', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('open', 'mobilised', 'requested', 'not_applicable', name='suggestionstatus', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('resolved_by_id', sa.Uuid(), nullable=True),
    sa.Column('resolved_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.Column('overridden_by_id', sa.Uuid(), nullable=True),
    sa.Column('overridden_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_case_suggestions_tenant_id_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'overridden_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_case_suggestions_tenant_id_overridden_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'resolved_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_case_suggestions_tenant_id_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_case_suggestions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_case_suggestions')),
    sa.UniqueConstraint('tenant_id', 'case_id', 'plugin', 'code', name=op.f('uq_case_suggestions_tenant_id_case_id_plugin_code'))
    )
    with op.batch_alter_table('case_suggestions', schema=None) as batch_op:
        batch_op.create_index('ix_case_suggestions_status', ['tenant_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_case_suggestions_status')

    op.drop_table('case_suggestions')
