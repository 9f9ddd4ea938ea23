"""``Idempotency-Key`` for the API's POST requests (IETF httpapi idempotency-key draft).

* The header is required on the POST endpoints that use :func:`handle` (400 without it).
* Keys are scoped by tenant and user and kept at least 24 hours (``KEY_TTL``).
* The fingerprint is SHA-256 of method, path and body (JSON bodies canonicalised, so key
  order and spacing do not matter).
* First use: the key is recorded ``in_progress`` in its own committed transaction, so a
  concurrent request with the same key sees it; the view runs; a successful (2xx)
  response is stored with the key in the same transaction as the view's writes, then
  replayed for the same key and body (header ``Idempotent-Replayed: true``), creating
  nothing. A failed request (4xx/5xx) releases the key: the client may fix and retry.
* Same key, different fingerprint → 422; same key while the first request is still in
  progress → 409.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from flask import Response, request
from flask_login import current_user
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError

from .. import clock, json_body, tenancy
from ..db import db
from ..errors import UserError
from ..models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, body: bytes, value=json_body.INVALID) -> str:
    """The request's fingerprint; ``value``: its body already parsed
    (``core.json_body.parsed``), parsed here when not given or not UTF-8 JSON."""
    if value is json_body.INVALID:
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            value = json_body.INVALID
    if value is json_body.INVALID:
        canonical = body
    else:
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode("utf-8")
    digest = hashlib.sha256()
    digest.update(method.upper().encode() + b"\n" + path.encode() + b"\n")
    digest.update(canonical)
    return digest.hexdigest()


def _read_key(req) -> str:
    key = (req.headers.get(HEADER) or "").strip()
    if not key:
        raise UserError(f"L'en-tête {HEADER} est obligatoire sur cette requête.", status=400,
                        message_en=f"The {HEADER} header is required.", field=HEADER)
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise UserError(f"En-tête {HEADER} invalide (255 caractères ASCII au plus).",
                        status=400, message_en=f"Invalid {HEADER} header.", field=HEADER)
    return key.strip('"')


#: The caller's record of a key (built once, the tenant's criterion built in).
_KEY_RECORD = tenancy.scoped_select(
    select(IdempotencyKey.__table__).where(
        IdempotencyKey.__table__.c.user_id == bindparam("user_id"),
        IdempotencyKey.__table__.c.key == bindparam("key")))


def _claim(user_id, key: str, print_: str, now: datetime, session=None):
    """Record the key as ours (``None``) or return the existing record (a row with the
    columns of ``idempotency_keys``). Committed at once, so that a concurrent request
    sees it: the request's session commits what it holds so far (the authentication's
    reads and the token's last use; objects are not expired on commit) and the view's
    writes follow in the session's next transaction. ``session``: the request's, when
    the caller holds it."""
    session = session or db.session
    where = {"user_id": user_id, "key": key}
    found = tenancy.scoped_rows(session, _KEY_RECORD, where)
    if found and found[0].expires_at <= now:
        session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))
        found = []
    if found:
        return found[0]
    try:
        tenancy.scoped_insert(session, IdempotencyKey.__table__, {
            "user_id": user_id, "key": key, "fingerprint": print_,
            "state": "in_progress", "created_at": now, "expires_at": now + KEY_TTL})
        session.commit()
    except IntegrityError:  # claimed by a concurrent request in the meantime
        session.rollback()
        found = tenancy.scoped_rows(session, _KEY_RECORD, where)
        return found[0] if found else None
    return None


def _release(session, user_id, key: str) -> None:
    """Forget a claimed key after the view failed (its transaction rolled back), in
    ``session`` (the request's)."""
    session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.key == key,
        IdempotencyKey.state == "in_progress"))
    session.commit()


def _replay(row) -> Response:
    response = Response(row.response_body or "", status=row.response_status or 200,
                        mimetype="application/json")
    if row.response_location:
        response.headers["Location"] = row.response_location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def handle(view) -> Response:
    """Run ``view()`` (which writes to ``db.session`` without committing and returns a
    response) under the request's ``Idempotency-Key``; commits on success."""
    req = request._get_current_object()  # (not a proxy lookup at each use)
    key = _read_key(req)
    user_id = current_user.id
    session = db.session  # the request's: the same object after each commit
    print_ = fingerprint(req.method, req.path, req.get_data(cache=True),
                         json_body.parsed(req))
    now = clock.now()
    existing = _claim(user_id, key, print_, now, session)
    if existing is not None:
        if existing.fingerprint != print_:
            raise UserError(
                f"Cette clé {HEADER} a déjà servi pour une autre requête : utilisez une "
                "nouvelle clé.", status=422,
                message_en="This idempotency key was used with a different request.",
                field=HEADER)
        if existing.state != "done":
            raise UserError("Une requête avec cette clé est encore en cours de traitement : "
                            "réessayez dans un instant.", status=409,
                            message_en="A request with this idempotency key is in progress.")
        return _replay(existing)
    try:
        response = view()
        if not 200 <= response.status_code < 300:
            session.rollback()
            _release(session, user_id, key)
            return response
        # one UPDATE (the claimed row is not loaded again), in the view's transaction
        tenancy.scoped_update(
            session, IdempotencyKey.__table__, {"user_id": user_id, "key": key},
            {"state": "done", "response_status": response.status_code,
             "response_body": response.get_data(as_text=True),
             "response_location": response.headers.get("Location")})
        session.commit()
    except BaseException:
        session.rollback()
        _release(session, user_id, key)
        raise
    return response


def purge_expired(session, now: datetime | None = None) -> int:
    """Delete the current tenant's keys past their expiry (kept ≥ 24 h). Not committed."""
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at < (now or clock.now()))
        .execution_options(synchronize_session=False))
    return result.rowcount or 0
