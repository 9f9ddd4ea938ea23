"""referrals: an index matching the referral lists' default order

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05
"""
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The referral lists (the CCAS's and the partner portal's) show the last change of
    # status first (status_changed_at, updated_at, id, descending). No index matched it:
    # at 1,000,000 cases the portal's page sorted the tenant's every referral (82 ms of
    # server time, 176 ms a request, where the updated_at order read 2 ms). With this
    # index the page reads entries backwards until it has its 500 rows.
    op.create_index("ix_referrals_changed", "referrals",
                    ["tenant_id", "status_changed_at", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_referrals_changed", table_name="referrals")
