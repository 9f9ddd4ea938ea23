"""credit_municipal branch base (no tables yet)

Revision ID: cm_0001
Revises:
Create Date: 2026-11-26
"""

revision = "cm_0001"
down_revision = None
branch_labels = ("credit_municipal",)
depends_on = "0003"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
