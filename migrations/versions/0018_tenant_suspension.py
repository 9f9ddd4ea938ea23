"""tenants: suspended_at (the operator suspends a city: its pages and API answer 403)

Revision ID: 0018
Revises: 0020 (reserved 0018, chained after main's head at the merge)
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("suspended_at")
