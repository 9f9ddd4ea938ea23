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
