"""server-side web sessions: the cookie holds a random id, the content lives here

Revision ID: 0016
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

import core.models.base  # noqa: F401 - custom column types


revision = '0016'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_web_sessions_secret_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_web_sessions_account', ['account'], unique=False)
        batch_op.create_index('ix_web_sessions_expires_at', ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_web_sessions_expires_at')
        batch_op.drop_index('ix_web_sessions_account')
    op.drop_table('web_sessions')
