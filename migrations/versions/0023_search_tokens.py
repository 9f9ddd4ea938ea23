"""case_search_tokens: the case list's name search by equality and range on tokens
(core.case_search), written for the cases already stored

Revision ID: 0023
Revises: 0022
"""
import time

from alembic import op
import sqlalchemy as sa

from core import case_search

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    # A tenant table: migrations/env.py gives it the forced RLS policy on PostgreSQL (and
    # the application role its grants). Byte-order collation on PostgreSQL: the tokens
    # starting with a word are one range of the index.
    keys = [
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"],
            name=op.f("fk_case_search_tokens_tenant_id_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"],
            name=op.f("fk_case_search_tokens_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "case_id", "token",
                                name=op.f("pk_case_search_tokens")),
    ]
    # PostgreSQL: the keys come after the rows (below); SQLite adds none to a table
    # afterwards (development databases: small, written through the keys).
    op.create_table(
        "case_search_tokens",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("token", sa.Text(collation="C") if postgres else sa.Text(),
                  nullable=False),
        *([] if postgres else keys),
    )
    # The tokens of the existing cases: one set-based INSERT … SELECT on PostgreSQL
    # (core.case_search.backfill_sql), into the bare table; then the primary key, the
    # index (each built once over all the rows) and the foreign keys (each checked by
    # one join instead of a trigger per row: at 100,000 cases, 62 s with the keys
    # first, 23 s this way; docs/performance.md).
    started = time.monotonic()
    written = case_search.backfill(bind)
    if postgres:
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        op.create_primary_key("pk_case_search_tokens", "case_search_tokens",
                              ["tenant_id", "case_id", "token"])
    op.create_index("ix_case_search_tokens_token", "case_search_tokens",
                    ["tenant_id", "token", "case_id"])
    if postgres:
        op.create_foreign_key("fk_case_search_tokens_tenant_id_case_id_cases",
                              "case_search_tokens", "cases", ["tenant_id", "case_id"],
                              ["tenant_id", "id"], ondelete="CASCADE")
        op.create_foreign_key("fk_case_search_tokens_tenant_id_tenants",
                              "case_search_tokens", "tenants", ["tenant_id"], ["id"],
                              ondelete="CASCADE")
        if written:
            # (an empty table is left never analyzed: the first bulk load gives it its
            # statistics, core.rawsql.analyze_if_never_analyzed)
            op.execute("ANALYZE case_search_tokens")
    print(f"case_search_tokens: {written} tokens written, keys built, "
          f"{time.monotonic() - started:.1f} s")


def downgrade() -> None:
    op.drop_table("case_search_tokens")
