"""The benchmarks' data generator (``benchmarks/request_speed.py``, ``generate``): on
PostgreSQL it drops the plain indexes, the primary and unique keys and the foreign keys
for the load, then builds the indexes and the keys again (a repeated key fails the build)
and adds the foreign keys back, validated (``core.rawsql.plain_indexes_deferred``,
``core.rawsql.unique_keys_deferred``, ``core.rawsql.foreign_keys_deferred``); the schema
afterwards is the migrated one."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from core import rawsql
from core.models.suggestion import CaseSuggestion

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "request_speed.py"


def _request_speed():
    spec = importlib.util.spec_from_file_location("bench_request_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _indexes(ccas_database) -> dict:
    """``{table: [(index, columns, unique)]}`` of every table, as the owner sees them."""
    with ccas_database.owner_connection() as conn:
        found = inspect(conn)
        return {table: sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in found.get_indexes(table))
                for table in found.get_table_names()}


def _foreign_keys(ccas_database) -> dict:
    """``{table: [(key, columns, parent, parent columns, options)]}`` of every table, and
    on PostgreSQL each key's definition and whether it is validated."""
    with ccas_database.owner_connection() as conn:
        found = inspect(conn)
        keys = {table: sorted((k["name"], tuple(k["constrained_columns"]), k["referred_table"],
                               tuple(k["referred_columns"]), repr(sorted(k["options"].items())))
                              for k in found.get_foreign_keys(table))
                for table in found.get_table_names()}
        if ccas_database.dialect == "postgresql":
            keys["pg_constraint"] = [tuple(row) for row in conn.execute(text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), "
                "convalidated FROM pg_constraint WHERE contype = 'f' "
                "AND connamespace = 'public'::regnamespace ORDER BY 1, 2"))]
        return keys


def _unique_keys(ccas_database) -> list:
    """The primary keys and unique constraints (PostgreSQL), with their definitions."""
    with ccas_database.owner_connection() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype IN ('p', 'u') "
            "AND connamespace = 'public'::regnamespace ORDER BY 1, 2"))]


def _schema(ccas_database) -> tuple:
    if ccas_database.dialect == "postgresql":
        return (_indexes(ccas_database), _foreign_keys(ccas_database),
                _unique_keys(ccas_database))
    return _indexes(ccas_database), _foreign_keys(ccas_database)


def test_the_benchmark_generator_leaves_every_index_and_foreign_key_in_place(
        app, ccas_database):
    before = _schema(ccas_database)
    assert ("ix_case_search_tokens_token", ("tenant_id", "token", "case_id"), False) \
        in before[0]["case_search_tokens"]
    assert any(key[0] == "fk_case_transitions_tenant_id_case_id_cases"
               for key in before[1]["case_transitions"])
    out = _request_speed().generate(app, 1, 60, 7, dt.date(2026, 11, 20), quiet=True)
    assert out["generated"]["tables"]["cases"] == 60
    assert _schema(ccas_database) == before
    # the open cases' suggestions, asked once the indexes are back, were written
    assert ccas_database.count(CaseSuggestion) > 0
    if ccas_database.dialect == "postgresql":
        assert all(validated for *_key, validated in before[1]["pg_constraint"])
    if ccas_database.dialect == "postgresql":
        with ccas_database.owner_connection() as conn:
            assert conn.execute(text(
                "SELECT count(*) FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE n.nspname = 'public' AND NOT (x.indisvalid AND x.indisready)")
            ).scalar() == 0


@pytest.mark.postgres_only
def test_plain_indexes_are_dropped_during_the_load_and_built_again(app, ccas_database):
    before = _indexes(ccas_database)
    engine = create_engine(app.config["CCAS_DATABASE_OWNER_URL"])
    try:
        with rawsql.plain_indexes_deferred(engine) as dropped:
            names = {name for name, _definition in dropped}
            during = _indexes(ccas_database)
            assert {"ix_case_search_tokens_token", "ix_cases_state"} <= names
            assert not any(index[0] in names for rows in during.values() for index in rows)
            # unique constraints (and primary keys) stay: the load is checked as any other
            assert ("uq_cases_tenant_id_reference", ("tenant_id", "reference"), True) \
                in during["cases"]
    finally:
        engine.dispose()
    assert _indexes(ccas_database) == before


