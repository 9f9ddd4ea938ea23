"""A table loaded in bulk gets its first statistics inside the loading transaction
(``core.rawsql.analyze_if_never_analyzed``), on PostgreSQL: the foreign-key checks that
follow use the primary key instead of reading every row of the tenant through another
index leading with ``tenant_id`` (the trap of a never-analyzed table)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from core import rawsql
from core.testing.pytest_plugin import APP_ROLE

pytestmark = pytest.mark.postgres_only

# A never-analyzed copy of the cases table, with its indexes: the primary key
# (tenant_id, id) and, among others, ix_cases_state (tenant_id, state, intake_date,
# reference), which the planner took for the foreign-key checks into cases.
TABLE = "probe_first_statistics"


@pytest.fixture
def probe_table(ccas_database):
    owner = create_engine(ccas_database.owner_url)
    with owner.begin() as conn:
        conn.execute(text(f"CREATE TABLE {TABLE} (LIKE cases INCLUDING ALL)"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE ON {TABLE} TO {APP_ROLE}"))
    yield
    with owner.begin() as conn:
        conn.execute(text(f"DROP TABLE {TABLE}"))
    owner.dispose()


def _key_check_plan(conn) -> str:
    """The generic plan of a foreign-key check into the table."""
    conn.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    conn.execute(text(f"PREPARE key_check (integer, uuid) AS SELECT 1 FROM ONLY {TABLE} "
                      "x WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE OF x"))
    plan = "\n".join(row[0] for row in conn.execute(text(
        "EXPLAIN EXECUTE key_check(1, gen_random_uuid())")))
    conn.execute(text("DEALLOCATE key_check"))
    return plan


def test_the_first_bulk_load_analyzes_the_table_and_key_checks_use_the_primary_key(
        ccas_database, probe_table):
    engine = create_engine(ccas_database.app_url)  # the application role
    try:
        with engine.begin() as conn:
            trapped = _key_check_plan(conn)
            conn.execute(text(
                f"INSERT INTO {TABLE} (tenant_id, id, reference, person_id, purpose, "
                "amount_requested, project, source, state, intake_date, state_changed_at, "
                "created_at, version) SELECT 1, gen_random_uuid(), 'REF-' || g, "
                "gen_random_uuid(), 'mobility', 1000, '', 'ccas', 'repaying', current_date, "
                "now(), now(), 1 FROM generate_series(1, 5000) g"))
            assert rawsql.analyze_if_never_analyzed(conn, TABLE) is True
            fixed = _key_check_plan(conn)
            # once analyzed, never again
            assert rawsql.analyze_if_never_analyzed(conn, TABLE) is False
            reltuples = conn.execute(text(
                "SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": TABLE}).scalar()
    finally:
        engine.dispose()
    assert f"{TABLE}_pkey" not in trapped and "Filter: (id = $2)" in trapped  # the trap
    assert f"{TABLE}_pkey" in fixed and "Filter: (id" not in fixed
    assert reltuples == 5000  # the transaction's own rows were sampled


def test_two_first_loads_at_once_do_not_wait_for_each_other(ccas_database, probe_table):
    engine = create_engine(ccas_database.app_url)
    try:
        with engine.connect() as first, engine.connect() as second:
            first.begin()
            assert rawsql.analyze_if_never_analyzed(first, TABLE) is True  # holds the lock
            second.begin()
            second.execute(text("SET LOCAL lock_timeout = '5s'"))
            # still never analyzed for the second (the first has not committed): it skips
            assert rawsql.analyze_if_never_analyzed(second, TABLE) is False
            second.rollback()
            first.rollback()
    finally:
        engine.dispose()


def test_the_function_analyzes_only_tables_of_the_schema(ccas_database):
    engine = create_engine(ccas_database.app_url)
    try:
        for name in ("cases; DROP TABLE cases", "pg_catalog.pg_class", "no_such_table"):
            with engine.connect() as conn, pytest.raises(DBAPIError, match="unknown table"):
                conn.execute(text("SELECT public.ccas_analyze(:t)"), {"t": name})
    finally:
        engine.dispose()
