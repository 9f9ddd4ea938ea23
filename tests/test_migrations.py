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


def test_an_existing_database_keeps_its_ficp_cases_with_the_lender_enabled(ccas_database,
                                                                          tmp_path):
    """Up to 0.1 the FICP states were the core's and every tenant's intake used them; from
    0.2 they are the lender plugin's. Upgrading a database where a tenant without the
    plugin has cases in them enables the plugin for that tenant: the cases and their
    history are unchanged and keep their place in the workflow."""
    import uuid
    from datetime import UTC, date, datetime

    from alembic import command
    from sqlalchemy import create_engine, text

    from core import rawsql
    from core.testing.pytest_plugin import OWNER_ROLE

    if ccas_database.dialect == "postgresql":
        name = f"ccas_mig_{uuid.uuid4().hex[:8]}"
        admin = create_engine(ccas_database.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            rawsql.create_database(conn, name, OWNER_ROLE)
        from sqlalchemy.engine import make_url

        url = make_url(ccas_database.owner_url).set(database=name).render_as_string(
            hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config = migrate.alembic_config(url)
    for revision in ("0014", "cm_0002", "cm_0003"):  # the heads of core 0.1
        command.upgrade(config, revision)
    engine = create_engine(url)
    pg = engine.dialect.name == "postgresql"

    def ident(value):
        return value if pg else value.hex

    def at(value):
        return value if pg else value.replace(tzinfo=None)

    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    case_ids = []
    try:
        with engine.begin() as conn:
            if pg:
                conn.execute(text("SELECT set_config('ccas.cross', 'on', true)"))
            conn.execute(text("INSERT INTO tenants (id, slug, name, city, timezone, settings, "
                              "created_at) VALUES (7, 'ancienne', 'CCAS Ancienne', 'Ancienne', "
                              "'Europe/Paris', '{}', :at)"), {"at": at(now)})
            person = uuid.uuid4()
            conn.execute(text(
                "INSERT INTO persons (tenant_id, id, first_name, last_name, birth_date, adults, "
                "children_ages, created_at, last_contact_at) VALUES (7, :id, 'Léa', 'Martin', "
                ":b, 1, '[]', :at, :at)"),
                {"id": ident(person), "b": date(1990, 5, 17), "at": at(now)})
            for number, state in enumerate(("ficp_pending", "ficp_registered", "evaluation")):
                case = uuid.uuid4()
                case_ids.append(case)
                conn.execute(text(
                    "INSERT INTO cases (tenant_id, id, reference, person_id, purpose, "
                    "amount_requested, project, source, state, intake_date, state_changed_at, "
                    "created_at, version) VALUES (7, :id, :ref, :p, 'mobility', 1500, '', "
                    "'phone', :state, :day, :at, :at, 2)"),
                    {"id": ident(case), "ref": f"2026-0000{number + 1}", "p": ident(person),
                     "state": state, "day": date(2026, 11, 2), "at": at(now)})
                conn.execute(text(
                    "INSERT INTO case_transitions (tenant_id, id, case_id, from_state, to_state, "
                    "at, actor_label, reason_text, data) VALUES (7, :id, :c, 'intake', :s, "
                    ":at, 'cli', '', '{}')"),
                    {"id": ident(uuid.uuid4()), "c": ident(case), "s": state, "at": at(now)})
        migrate.upgrade(url)
        with engine.begin() as conn:
            if pg:
                conn.execute(text("SELECT set_config('ccas.cross', 'on', true)"))
            states = conn.execute(text(
                "SELECT enabled FROM plugin_states WHERE tenant_id = 7 "
                "AND plugin_name = 'credit_municipal'")).all()
            kept = conn.execute(text("SELECT state FROM cases WHERE tenant_id = 7 "
                                     "ORDER BY reference")).scalars().all()
            moves = conn.execute(text("SELECT count(*) FROM case_transitions "
                                      "WHERE tenant_id = 7")).scalar()
            current = rawsql.migration_revision(conn)
        assert [bool(row[0]) for row in states] == [True]
        assert kept == ["ficp_pending", "ficp_registered", "evaluation"] and moves == 3
        assert migrate.pending_heads(current) == set()
    finally:
        engine.dispose()
        if pg:
            with admin.connect() as conn:
                rawsql.drop_database(conn, name)
            admin.dispose()