@pytest.mark.postgres_only
def test_plain_indexes_are_built_again_when_the_load_fails(app, ccas_database):
    before = _indexes(ccas_database)
    engine = create_engine(app.config["CCAS_DATABASE_OWNER_URL"])
    try:
        with pytest.raises(RuntimeError), rawsql.plain_indexes_deferred(engine):
            raise RuntimeError("the load failed")
    finally:
        engine.dispose()
    assert _indexes(ccas_database) == before


@pytest.mark.postgres_only
def test_a_failed_generation_leaves_every_index_in_place(app, ccas_database, monkeypatch):
    """A round that fails leaves its transaction open on the tables; the generator ends
    it before the indexes are built again (else the build would wait for it)."""
    from core import demo, tenancy
    from core.models import Person

    before = _schema(ccas_database)

    def failing(session, tenant, **_kwargs):
        with tenancy.tenant_scope(tenant.id):
            session.add(Person(first_name="Échec", last_name="Du Tour"))
            session.flush()  # a row written, the transaction open
        raise RuntimeError("the round failed")

    monkeypatch.setattr(demo, "generate", failing)
    with pytest.raises(RuntimeError, match="the round failed"):
        _request_speed().generate(app, 1, 60, 7, dt.date(2026, 11, 20), quiet=True)
    assert _schema(ccas_database) == before


