"""One-time form tokens: a form sent twice (double click, the browser's "resend the form",
two requests fired at the same instant) is saved once.

Issuing writes nothing: the page carries ``<nonce>.<issued at>.<MAC>``, the MAC
(HMAC-SHA256 keyed with the application's secret key) binding the random nonce and the
time to the form's name, the tenant and the user. A forged, altered, expired or foreign
token is refused like a used one.

Spending records the nonce in ``form_tokens`` (primary key ``(tenant_id, id)``, the unique
key) with ``INSERT … ON CONFLICT DO NOTHING RETURNING id``, in the request's transaction
and before the form's own writes; whether a row comes back says who won:

* a row: this request holds the token. The row commits with what the form creates, or rolls
  back with it (a refused form leaves its token unspent: nothing was saved).
* none: the token was spent already, or is being spent by a request still running; the
  insert waits for that request's transaction (PostgreSQL: the unique index; SQLite:
  the single writer lock), so the answer is given once the first sending is saved. The
  caller answers "already sent" and, when the first sending recorded what it created
  (:meth:`Spent.remember`), redirects to it.

A token is valid :data:`TTL` (longer than any session, ``CCAS_SESSION_MAX_HOURS``); the
rows of expired tokens are deleted by ``ccas referrals remind`` (:func:`purge_expired`).
The table holds no personal data (a nonce, the user, a time, the created record's id).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_login import current_user
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock, tenancy
from ..db import db
from ..models import FormToken

#: How long an issued token may be spent (every session ends before, see config).
TTL = timedelta(hours=24)
#: Clock difference tolerated between the servers that issue and spend a token.
CLOCK_SKEW_SECONDS = 300


def _mac(form: str, tenant_id: int, user_id, nonce: str, issued: int) -> str:
    key = current_app.secret_key
    key = key.encode("utf-8") if isinstance(key, str) else key
    message = "\x1f".join(("ccas-form-token", form, str(tenant_id), str(user_id), nonce,
                           str(issued)))
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


def issue(form: str) -> str:
    """A new token for ``form`` (e.g. ``"intake"``), for the signed-in user of the current
    tenant. Nothing is written."""
    nonce = uuid.uuid4().hex
    issued = int(clock.timestamp())
    mac = _mac(form, tenancy.require_tenant_id(), current_user.id, nonce, issued)
    return f"{nonce}.{issued}.{mac}"


def _nonce(form: str, token: str) -> uuid.UUID | None:
    """The token's nonce if it is genuine, for ``form``, this tenant and user, and not
    expired; ``None`` otherwise."""
    parts = (token or "").strip().split(".")
    if len(parts) != 3:
        return None
    nonce, issued_text, mac = parts
    try:
        parsed = uuid.UUID(hex=nonce)
        issued = int(issued_text)
    except ValueError:
        return None
    expected = _mac(form, tenancy.require_tenant_id(), current_user.id, nonce, issued)
    if not hmac.compare_digest(expected, mac):
        return None
    age = clock.timestamp() - issued
    if age > TTL.total_seconds() or age < -CLOCK_SKEW_SECONDS:
        return None
    return parsed


@dataclass(frozen=True)
class Spent:
    """The outcome of :func:`spend`. ``fresh``: this request holds the token and goes on;
    otherwise a replay, with ``result_id`` the record the first sending created (if it
    remembered it)."""

    fresh: bool
    nonce: uuid.UUID | None = None
    result_id: uuid.UUID | None = None

    def remember(self, result_id: uuid.UUID) -> None:
        """Record what this sending created (same transaction), for replays to find."""
        if not self.fresh or self.nonce is None:
            raise RuntimeError("only the request that spent the token records its result")
        db.session.execute(
            update(FormToken).where(FormToken.id == self.nonce)
            .values(result_id=result_id).execution_options(synchronize_session=False)
        )


def _insert_once(session, values: dict) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (PostgreSQL, SQLite ≥ 3.35):
    whether the row was inserted (no row comes back when the key exists)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    insert = postgresql_insert if postgresql else sqlite_insert
    statement = insert(FormToken).values(**values).on_conflict_do_nothing(
        index_elements=["tenant_id", "id"]).returning(FormToken.id)
    return session.execute(statement).first() is not None


def spend(form: str, token: str) -> Spent:
    """Spend ``token`` in the request's transaction (see the module's docstring). The
    caller commits with the form's writes, or rolls back (the token stays unspent)."""
    nonce = _nonce(form, token)
    if nonce is None:
        return Spent(fresh=False)
    session = db.session
    inserted = _insert_once(session, {
        "tenant_id": tenancy.require_tenant_id(), "id": nonce, "user_id": current_user.id,
        "spent_at": clock.now(),
    })
    if inserted:
        return Spent(fresh=True, nonce=nonce)
    result_id = session.scalar(select(FormToken.result_id).where(FormToken.id == nonce))
    return Spent(fresh=False, nonce=nonce, result_id=result_id)


def purge_expired(session, now: datetime | None = None) -> int:
    """Delete the current tenant's rows of tokens that can no longer be sent (spent more
    than :data:`TTL` ago, so issued earlier still). Not committed."""
    cutoff = (now or clock.now()) - TTL
    result = session.execute(
        delete(FormToken).where(FormToken.spent_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
