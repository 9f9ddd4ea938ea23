"""Engine and session management: one session per request / CLI command.

``db.session`` is bound to the Flask application context; it is closed (rolled back if
not committed) when the context ends, so a failed request never leaves half-written rows.
A transaction that wrote nothing ends with a commit instead (``core.read_only``: on
PostgreSQL a rollback makes psycopg forget its prepared statements).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import case_search, read_only, tenancy

#: The request session's entry for the connection it holds (:meth:`CcasSession.get_bind`).
HELD_CONNECTION = "ccas_held_connection"


class CcasSession(Session):
    """Session class carrying the tenant wall (see ``core.tenancy``)."""

    def get_bind(self, mapper=None, **kw):
        """The request's session (:attr:`Database.session` in a request) runs every
        transaction of the request on one connection it holds, taken at its first
        statement and given back at the request's end: a commit in the middle of a
        request (an idempotency key's claim) commits on that connection and the next
        transaction begins on it, where the session would give it back to the pool and
        take one again (a check-in and a checkout, with its ping on PostgreSQL, for each
        commit). A session bound to a connection begins, commits and rolls back its
        transactions on it and leaves it open (SQLAlchemy's "joining a session into an
        external connection", 2.x). Every other session binds to the engine: a
        command's, a worker's, one made apart."""
        if HELD_CONNECTION not in self.info:
            return super().get_bind(mapper, **kw)
        connection = self.info[HELD_CONNECTION]
        if connection is None or connection.closed:
            connection = self.info[HELD_CONNECTION] = super().get_bind(mapper, **kw).connect()
        return connection


tenancy.install(CcasSession)
case_search.install(CcasSession)


def make_engine(url: str) -> Engine:
    engine = _engine(url)
    read_only.install(engine)
    return engine


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # LIFO: a request takes the connection used last, whose statements psycopg has
    # prepared (``core.read_only``); the others stay idle rather than taking turns
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                         pool_use_lifo=True)


def give_back_connection(session, at_end: bool = False) -> None:
    """Give the connection the request's ``session`` holds back to the pool, when no
    transaction of the session is under way (its next statement takes one again), or
    whatever its state ``at_end`` of the request (closing it rolls back what is open)."""
    held = session.info.get(HELD_CONNECTION)
    if held is not None and (at_end or not session.in_transaction()):
        session.info[HELD_CONNECTION] = None
        held.close()


class Database:
    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}

    def init_app(self, app: Flask) -> None:
        url = app.config["CCAS_DATABASE_URL"]
        if url not in self._engines:
            self._engines[url] = make_engine(url)
        app.extensions["ccas_engine"] = self._engines[url]
        # "control_fully": the request's session holds its connection between its
        # transactions (CcasSession.get_bind); should code run a statement on it apart
        # (which begins a transaction the session did not), the session's next
        # transaction takes that one as its own and its commit commits it, where the
        # default would join it "rollback only" (no COMMIT, no error: the write lost
        # when the connection is given back). Sessions bound to the engine never meet
        # a begun transaction: nothing changes for them.
        app.extensions["ccas_sessionmaker"] = sessionmaker(
            bind=self._engines[url], class_=CcasSession, expire_on_commit=False,
            join_transaction_mode="control_fully",
        )
        app.teardown_appcontext(self._teardown)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["ccas_engine"]

    @property
    def session(self) -> CcasSession:
        # ``g`` resolved once (a context-local lookup costs more than the rest: a page
        # asks for its session some thirty times)
        app_globals = g._get_current_object()
        session = app_globals.get("ccas_session")
        if session is None:
            session = app_globals.ccas_session = current_app.extensions["ccas_sessionmaker"]()
            if has_request_context():
                # a request holds one connection (CcasSession.get_bind); a command or a
                # worker, which may run for hours, takes one per transaction, checked by
                # the pool's ping (a database restarted in between is reconnected)
                session.info[HELD_CONNECTION] = None  # taken at the first statement
        return session

    def new_session(self) -> CcasSession:
        """A session independent from the request's one (background work, retries)."""
        return current_app.extensions["ccas_sessionmaker"]()

    @contextmanager
    def transaction(self) -> Iterator[CcasSession]:
        """Commit the request session at the end of the block, roll back on error."""
        session = self.session
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    @staticmethod
    def _teardown(_exc) -> None:
        session = g.pop("ccas_session", None)
        if session is None:
            return
        try:
            read_only.end(session)
        finally:
            try:
                session.close()
            finally:
                give_back_connection(session, at_end=True)

    def dispose_url(self, url: str) -> None:
        """Close the connections of one database (a scratch copy thrown away)."""
        engine = self._engines.pop(url, None)
        if engine is not None:
            engine.dispose()

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()


db = Database()
