"""Server-side sessions (issue 18, finding 1).

The cookie holds only a random id (256 bits); the session's content (who is signed in,
the CSRF secret, a pending second factor, flashed messages) lives in the ``web_sessions``
table, or in Redis when ``CCAS_SESSION_STORAGE_URL`` names one, under the SHA-256 digest
of that id. So a session can be ended for good: logging out deletes it (replaying the old
cookie finds nothing), the sessions page (``/t/<tenant>/account/sessions``) lists one's
sessions and ends one or all the others, and a password change or deactivation ends them
all (``session_version``, checked when the user loads).

One lookup per request that carries the cookie (a primary-key read); a write only when
the content changed, or at most once a minute to note activity. Outside development the
cookie is ``__Host-ccas_session`` (Secure, Path=/, no Domain: it cannot be set by a
sibling domain nor sent over plain HTTP).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, Request, current_app, g, request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import bindparam, delete, select
from werkzeug.datastructures import CallbackDict

from .. import clock, read_only, tenancy
from ..db import give_back_connection
from ..models import WebSession
from .client import client_address

log = logging.getLogger(__name__)

#: Seconds between two notes of activity on an unchanged session.
SEEN_EVERY = 60
#: How long a session that never signed in lives (the sign-in page's CSRF secret).
ANONYMOUS_MINUTES = 30


def cookie_name(app: Flask) -> str:
    """``SESSION_COOKIE_NAME``, set by ``init_app``: ``__Host-ccas_session`` outside
    development, ``ccas_session`` in development and tests (plain HTTP)."""
    return app.config["SESSION_COOKIE_NAME"]


def digest(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8", "replace")).hexdigest()


def account_of(data: dict) -> str:
    """``u:<tenant>:<user>`` or ``o:<operator>`` from Flask-Login's id, ``""`` if none."""
    user_id = str(data.get("_user_id") or "")
    return user_id.rsplit(":", 1)[0] if user_id.count(":") >= 2 else ""


class ServerSession(CallbackDict, SessionMixin):
    """The session's content; ``sid`` is the cookie's value (``None`` until saved)."""

    def __init__(self, initial=None, sid: str | None = None, seen_at: float = 0):
        def changed(_self):
            self.modified = True

        super().__init__(initial or {}, changed)
        self.sid = sid
        self.seen_at = seen_at
        self.modified = False
        self.renew = False

    def regenerate(self) -> None:
        """A new id at the next save (sign-in: no session fixation); the old one ends."""
        self.renew = True
        self.modified = True


@dataclass
class Stored:
    id: str
    data: dict
    seen_at: float
    created_at: datetime | None = None
    user_agent: str = ""
    address: str = ""

    @property
    def seen(self) -> datetime:
        return datetime.fromtimestamp(self.seen_at, UTC)


# -- stores --------------------------------------------------------------------------------


#: :meth:`DatabaseStore.load`'s read, built once: a Core read of a global table
#: (``core.tenancy.global_select``), on every page.
_SESSIONS = WebSession.__table__
_LOAD = tenancy.global_select(
    select(_SESSIONS.c.id, _SESSIONS.c.data, _SESSIONS.c.seen_at, _SESSIONS.c.expires_at)
    .where(_SESSIONS.c.secret_hash == bindparam("key")))


