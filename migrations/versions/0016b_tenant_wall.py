"""the tenant wall the application role cannot lift: ccas_current_tenant() checks a signed
tenant setting with a key kept in a schema only the owner enters (PostgreSQL only); the
policies themselves are rewritten by migrations/env.py (core.rawsql.enable_rls)

Revision ID: 0016b
Revises: 0016
"""
from alembic import op

from core import rawsql


revision = '0016b'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        rawsql.install_wall(bind)


def downgrade() -> None:
    # The policies of every tenant table call ccas_current_tenant(): the wall stays.
    pass
