"""Writing the audit trail, in the caller's transaction (never committed here)."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import tenancy
from .models import AuditEvent
from .web.client import client_address


class AuditTrailImmutable(RuntimeError):
    """Something tried to change or delete an audit row through the application."""


def _refuse_changes(session, _flush_context, _instances) -> None:
    """No audit row is ever updated or deleted through an ORM session (append-only).

    PostgreSQL backs this with ``REVOKE UPDATE, DELETE ON audit_events`` for the
    application role (``core.rawsql.grant_app_role``)."""
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditTrailImmutable("audit rows cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise AuditTrailImmutable("audit rows cannot be modified")


def _refuse_bulk(state) -> None:
    if (state.is_update or state.is_delete) and any(
        m.class_ is AuditEvent for m in state.all_mappers
    ):
        raise AuditTrailImmutable("audit rows cannot be modified or deleted")


if not event.contains(Session, "before_flush", _refuse_changes):
    event.listen(Session, "before_flush", _refuse_changes)
    event.listen(Session, "do_orm_execute", _refuse_bulk)


def actor_label(actor=None) -> str:
    if actor is None and has_request_context():
        user = current_user._get_current_object()  # one context-local lookup
        actor = user if user is not None and user.is_authenticated else None
    if actor is None:
        return "cli" if not has_request_context() else "anonymous"
    if getattr(actor, "is_operator", False):
        return f"operator:{actor.email}"
    token = getattr(request, "ccas_token_id", None) if has_request_context() else None
    return f"token:{token}:{actor.email}" if token else f"user:{actor.email}"


def record(session, action: str, obj=None, actor=None, **detail) -> AuditEvent:
    """Add an audit row for ``action`` on ``obj`` to ``session`` (same transaction)."""
    event = AuditEvent(
        actor=actor_label(actor),
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "id", "") or "") if obj is not None else "",
        ip=client_address(request) if has_request_context() else None,
        detail={k: _jsonable(v) for k, v in detail.items()},
    )
    session.add(event)
    return event


def record_list_read(session, action: str, shown, actor=None, **detail) -> None:
    """One audit row for a list read (``case.list``, ``referral.list``…) naming the ids of
    the objects ``shown``, in the request's own transaction like every audit row: a list
    of files is a read of each file on it (issue 18). Written at once as one ``INSERT``
    (as :func:`record_now`): no object for the unit of work to track."""
    ids = [str(obj.id) for obj in shown]
    _insert(session, action, None, actor,
            client_address(request) if has_request_context() else None,
            {"ids": ids, "count": len(ids), **detail})


def record_now(session, action: str, obj=None, actor=None, **detail) -> None:
    """Like :func:`record`, as one ``INSERT`` at once in ``session``'s transaction (it
    commits or rolls back with the rest) instead of an object for the next flush: for
    the reads of the hot paths (a case read), where the unit of work's bookkeeping for
    one append-only row cost more than the row. Flushes nothing pending."""
    _insert(session, action, obj, actor,
            client_address(request) if has_request_context() else None, detail)


def _insert(session, action: str, obj, actor, ip, detail: dict) -> None:
    """One audit row as an ``INSERT`` at once, in ``session``'s transaction."""
    tenant_id = tenancy.current_tenant_id()
    if tenant_id is None:
        raise tenancy.TenantNotSet(f"cannot audit {action}: no tenant is set")
    tenancy.scoped_insert(session, AuditEvent.__table__, dict(
        tenant_id=tenant_id,
        actor=actor_label(actor),
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "id", "") or "") if obj is not None else "",
        ip=ip,
        detail={k: _jsonable(v) for k, v in detail.items()},
    ))


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return str(value)
