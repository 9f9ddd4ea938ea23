"""household members; a case's co-borrower

Revision ID: 0017b
Revises: 0017
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

import core.models.base

revision = "0017b"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "household_members",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("relationship", sa.Enum("spouse", "partner", "child", "parent", "sibling",
                                          "other", name="relationship", native_enum=False,
                                          length=12), nullable=False),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "person_id"], ["persons.tenant_id", "persons.id"],
                                name=op.f("fk_household_members_tenant_id_person_id_persons"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_household_members_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_household_members")),
    )
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.create_index("ix_household_members_person", ["tenant_id", "person_id"],
                              unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("co_borrower_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_tenant_id_co_borrower_id_household_members"),
            "household_members", ["tenant_id", "co_borrower_id"], ["tenant_id", "id"])


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_tenant_id_co_borrower_id_household_members"),
                                 type_="foreignkey")
        batch_op.drop_column("co_borrower_id")
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.drop_index("ix_household_members_person")
    op.drop_table("household_members")
