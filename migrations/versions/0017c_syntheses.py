"""the social worker's synthesis of a case, versioned

Revision ID: 0017c
Revises: 0017b
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

import core.models.base

revision = "0017c"
down_revision = "0017b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_syntheses",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("resources", sa.Text(), nullable=False),
        sa.Column("prospects", sa.Text(), nullable=False),
        sa.Column("written_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("written_by_id", sa.Uuid(), nullable=True),
        sa.Column("written_by_label", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"],
                                name=op.f("fk_case_syntheses_tenant_id_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "written_by_id"], ["users.tenant_id", "users.id"],
                                name=op.f("fk_case_syntheses_tenant_id_written_by_id_users")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_case_syntheses_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_case_syntheses")),
        sa.UniqueConstraint("tenant_id", "case_id", "number",
                            name=op.f("uq_case_syntheses_tenant_id_case_id_number")),
    )


def downgrade() -> None:
    op.drop_table("case_syntheses")