@pytest.mark.postgres_only
def test_foreign_keys_are_dropped_during_the_load_and_validated_after(app, ccas_database):
    before = _foreign_keys(ccas_database)
    engine = create_engine(app.config["CCAS_DATABASE_OWNER_URL"])
    try:
        with pytest.raises(rawsql.ForeignKeysNotValid) as caught, \
                rawsql.foreign_keys_deferred(engine) as dropped:
            names = {name for _table, name, _definition in dropped}
            assert len(names) == len(before["pg_constraint"])
            assert {"fk_cases_tenant_id_tenants",
                    "fk_case_search_tokens_tenant_id_case_id_cases"} <= names
            during = _foreign_keys(ccas_database)
            assert during["pg_constraint"] == [] and not any(during.values())
            # a row the keys would refuse is written meanwhile: no per-row check now
            _orphan_token(engine, "write")
        after = _foreign_keys(ccas_database)
    finally:
        _orphan_token(engine, "remove")
        with engine.connect() as conn:
            for table, name in conn.execute(text(
                    "SELECT conrelid::regclass::text, conname FROM pg_constraint "
                    "WHERE contype = 'f' AND NOT convalidated")).all():
                conn.exec_driver_sql(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
            conn.commit()
        engine.dispose()
    # the row is caught once the keys are back: validated, not taken on trust
    broken = set(caught.value.names)
    assert broken == {"fk_case_search_tokens_tenant_id_tenants",
                      "fk_case_search_tokens_tenant_id_case_id_cases"}
    # every key is back, the two broken ones marked NOT VALID
    assert [k[:3] for k in after["pg_constraint"]] == [
        (table, name, definition + (" NOT VALID" if name in broken else ""))
        for table, name, definition, _validated in before["pg_constraint"]]
    assert {k[1] for k in after["pg_constraint"] if not k[3]} == broken
    assert _foreign_keys(ccas_database) == before


@pytest.mark.postgres_only
def test_foreign_keys_come_back_validated_when_the_load_fails(app, ccas_database):
    before = _schema(ccas_database)
    engine = create_engine(app.config["CCAS_DATABASE_OWNER_URL"])
    try:
        with pytest.raises(RuntimeError, match="the load failed"), \
                rawsql.foreign_keys_deferred(engine), rawsql.plain_indexes_deferred(engine):
            raise RuntimeError("the load failed")
    finally:
        engine.dispose()
    assert _schema(ccas_database) == before


@pytest.mark.postgres_only
def test_primary_and_unique_keys_are_dropped_during_the_load_and_built_again(
        app, ccas_database):
    before = _schema(ccas_database)
    engine = create_engine(app.config["CCAS_DATABASE_OWNER_URL"])
    try:
        with rawsql.foreign_keys_deferred(engine), \
                rawsql.unique_keys_deferred(engine) as dropped:
            assert {name for _table, name, _definition in dropped} == {
                key[1] for key in before[2]}
            assert {"pk_cases", "uq_cases_tenant_id_reference", "pk_tenants"} <= {
                name for _table, name, _definition in dropped}
            assert _unique_keys(ccas_database) == []
    finally:
        engine.dispose()
    assert _schema(ccas_database) == before


@pytest.mark.postgres_only
def test_a_key_repeated_during_the_load_fails_its_build(app, ccas_database):
    """The keys are not taken on trust: two tenants with the same slug written while the
    unique constraints are off, and the constraint's build refuses them."""
    before = _schema(ccas_database)
    (slug_key,) = [key for key in before[2] if key[0] == "tenants" and key[2] == "u"]
    engine = create_engine(app.config["CCAS_DATABASE_OWNER_URL"])
    try:
        with pytest.raises(rawsql.UniqueKeysBroken) as caught, \
                rawsql.foreign_keys_deferred(engine), rawsql.unique_keys_deferred(engine), \
                engine.connect() as conn:
            for n in (1, 2):
                conn.exec_driver_sql(
                    "INSERT INTO tenants (id, slug, name, city, timezone, settings, "
                    f"created_at) VALUES ({987650 + n}, 'deux-fois', 'Double', 'Ville', "
                    "'Europe/Paris', '{}', now())")
            conn.commit()
        assert caught.value.names == [slug_key[1]]
        assert [key[1] for key in _unique_keys(ccas_database)] == [
            key[1] for key in before[2] if key[1] != slug_key[1]]
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql("DELETE FROM tenants WHERE slug = 'deux-fois'")
            if slug_key[1] not in {key[1] for key in _unique_keys(ccas_database)}:
                conn.exec_driver_sql(f"ALTER TABLE tenants ADD CONSTRAINT {slug_key[1]} "
                                     f"{slug_key[3]}")
            conn.commit()
        engine.dispose()
    assert _schema(ccas_database) == before


@pytest.mark.postgres_only
def test_primary_and_unique_keys_are_built_again_when_the_load_fails(app, ccas_database):
    before = _schema(ccas_database)
    engine = create_engine(app.config["CCAS_DATABASE_OWNER_URL"])
    try:
        with pytest.raises(RuntimeError, match="the load failed"), \
                rawsql.foreign_keys_deferred(engine), rawsql.plain_indexes_deferred(engine), \
                rawsql.unique_keys_deferred(engine):
            raise RuntimeError("the load failed")
    finally:
        engine.dispose()
    assert _schema(ccas_database) == before


def test_foreign_keys_deferred_is_nothing_on_sqlite(app, ccas_database):
    if ccas_database.dialect != "sqlite":
        pytest.skip("SQLite's side")
    engine = create_engine(app.config["CCAS_DATABASE_OWNER_URL"])
    try:
        with rawsql.foreign_keys_deferred(engine) as dropped, \
                rawsql.unique_keys_deferred(engine) as uniques:
            assert dropped == [] and uniques == []
    finally:
        engine.dispose()


def _orphan_token(engine, action: str) -> None:
    """A search token of a tenant and a case that do not exist (as the owner, across
    the wall), or its removal."""
    with engine.connect() as conn:
        rawsql.set_tenant_guc(conn, "", "on", None)
        if action == "write":
            conn.exec_driver_sql(
                "INSERT INTO case_search_tokens (tenant_id, case_id, token) "
                "VALUES (987654, '00000000-0000-4000-8000-000000000001', 'orphelin')")
        else:
            conn.exec_driver_sql("DELETE FROM case_search_tokens WHERE tenant_id = 987654")
        conn.commit()
