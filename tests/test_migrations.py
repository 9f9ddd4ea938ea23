"""Migrations match the models and upgrade from empty on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core import migrate
from core.models import Base


def test_models_and_migrations_do_not_drift(ccas_database):
    with ccas_database.owner_connection() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"run an autogenerate migration: {diff}"


def test_database_is_at_head(ccas_database):
    from core import rawsql

    with ccas_database.owner_connection() as conn:
        assert migrate.pending_heads(rawsql.migration_revision(conn)) == set()


def test_upgrade_is_idempotent(ccas_database):
    migrate.upgrade(ccas_database.owner_url)
    test_database_is_at_head(ccas_database)


def test_an_unmigrated_database_has_every_head_pending():
    assert migrate.pending_heads(set()) == migrate.heads()


def test_autogenerate_writes_custom_column_types_as_core_plugin_api_names():
    """A generated revision (a plugin's branch included) imports ``UTCDateTime`` from
    ``core.plugin_api``, never from a private module."""
    from types import SimpleNamespace

    from alembic.autogenerate import render_python_code
    from alembic.operations import ops
    from sqlalchemy import Column, MetaData, Table, Uuid

    from core.plugin_api import UTCDateTime

    table = Table("probe_events", MetaData(), Column("id", Uuid, primary_key=True),
                  Column("at", UTCDateTime(timezone=True), nullable=False))
    code = render_python_code(ops.UpgradeOps([ops.CreateTableOp.from_table(table)]),
                              render_item=migrate.render_item)
    assert "sa.Column('at', UTCDateTime(timezone=True), nullable=False)" in code
    assert "core.models" not in code
    context = SimpleNamespace(imports=set())
    migrate.render_item("type", UTCDateTime(timezone=True), context)
    assert context.imports == {"from core.plugin_api import UTCDateTime"}
    assert migrate.render_item("type", Uuid(), context) is False
