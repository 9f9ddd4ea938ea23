"""credit_municipal: FICP checks

Revision ID: cm_0002
Revises: cm_0001
Create Date: 2026-11-26 15:00:00
"""
import sqlalchemy as sa
from alembic import op

from core.plugin_api import UTCDateTime

revision = "cm_0002"
down_revision = "cm_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_municipal_ficp_checks",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("result", sa.Enum("clear", "registered", name="ficpresult", native_enum=False,
                                    length=12), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("agent_label", sa.String(length=300), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"],
            name=op.f("fk_credit_municipal_ficp_checks_tenant_id_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"],
            name=op.f("fk_credit_municipal_ficp_checks_tenant_id_tenants"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_credit_municipal_ficp_checks")),
        sa.UniqueConstraint("tenant_id", "case_id",
                            name=op.f("uq_credit_municipal_ficp_checks_tenant_id_case_id")),
    )


def downgrade() -> None:
    op.drop_table("credit_municipal_ficp_checks")
