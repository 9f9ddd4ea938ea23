"""credit_municipal: FICP checks of co-borrowers

Revision ID: cm_0005_co_borrower
Revises: cm_0004
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

from core.plugin_api import UTCDateTime

revision = "cm_0005_co_borrower"
down_revision = "cm_0005"
branch_labels = None
depends_on = "0017b"


def upgrade() -> None:
    op.create_table(
        "credit_municipal_co_ficp_checks",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("result", sa.Enum("clear", "registered", name="ficpresult", native_enum=False,
                                    length=12), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("agent_label", sa.String(length=300), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"],
            name="fk_credit_municipal_co_ficp_checks_case",
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"], ["household_members.tenant_id", "household_members.id"],
            name="fk_credit_municipal_co_ficp_checks_member",
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"],
            name=op.f("fk_credit_municipal_co_ficp_checks_tenant_id_tenants"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id",
                                name=op.f("pk_credit_municipal_co_ficp_checks")),
        sa.UniqueConstraint(
            "tenant_id", "case_id", "member_id",
            name="uq_credit_municipal_co_ficp_checks_member"),
    )


def downgrade() -> None:
    op.drop_table("credit_municipal_co_ficp_checks")
