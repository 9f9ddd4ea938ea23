"""ccas_analyze(): the application role gives a table it loads in bulk its first
statistics (core.rawsql.analyze_if_never_analyzed; PostgreSQL only)

Revision ID: 0021
Revises: 0016b
"""
from alembic import op

from core import rawsql

revision = "0021"
down_revision = "0016b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        rawsql.install_analyze(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS public.ccas_analyze(text)")
