"""stored documents: files attached to a case

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

import core.models.base

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_documents",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=True),
        sa.Column("uploaded_by_label", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"],
                                name=op.f("fk_stored_documents_tenant_id_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "uploaded_by_id"], ["users.tenant_id", "users.id"],
                                name=op.f("fk_stored_documents_tenant_id_uploaded_by_id_users")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_stored_documents_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_stored_documents")),
        sa.UniqueConstraint("tenant_id", "storage_key",
                            name=op.f("uq_stored_documents_tenant_id_storage_key")),
    )
    with op.batch_alter_table("stored_documents", schema=None) as batch_op:
        batch_op.create_index("ix_stored_documents_case", ["tenant_id", "case_id", "kind"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stored_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_stored_documents_case")
    op.drop_table("stored_documents")
