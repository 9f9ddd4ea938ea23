"""A request that wrote nothing ends with COMMIT, one that wrote ends with ROLLBACK unless
it committed (``core.read_only``, ``core.db``): the same data either way, and on
PostgreSQL psycopg keeps its prepared statements across read-only requests."""

from __future__ import annotations

import contextvars

import pytest
from sqlalchemy import event, select, text

from core import accounts, read_only
from core.db import db
from core.models import Organisation


@pytest.mark.parametrize("statement, writes", [
    ("SELECT id FROM cases WHERE tenant_id = ?", False),
    ("  select set_config('ccas.tenant_id', '1', true)", False),
    ("WITH reached AS (SELECT case_id FROM case_transitions) SELECT count(*) FROM reached",
     False),
    ("SELECT updated_at, deleted_reason FROM referrals", False),  # words, not keywords
    ("WITH gone AS (DELETE FROM cases RETURNING id) SELECT count(*) FROM gone", True),
    ("SELECT id FROM idempotency_keys FOR UPDATE", True),  # doubtful: counted as a write
    ("INSERT INTO audit_events (id) VALUES (?)", True),
    ("UPDATE users SET full_name = ?", True),
    ("CREATE TEMPORARY TABLE x (LIKE y)", True),
    ("SAVEPOINT sa_savepoint_1", True),
    ("PRAGMA foreign_keys=ON", True),
])
def test_a_statement_counts_as_a_write_unless_plainly_a_read(statement, writes):
    assert read_only.may_write(statement) is writes


def _ends(app):
    """The engine's ``commit`` and ``rollback`` events, in order."""
    seen: list[str] = []
    engine = app.extensions["ccas_engine"]
    event.listen(engine, "commit", lambda conn: seen.append("commit"))
    event.listen(engine, "rollback", lambda conn: seen.append("rollback"))
    return seen


def _in_own_context(app, fn):
    """``fn()`` in an application context of its own (as a request or a command)."""
    def run():
        with app.app_context():
            return fn()
    return contextvars.Context().run(run)


def test_a_context_that_only_read_commits_and_one_that_wrote_rolls_back(app, tenant,
                                                                        in_tenant):
    ends = _ends(app)

    def read():
        with in_tenant(tenant):
            db.session.scalars(select(Organisation.name)).all()

    def write_without_commit():
        with in_tenant(tenant):
            accounts.create_organisation(db.session, "Jamais enregistrée", "association")
            db.session.flush()

    _in_own_context(app, read)
    assert ends[-1:] == ["commit"]
    _in_own_context(app, write_without_commit)
    assert ends[-1:] == ["rollback"]

    def names():
        with in_tenant(tenant):
            return db.session.scalars(select(Organisation.name)).all()

    assert "Jamais enregistrée" not in _in_own_context(app, names)


def test_a_file_stored_without_its_row_is_still_rolled_back(app, tenant, in_tenant):
    from core import storage

    ends = _ends(app)
    kept = {}

    def store_only():
        with in_tenant(tenant):
            db.session.scalars(select(Organisation.name)).all()
            kept["key"] = storage.stage(db.session, tenant.id, b"%PDF-1.4 orphan")

    _in_own_context(app, store_only)
    assert ends[-1:] == ["rollback"]
    assert not storage.storage().exists(tenant.id, kept["key"])


def test_a_read_only_page_ends_with_a_commit(app, client, users, login):
    login(client, users["manager"])
    client.get("/t/alpha/")  # warm
    ends = _ends(app)
    response = client.get("/t/alpha/")
    assert response.status_code == 200
    assert "rollback" not in ends and ends[-1:] == ["commit"]


def test_postgresql_keeps_prepared_statements_across_read_only_requests(app, tenant,
                                                                       in_tenant):
    if app.extensions["ccas_engine"].dialect.name != "postgresql":
        pytest.skip("PostgreSQL run only (CCAS_TEST_POSTGRES_URL)")
    stmt = select(Organisation.name).where(Organisation.kind == "ccas")

    def read():
        with in_tenant(tenant):
            db.session.scalars(stmt).all()
            connection = db.session.connection()
            return id(connection.connection.driver_connection), connection.scalar(
                text("SELECT count(*) FROM pg_prepared_statements"))

    seen = [_in_own_context(app, read) for _ in range(12)]
    # psycopg prepares a statement at its fifth execution on a connection; the pool
    # hands out the connection used last: by the twelfth read it holds prepared
    # statements (a rollback at the end of each read would have dropped them)
    uses: dict[int, int] = {}
    for connection, count in seen:
        uses[connection] = uses.get(connection, 0) + 1
        if uses[connection] > 6:
            assert count >= 1, seen
    assert max(uses.values()) > 6, uses