class DatabaseStore:
    """Sessions in ``web_sessions``, each operation in its own short transaction (the
    session is read before the request's tenant is known, and saved after the request's
    transaction ended)."""

    def __init__(self, new_session, engine):
        self.new_session = new_session
        self.engine = engine

    def load(self, key: str, now: datetime) -> Stored | None:
        # Every page: the four columns a request needs, on a connection of its own (no
        # ORM session for one read of a global table: its set-up and commit cost more
        # than the read), ended by a commit, which keeps psycopg's prepared statements.
        with self.engine.connect() as conn:
            row = conn.execute(_LOAD, {"key": key}).first()
            conn.commit()
        if row is None or row.expires_at <= now:
            return None
        return Stored(str(row.id), dict(row.data or {}), row.seen_at.timestamp())

    def save(self, key: str, old_key: str | None, data: dict, now: datetime,
             expires: datetime, user_agent: str, address: str) -> None:
        with self.new_session() as s:
            row = s.scalar(select(WebSession).where(WebSession.secret_hash == (old_key or key)))
            if row is None:
                # a new session: sweep the expired ones now and then (no job needed)
                if secrets.randbelow(50) == 0:
                    s.execute(delete(WebSession).where(WebSession.expires_at <= now))
                row = WebSession(id=uuid.uuid4(), created_at=now)
                s.add(row)
            row.secret_hash = key
            row.data = data
            row.account = account_of(data)
            row.seen_at = now
            row.expires_at = expires
            row.user_agent = user_agent[:200]
            row.address = address[:64]
            s.commit()

    def delete(self, key: str) -> None:
        with self.new_session() as s:
            s.execute(delete(WebSession).where(WebSession.secret_hash == key))
            s.commit()

    def of_account(self, account: str, now: datetime) -> list[Stored]:
        with self.new_session() as s:
            rows = s.scalars(select(WebSession).where(
                WebSession.account == account, WebSession.expires_at > now)
                .order_by(WebSession.seen_at.desc())).all()
            return [Stored(str(r.id), {}, r.seen_at.timestamp(), r.created_at,
                           r.user_agent, r.address) for r in rows]

    def end(self, account: str, session_ids: list[str], keep_key: str | None) -> int:
        """End the ``account``'s sessions named (all when ``session_ids`` is empty) but
        the one whose digest is ``keep_key``."""
        with self.new_session() as s:
            stmt = delete(WebSession).where(WebSession.account == account)
            if session_ids:
                stmt = stmt.where(WebSession.id.in_([uuid.UUID(i) for i in session_ids]))
            if keep_key:
                stmt = stmt.where(WebSession.secret_hash != keep_key)
            count = s.execute(stmt).rowcount
            s.commit()
            return count


class RedisStore:
    """Sessions in Redis (``CCAS_SESSION_STORAGE_URL=redis://…``): one key per session
    with its expiry, one set per account naming its sessions."""

    def __init__(self, url: str, prefix: str = "ccas:session:"):
        # deferred: redis is an optional extra, imported only when configured
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return self.prefix + key

    def load(self, key: str, now: datetime) -> Stored | None:
        raw = self.redis.get(self._key(key))
        if raw is None:
            return None
        doc = json.loads(raw)
        if doc["expires"] <= now.timestamp():
            return None
        return Stored(doc["id"], doc["data"], doc["seen"])

    def save(self, key: str, old_key: str | None, data: dict, now: datetime,
             expires: datetime, user_agent: str, address: str) -> None:
        old = self.redis.get(self._key(old_key or key))
        doc = json.loads(old) if old else {"id": str(uuid.uuid4()),
                                           "created": now.timestamp()}
        if old_key and old_key != key:
            self.delete(old_key)
        doc.update(data=data, seen=now.timestamp(), expires=expires.timestamp(),
                   account=account_of(data), ua=user_agent[:200], addr=address[:64], key=key)
        ttl = max(int((expires - now).total_seconds()), 1)
        pipe = self.redis.pipeline()
        pipe.set(self._key(key), json.dumps(doc), ex=ttl)
        if doc["account"]:
            pipe.sadd(self.prefix + "account:" + doc["account"], key)
        pipe.execute()

    def delete(self, key: str) -> None:
        raw = self.redis.get(self._key(key))
        if raw:
            account = json.loads(raw).get("account")
            if account:
                self.redis.srem(self.prefix + "account:" + account, key)
        self.redis.delete(self._key(key))

    def _docs(self, account: str) -> list[dict]:
        docs = []
        for member in self.redis.smembers(self.prefix + "account:" + account):
            key = member.decode() if isinstance(member, bytes) else member
            raw = self.redis.get(self._key(key))
            if raw is None:
                self.redis.srem(self.prefix + "account:" + account, key)
                continue
            docs.append(json.loads(raw))
        return docs

    def of_account(self, account: str, now: datetime) -> list[Stored]:
        docs = sorted((d for d in self._docs(account) if d["expires"] > now.timestamp()),
                      key=lambda d: -d["seen"])
        return [Stored(d["id"], {}, d["seen"], datetime.fromtimestamp(d["created"], now.tzinfo),
                       d.get("ua", ""), d.get("addr", "")) for d in docs]

    def end(self, account: str, session_ids: list[str], keep_key: str | None) -> int:
        count = 0
        for doc in self._docs(account):
            if (session_ids and doc["id"] not in session_ids) or doc["key"] == keep_key:
                continue
            self.delete(doc["key"])
            count += 1
        return count


