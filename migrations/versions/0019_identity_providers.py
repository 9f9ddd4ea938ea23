"""identity providers: OpenID Connect sign-in per tenant (and per partner organisation),
and the provider subject each account signed in with

Revision ID: 0019
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


revision = '0019'
down_revision = "0017e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A tenant table: migrations/env.py gives it the forced RLS policy on PostgreSQL.
    op.create_table('identity_providers',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('client_secret_sealed', sa.Text(), nullable=False),
    sa.Column('scopes', sa.String(length=500), nullable=False),
    sa.Column('allowed_domains', sa.JSON(), nullable=False),
    sa.Column('trust_unverified_email', sa.Boolean(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'organisation_id'], ['organisations.tenant_id', 'organisations.id'], name=op.f('fk_identity_providers_tenant_id_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_identity_providers_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_identity_providers')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_identity_providers_tenant_id_name'))
    )
    op.create_table('identity_links',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'provider_id'], ['identity_providers.tenant_id', 'identity_providers.id'], name=op.f('fk_identity_links_tenant_id_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_identity_links_tenant_id_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_identity_links_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_identity_links')),
    sa.UniqueConstraint('tenant_id', 'provider_id', 'subject', name=op.f('uq_identity_links_tenant_id_provider_id_subject')),
    sa.UniqueConstraint('tenant_id', 'provider_id', 'user_id', name=op.f('uq_identity_links_tenant_id_provider_id_user_id'))
    )


def downgrade() -> None:
    op.drop_table('identity_links')
    op.drop_table('identity_providers')
