"""referrals: how consent was given, the partner's reported outcome

Revision ID: 0017d
Revises: 0017c
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0017d"
down_revision = "0017c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_method", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_column("outcome")
        batch_op.drop_column("consent_method")
