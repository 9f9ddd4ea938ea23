"""case work: evaluation interviews and budget sheet

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 15:00:00
"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interviews',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('social_worker_id', sa.Uuid(), nullable=True),
    sa.Column('shared_note', sa.Text(), nullable=False),
    sa.Column('private_note', sa.Text(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_interviews_tenant_id_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'social_worker_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_interviews_tenant_id_social_worker_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_interviews_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_interviews'))
    )
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.create_index('ix_interviews_case', ['tenant_id', 'case_id'], unique=False)

    op.create_table('budget_lines',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('resource', 'charge', name='budgetkind', native_enum=False, length=10), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('updated_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'], name=op.f('fk_budget_lines_tenant_id_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_budget_lines_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_budget_lines')),
    sa.UniqueConstraint('tenant_id', 'case_id', 'category', name=op.f('uq_budget_lines_tenant_id_case_id_category'))
    )


def downgrade() -> None:
    op.drop_table('budget_lines')
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.drop_index('ix_interviews_case')
    op.drop_table('interviews')
