"""Whether a transaction wrote anything: a request that only read ends with ``COMMIT``.

A request's session is closed at the end of the request, which rolls back what the view
did not commit: a refused form leaves no half-written row. A request that only read has
nothing to roll back, and on PostgreSQL a ``ROLLBACK`` costs more than itself: psycopg
forgets every statement it had prepared on the server when a transaction is rolled back
(``psycopg/_connection_base.py``, ``_rollback_gen``), so with every read-only request
ending that way none of the application's statements was ever prepared, each parsed and
planned again (docs/performance.md, "never prepared"). :func:`install` marks, on the
engine's connections, every statement that may write (anything but a ``SELECT`` or a
``WITH`` without a writing keyword: conservative, a doubtful statement counts as a
write); :func:`wrote_nothing` tells the session's end whether it may commit instead.
Files stored or discarded in the session (``core.storage``) count as writes too.
"""

from __future__ import annotations

import functools
import logging
import re

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: The connection's mark: set when its current transaction ran a statement that may write.
WROTE = "ccas_wrote"
#: Session entries of pending side effects outside the database (``core.storage``).
SIDE_EFFECTS = ("ccas_files_written", "ccas_files_discarded")

_READS = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_WRITING_WORD = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|COPY|CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|LOCK|"
    r"CALL|DO|NOTIFY|LISTEN|PREPARE|EXECUTE|REFRESH|VACUUM|CLUSTER|REINDEX|COMMENT)\b",
    re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def may_write(statement: str) -> bool:
    """Whether ``statement`` may write (conservative: ``True`` unless it is plainly a
    read). Kept per statement text: the search costs about 0.1 ms on a long statement,
    and the statements of the requests are the same few texts (SQLAlchemy's compiled
    cache), whose hash Python keeps."""
    return not _READS.match(statement) or bool(_WRITING_WORD.search(statement))


def install(engine: Engine) -> None:
    """Mark the engine's connections whose transaction ran a statement that may write."""

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.info[WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        if not conn.info.get(WROTE) and may_write(statement):
            conn.info[WROTE] = True


def wrote_nothing(session) -> bool:
    """Whether ``session``'s transaction wrote nothing at all: no pending object, no
    statement that may write on its connection, no file stored or discarded. ``False``
    when in doubt (no transaction, no mark)."""
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    if any(session.info.get(key) for key in SIDE_EFFECTS):
        return False
    return session.connection().info.get(WROTE) is False


def end(session) -> None:
    """End ``session``'s transaction without keeping what the caller did not commit: a
    commit when it wrote nothing (:func:`wrote_nothing`: the same, and psycopg keeps its
    prepared statements), a rollback otherwise. Never raises for a failed commit of
    nothing (logged, rolled back)."""
    try:
        if wrote_nothing(session):
            session.commit()
            return
    except Exception:  # noqa: BLE001 - ending a read must not fail the request
        log.exception("could not end a read-only transaction with a commit")
    session.rollback()
