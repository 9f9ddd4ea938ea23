# ruff: noqa: E501 - generated constraint names
"""credit_municipal loans: loans, live instalments, repayments, import batches, guarantee calls

Revision ID: cm_0003
Revises: cm_0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from core.plugin_api import UTCDateTime

revision = "cm_0003"
down_revision = "cm_0001"
branch_labels = None
depends_on = "0003"


def upgrade() -> None:
    op.create_table(
        "credit_municipal_import_batches",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_by_id", sa.Uuid(), nullable=True),
        sa.Column("lines_total", sa.Integer(), nullable=False),
        sa.Column("lines_created", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credit_municipal_import_batches_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_credit_municipal_import_batches")),
        sa.UniqueConstraint(
            "tenant_id",
            "file_sha256",
            name=op.f("uq_credit_municipal_import_batches_tenant_id_file_sha256"),
        ),
    )
    op.create_table(
        "credit_municipal_loans",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("annual_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("subsidy_share", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("first_due_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "granted",
                "signed",
                "withdrawn",
                "repaying",
                "repaid",
                "defaulted",
                name="loanstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("offer_valid_until", sa.Date(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("borrower_signed_on", sa.Date(), nullable=True),
        sa.Column("lender_signed_on", sa.Date(), nullable=True),
        sa.Column("ccas_signed_on", sa.Date(), nullable=True),
        sa.Column("lender_signatory", sa.String(length=200), nullable=False),
        sa.Column("ccas_signatory", sa.String(length=200), nullable=False),
        sa.Column(
            "signature_recorded_at", UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("withdrawal_ends_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("disbursed_on", sa.Date(), nullable=True),
        sa.Column("due_day", sa.Integer(), nullable=True),
        sa.Column("late_since", sa.Date(), nullable=True),
        sa.Column("late_alerted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("default_declared_on", sa.Date(), nullable=True),
        sa.Column("default_outstanding", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_credit_municipal_loans_tenant_id_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credit_municipal_loans_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_credit_municipal_loans")),
        sa.UniqueConstraint(
            "tenant_id", "case_id", name=op.f("uq_credit_municipal_loans_tenant_id_case_id")
        ),
        sa.UniqueConstraint(
            "tenant_id", "reference", name=op.f("uq_credit_municipal_loans_tenant_id_reference")
        ),
    )
    with op.batch_alter_table("credit_municipal_loans", schema=None) as batch_op:
        batch_op.create_index(
            "ix_credit_municipal_loans_status", ["tenant_id", "status"], unique=False
        )
    op.create_table(
        "credit_municipal_guarantee_calls",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("guarantor", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("basis", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("called_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "loan_id"],
            ["credit_municipal_loans.tenant_id", "credit_municipal_loans.id"],
            name=op.f(
                "fk_credit_municipal_guarantee_calls_tenant_id_loan_id_credit_municipal_loans"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credit_municipal_guarantee_calls_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "id", name=op.f("pk_credit_municipal_guarantee_calls")
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "loan_id",
            "guarantor",
            name=op.f("uq_credit_municipal_guarantee_calls_tenant_id_loan_id_guarantor"),
        ),
    )
    op.create_table(
        "credit_municipal_installments",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("payment", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("principal", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("interest", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("subsidy", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("borrower_payment", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("balance", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "loan_id"],
            ["credit_municipal_loans.tenant_id", "credit_municipal_loans.id"],
            name=op.f("fk_credit_municipal_installments_tenant_id_loan_id_credit_municipal_loans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credit_municipal_installments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_credit_municipal_installments")),
        sa.UniqueConstraint(
            "tenant_id",
            "loan_id",
            "number",
            name=op.f("uq_credit_municipal_installments_tenant_id_loan_id_number"),
        ),
    )
    with op.batch_alter_table("credit_municipal_installments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_credit_municipal_installments_due", ["tenant_id", "due_date"], unique=False
        )
    op.create_table(
        "credit_municipal_repayments",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "source",
            sa.Enum("manual", "import_", name="repaymentsource", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("external_key", sa.String(length=64), nullable=True),
        sa.Column("interest_part", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("principal_part", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("early", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "batch_id"],
            ["credit_municipal_import_batches.tenant_id", "credit_municipal_import_batches.id"],
            name=op.f(
                "fk_credit_municipal_repayments_tenant_id_batch_id_credit_municipal_import_batches"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "loan_id"],
            ["credit_municipal_loans.tenant_id", "credit_municipal_loans.id"],
            name=op.f("fk_credit_municipal_repayments_tenant_id_loan_id_credit_municipal_loans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credit_municipal_repayments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_credit_municipal_repayments")),
        sa.UniqueConstraint(
            "tenant_id",
            "external_key",
            name=op.f("uq_credit_municipal_repayments_tenant_id_external_key"),
        ),
    )
    with op.batch_alter_table("credit_municipal_repayments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_credit_municipal_repayments_loan", ["tenant_id", "loan_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("credit_municipal_repayments")
    with op.batch_alter_table("credit_municipal_installments", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_municipal_installments_due")
    op.drop_table("credit_municipal_installments")
    op.drop_table("credit_municipal_guarantee_calls")
    with op.batch_alter_table("credit_municipal_loans", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_municipal_loans_status")
    op.drop_table("credit_municipal_loans")
    with op.batch_alter_table("case_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_case_documents_status")
        batch_op.drop_index("ix_case_documents_case")
    op.drop_table("credit_municipal_import_batches")
