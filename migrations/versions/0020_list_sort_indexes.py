"""cases: indexes matching the case list's sort (intake date, then reference)

Revision ID: 0020
Revises: 0014
Create Date: 2026-12-05
"""
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The case list sorts by intake date then reference, newest first, with or without a
    # state filter. Indexes on (tenant_id, intake_date) and (tenant_id, state) made
    # PostgreSQL read and sort every case of the newest day(s) (or of the state) for a
    # page of 20; with the reference in the index the page is the index's first 20
    # entries, read backwards. Both keep serving what the shorter ones served.
    op.drop_index("ix_cases_intake_date", table_name="cases")
    op.create_index("ix_cases_intake_date", "cases", ["tenant_id", "intake_date", "reference"])
    op.drop_index("ix_cases_state", table_name="cases")
    op.create_index("ix_cases_state", "cases",
                    ["tenant_id", "state", "intake_date", "reference"])


def downgrade() -> None:
    op.drop_index("ix_cases_state", table_name="cases")
    op.create_index("ix_cases_state", "cases", ["tenant_id", "state"])
    op.drop_index("ix_cases_intake_date", table_name="cases")
    op.create_index("ix_cases_intake_date", "cases", ["tenant_id", "intake_date"])
