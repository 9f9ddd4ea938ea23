"""The database wall the application role cannot lift (issue 18, finding 3), with raw SQL
as the application role on PostgreSQL: no setting it can set shows or changes another
tenant's rows; the tenant is believed only with this transaction's signature."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from core import cases, rawsql

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def two_cities(session, tenant, other_tenant, in_tenant):
    for t in (tenant, other_tenant):
        with in_tenant(t):
            person = cases.create_person(session, cases.PersonData("Mur", f"Ville{t.id}"))
            cases.open_case(session, person, "housing", "300", tenant=t)
            session.commit()
    return tenant, other_tenant


@pytest.fixture
def app_role(ccas_database):
    engine = create_engine(ccas_database.app_url)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def _visible(conn) -> int:
    return conn.execute(text("SELECT count(*) FROM cases")).scalar_one()


TABLES = ("cases", "persons", "audit_events", "users")


@pytest.mark.parametrize("settings", [
    {"ccas.cross": "on"},
    {"ccas.tenant_id": "{beta}"},
    {"ccas.tenant_id": "{beta}", "ccas.tenant_sig": "0" * 64},
    {"ccas.tenant_id": "{beta}", "ccas.cross": "on", "ccas.tenant_sig": "x"},
    {"ccas.tenant_id": "{alpha}"},
])
def test_no_setting_the_app_role_can_set_shows_a_tenants_rows(two_cities, app_role, settings):
    alpha, beta = two_cities
    for local in ("false", "true"):
        with app_role.begin():
            for name, value in settings.items():
                app_role.execute(text(f"SELECT set_config(:n, :v, {local})"),
                                 {"n": name, "v": value.format(alpha=alpha.id, beta=beta.id)})
            for table in TABLES:
                count = app_role.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                assert count == 0, (table, settings, local)


def test_the_app_role_cannot_write_a_tenants_rows(two_cities, app_role, ccas_database):
    alpha, beta = two_cities
    with app_role.begin():
        app_role.execute(text("SELECT set_config('ccas.cross', 'on', true), "
                              "set_config('ccas.tenant_id', :t, true)"), {"t": str(beta.id)})
        changed = app_role.execute(text("UPDATE persons SET last_name = 'X'")).rowcount
        removed = app_role.execute(text("DELETE FROM cases")).rowcount
        assert changed == removed == 0
    with pytest.raises(DBAPIError, match="row-level security"), app_role.begin():
        app_role.execute(text("SELECT set_config('ccas.cross', 'on', true), "
                              "set_config('ccas.tenant_id', :t, true)"), {"t": str(beta.id)})
        app_role.execute(text(
            "INSERT INTO organisations (tenant_id, id, name, kind) "
            "VALUES (:t, :id, 'Intrus', 'other')"), {"t": beta.id, "id": uuid.uuid4()})
    with ccas_database.owner_connection() as owner, owner.begin():
        owner.execute(text("SELECT set_config('ccas.cross', 'on', true)"))
        names = owner.execute(text("SELECT last_name FROM persons")).scalars().all()
    assert "X" not in names and len(names) == 2


def test_the_app_role_cannot_read_the_key_nor_replay_a_signature(two_cities, app_role, app):
    alpha, _beta = two_cities
    with pytest.raises(DBAPIError, match="permission denied"), app_role.begin():
        app_role.execute(text("SELECT key FROM ccas_wall.keys")).all()
    # a signature made for this transaction opens this tenant, in this transaction only
    key = app.extensions["ccas_wall_key"]
    with app_role.begin():
        rawsql.set_tenant_guc(app_role, str(alpha.id), "", key)
        assert _visible(app_role) == 1
        signature = app_role.execute(text("SELECT current_setting('ccas.tenant_sig')")).scalar()
    with app_role.begin():
        app_role.execute(text("SELECT set_config('ccas.tenant_id', :t, true), "
                              "set_config('ccas.tenant_sig', :s, true)"),
                         {"t": str(alpha.id), "s": signature})
        assert _visible(app_role) == 0
    with app_role.begin():  # the wrong key (not the database's): nothing
        rawsql.set_tenant_guc(app_role, str(alpha.id), "", b"guess" * 7)
        assert _visible(app_role) == 0


def test_the_owner_keeps_its_escape_hatch_for_backups_and_data_migrations(
        two_cities, ccas_database):
    with ccas_database.owner_connection() as owner, owner.begin():
        assert _visible(owner) == 0
        owner.execute(text("SELECT set_config('ccas.cross', 'on', true)"))
        assert _visible(owner) == 2
