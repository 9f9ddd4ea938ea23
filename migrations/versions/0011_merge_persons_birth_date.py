"""merge the feature branches; index persons by birth date

Revision ID: 0011
Revises: 0004, 0005, 0006, 0007, 0008, 0009, 0010
Create Date: 2026-11-26
"""
from alembic import op

revision = "0011"
down_revision = ("0004", "0005", "0006", "0007", "0008", "0009", "0010")
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Duplicate detection and the legacy import look people up by birth date; without
    # this index each import batch scanned the whole persons table.
    op.create_index("ix_persons_birth_date", "persons", ["tenant_id", "birth_date"])


def downgrade() -> None:
    op.drop_index("ix_persons_birth_date", table_name="persons")
