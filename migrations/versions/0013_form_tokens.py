"""one-time form tokens: spent tokens, so that a form sent twice (or twice at once) is
saved once

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A tenant table: migrations/env.py gives it the forced RLS policy on PostgreSQL.
    op.create_table('form_tokens',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('spent_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('result_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_form_tokens_tenant_id_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_form_tokens_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_form_tokens'))
    )
    with op.batch_alter_table('form_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_form_tokens_spent_at', ['tenant_id', 'spent_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('form_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_form_tokens_spent_at')
    op.drop_table('form_tokens')
