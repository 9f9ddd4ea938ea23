"""operator second factor: TOTP credentials and recovery codes of platform operators

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('operator_totp_credentials',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_step', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_operator_totp_credentials_operator_id_operators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_totp_credentials')),
    sa.UniqueConstraint('operator_id', name=op.f('uq_operator_totp_credentials_operator_id'))
    )
    op.create_table('operator_totp_recovery_codes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', core.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_operator_totp_recovery_codes_operator_id_operators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_totp_recovery_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_operator_totp_recovery_codes_code_hash'))
    )
    with op.batch_alter_table('operator_totp_recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_totp_recovery_codes_operator_id'), ['operator_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('operator_totp_recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operator_totp_recovery_codes_operator_id'))
    op.drop_table('operator_totp_recovery_codes')
    op.drop_table('operator_totp_credentials')