def clone(app: Flask, sid: str) -> str | None:
    """A new session with the content of session ``sid`` (its new cookie value), or
    ``None``: for tests that fork a signed-in browser (two tabs share one session;
    two browsers do not)."""
    now = clock.now()
    found = store(app).load(digest(sid), now)
    if found is None:
        return None
    new_sid = secrets.token_urlsafe(32)
    data = dict(found.data)
    store(app).save(digest(new_sid), None, data, now,
                    ServerSessionInterface._expires(app, data, now), "", "")
    return new_sid


def store(app: Flask | None = None):
    app = app or current_app
    return app.extensions["ccas_session_store"]


# -- the interface Flask calls -------------------------------------------------------------


class ServerSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(cookie_name(app))
        if not sid or len(sid) > 100 or request.path.startswith(app.static_url_path or "/static"):
            return ServerSession()
        try:
            found = store(app).load(digest(sid), clock.now())
        except Exception:  # noqa: BLE001 - store down: the view's own query answers 503
            log.warning("session store unreachable: the request goes on without its session")
            return ServerSession()
        if found is None:
            return ServerSession()
        session = ServerSession(found.data, sid=sid, seen_at=found.seen_at)
        session.public_id = found.id
        return session

    def save_session(self, app: Flask, session: ServerSession, response) -> None:
        if session.modified or session.sid:
            _end_request_transaction()
        name = cookie_name(app)
        secure = self.get_cookie_secure(app) or name.startswith("__Host-")
        if not session:
            if session.sid:  # emptied (logout): the session ends, the cookie goes
                try:
                    store(app).delete(digest(session.sid))
                except Exception:  # noqa: BLE001 - store down: the cookie goes all the same
                    log.warning("session store unreachable: the session was not deleted")
                response.delete_cookie(name, path="/", secure=secure, httponly=True,
                                       samesite=self.get_cookie_samesite(app))
            return
        now = clock.now()
        if not (session.modified or session.sid is None
                or now.timestamp() - session.seen_at > SEEN_EVERY):
            return
        old_key = digest(session.sid) if session.sid else None
        if session.sid is None or session.renew:
            session.sid = secrets.token_urlsafe(32)
            session.renew = False
        data = dict(session)
        try:
            store(app).save(digest(session.sid), old_key, data, now,
                            self._expires(app, data, now), _user_agent(), _address())
        except Exception:  # noqa: BLE001 - store down: the answer goes out, unsaved
            log.warning("session store unreachable: the session was not saved")
            return
        response.set_cookie(name, session.sid, path="/", secure=secure, httponly=True,
                            samesite=self.get_cookie_samesite(app))
        response.vary.add("Cookie")

    @staticmethod
    def _expires(app: Flask, data: dict, now: datetime) -> datetime:
        if not account_of(data):
            return now + timedelta(minutes=ANONYMOUS_MINUTES)
        idle = now + timedelta(minutes=app.config["CCAS_SESSION_IDLE_MINUTES"])
        login_at = data.get("ccas_login_at")
        if login_at:
            absolute = datetime.fromtimestamp(login_at, now.tzinfo) + timedelta(
                hours=app.config["CCAS_SESSION_MAX_HOURS"])
            return min(idle, absolute)
        return idle


def _end_request_transaction() -> None:
    """End the request's own transaction now, as the teardown would (the view committed
    what it meant to keep): the session's write must not wait behind it (SQLite locks the
    whole file), and a request holds one connection at a time (the request session's is
    given back: ``core.db.give_back_connection``)."""
    request_session = g.get("ccas_session")
    if request_session is not None:
        read_only.end(request_session)
        give_back_connection(request_session)


def _user_agent() -> str:
    return request.headers.get("User-Agent", "")


def _address() -> str:
    return client_address(request)


def init_app(app: Flask, new_session) -> None:
    url = app.config.get("CCAS_SESSION_STORAGE_URL") or ""
    redis_url = url.startswith(("redis://", "rediss://"))
    app.extensions["ccas_session_store"] = (
        RedisStore(url, app.config.get("CCAS_SESSION_STORAGE_PREFIX") or "ccas:session:")
        if redis_url else DatabaseStore(new_session, app.extensions["ccas_engine"]))
    app.config["SESSION_COOKIE_NAME"] = (
        "ccas_session" if app.config["DEVELOPMENT"] else "__Host-ccas_session")
    app.session_interface = ServerSessionInterface()
