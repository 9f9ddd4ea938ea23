"""cases: the information notice given to the person (version, day)

Revision ID: 0017e
Revises: 0017d
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0017e"
down_revision = "0017d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_version", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("notice_given_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("notice_given_on")
        batch_op.drop_column("notice_version")
