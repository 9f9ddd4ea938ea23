"""The request's session holds one connection from its first statement to the request's
end (``core.db.CcasSession.get_bind``): a commit in the middle of a request commits on
it and the next transaction begins on it; the connection goes back to the pool at the
end, a rollback still undoes what was not committed, the tenant still applies to each
transaction, and sessions made apart bind to the engine. A command's session (no
request) takes a connection per transaction, so that one running for hours survives a
database restarted between its transactions."""

from __future__ import annotations

import contextvars

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, Engine

from core import accounts
from core.db import db
from core.models import Organisation


def _in_own_context(app, fn):
    """``fn()`` in a request context of its own (and its application context)."""
    def run():
        with app.test_request_context():
            return fn()
    return contextvars.Context().run(run)


def _in_command(app, fn):
    """``fn()`` in an application context of its own and no request, as a command or a
    worker runs."""
    def run():
        with app.app_context():
            return fn()
    return contextvars.Context().run(run)


def _request(app, tenant, in_tenant, body) -> tuple[dict, object]:
    """``body(session, checked_out, seen)`` as a request of ``tenant`` in a context of its
    own; ``seen["before"]``: the pool's checked-out connections before it."""
    pool = app.extensions["ccas_engine"].pool
    seen = {}

    def request():
        seen["before"] = pool.checkedout()
        with in_tenant(tenant):
            body(db.session, pool.checkedout, seen)

    _in_own_context(app, request)
    return seen, pool


def test_a_request_commits_and_goes_on_on_the_same_connection(app, tenant, in_tenant):
    def body(session, checked_out, seen):
        first = session.connection()
        accounts.create_organisation(session, "Gardée", "association")
        session.commit()
        seen["held"] = checked_out()
        second = session.connection()
        accounts.create_organisation(session, "Défaite", "association")
        session.flush()
        session.rollback()
        third = session.connection()
        seen["names"] = session.scalars(select(Organisation.name)).all()
        seen["same"] = first is second is third and isinstance(first, Connection)

    seen, pool = _request(app, tenant, in_tenant, body)
    assert seen["same"]
    assert seen["held"] == seen["before"] + 1  # one connection the whole request
    assert "Gardée" in seen["names"] and "Défaite" not in seen["names"]
    assert pool.checkedout() == seen["before"]  # given back at the request's end

    def names():
        with in_tenant(tenant):
            return db.session.scalars(select(Organisation.name)).all()

    assert "Gardée" in _in_own_context(app, names)
    assert "Défaite" not in _in_own_context(app, names)


def test_the_tenant_applies_to_the_transaction_after_a_commit(app, tenant, make_tenant,
                                                             in_tenant):
    other = make_tenant("beta-held")

    def request():
        with in_tenant(tenant):
            session = db.session
            accounts.create_organisation(session, "Ici", "association")
            session.commit()
            mine = session.scalars(select(Organisation.name)).all()
        with in_tenant(other):
            theirs = db.session.scalars(select(Organisation.name)).all()
        return mine, theirs

    mine, theirs = _in_own_context(app, request)
    assert "Ici" in mine and "Ici" not in theirs


def test_a_session_made_apart_binds_to_the_engine(app):
    def request():
        apart = db.new_session()
        try:
            return apart.get_bind()
        finally:
            apart.close()

    assert isinstance(_in_own_context(app, request), Engine)


def test_a_request_that_ends_its_transaction_early_gives_its_connection_back(app, tenant,
                                                                            in_tenant):
    """Before the web session's own write (``core.web.sessions``), the request's
    transaction ends and its connection goes back: one connection at a time."""
    from core.db import give_back_connection

    def body(session, checked_out, seen):
        session.scalars(select(Organisation.name)).all()
        give_back_connection(session)  # a transaction under way: kept
        seen["in_transaction"] = checked_out()
        session.commit()
        give_back_connection(session)
        seen["given_back"] = checked_out()
        seen["names"] = session.scalars(select(Organisation.name)).all()  # takes one

    seen, pool = _request(app, tenant, in_tenant, body)
    assert seen["in_transaction"] == seen["before"] + 1
    assert seen["given_back"] == seen["before"]
    assert seen["names"]
    assert pool.checkedout() == seen["before"]


def test_a_write_after_the_held_connection_was_used_apart_is_committed(app, tenant, in_tenant):
    """Code that runs a statement on the request's connection between two of the
    session's transactions (``session.connection()`` kept past a commit) begins a
    transaction the session did not; the session's next commit must still commit (it
    would join that transaction as "rollback only": no COMMIT, no error, the write lost
    when the connection is given back)."""
    def body(session, checked_out, seen):
        held = session.connection()
        session.commit()
        held.exec_driver_sql("SELECT 1")  # begins a transaction outside the session
        accounts.create_organisation(session, "Pas perdue", "association")
        session.commit()
        seen["open"] = held.in_transaction()

    seen, _pool = _request(app, tenant, in_tenant, body)
    assert not seen["open"]

    def names():
        with in_tenant(tenant):
            return db.session.scalars(select(Organisation.name)).all()

    assert "Pas perdue" in _in_own_context(app, names)


def test_a_command_takes_a_connection_per_transaction(app, tenant, in_tenant):
    pool = app.extensions["ccas_engine"].pool

    def command():
        with in_tenant(tenant):
            session = db.session
            before = pool.checkedout()
            first = session.connection()
            session.commit()
            between = pool.checkedout()
            second = session.connection()
            session.commit()
            return isinstance(session.get_bind(), Engine), before, between, first is second

    bound_to_engine, before, between, same = _in_command(app, command)
    assert bound_to_engine and not same
    assert between == before  # given back at each commit, not held


@pytest.mark.postgres_only
def test_a_command_survives_the_database_closing_its_connection_between_transactions(
        app, tenant, in_tenant, ccas_database):
    """A database restarted while a long command (``ccas referrals remind``, a worker)
    waits between two transactions: the next transaction's connection is checked by the
    pool's ping and replaced, where a held one would fail."""
    def command():
        with in_tenant(tenant):
            session = db.session
            pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            session.commit()
            admin = create_engine(ccas_database.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as superuser:  # as a restart would, from outside
                superuser.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.dispose()
            accounts.create_organisation(session, "Après la coupure", "association")
            session.commit()
            return session.scalars(select(Organisation.name)).all()

    assert "Après la coupure" in _in_command(app, command)
