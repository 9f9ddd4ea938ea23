"""The benchmarks' data generator (``benchmarks/request_speed.py``, ``generate``): on
PostgreSQL it drops the plain indexes for the load and builds them again
(``core.rawsql.plain_indexes_deferred``); the schema afterwards is the migrated one."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from core import rawsql

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


def test_the_benchmark_generator_leaves_every_index_in_place(app, ccas_database):
    before = _indexes(ccas_database)
    assert ("ix_case_search_tokens_token", ("tenant_id", "token", "case_id"), False) \
        in before["case_search_tokens"]
    out = _request_speed().generate(app, 1, 60, 7, dt.date(2026, 11, 20), quiet=True)
    assert out["generated"]["tables"]["cases"] == 60
    assert _indexes(ccas_database) == before
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

    before = _indexes(ccas_database)

    def failing(session, tenant, **_kwargs):
        with tenancy.tenant_scope(tenant.id):
            session.add(Person(first_name="Échec", last_name="Du Tour"))
            session.flush()  # a row written, the transaction open
        raise RuntimeError("the round failed")

    monkeypatch.setattr(demo, "generate", failing)
    with pytest.raises(RuntimeError, match="the round failed"):
        _request_speed().generate(app, 1, 60, 7, dt.date(2026, 11, 20), quiet=True)
    assert _indexes(ccas_database) == before
