"""The manager's read-only view of the audit trail: who consulted or changed which object.

Filters: object type and id (e.g. a person's file), actor, action. Nothing here (nor
anywhere in the application) edits or deletes an audit row: see ``core.audit``.
"""

from __future__ import annotations

import json

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from .. import labels, paging
from ..db import db
from ..hookspecs import hookimpl
from ..models import AuditEvent
from ..plugins.types import NavItem
from ..policy import MANAGER, allow

bp = Blueprint("audit", __name__, url_prefix="/t/<tenant>/admin/audit")

PAGE_SIZE = 50



@hookimpl
def ccas_nav_items():
    return [NavItem("Journal d'audit", "audit.events", MANAGER, order=900,
                    section="Administration")]


def _text(name: str, limit: int) -> str:
    return (request.args.get(name) or "").strip()[:limit]


def _page() -> int:
    return paging.page_from(request.args.get("page"))


@bp.route("/")
@allow(MANAGER)
def events():
    filters = {
        "object_type": _text("object_type", 64),
        "object_id": _text("object_id", 64),
        "actor": _text("actor", 300),
        "action": _text("action", 64),
    }
    query = select(AuditEvent)
    if filters["object_type"]:
        query = query.where(AuditEvent.object_type == filters["object_type"])
    if filters["object_id"]:
        query = query.where(AuditEvent.object_id == filters["object_id"])
    if filters["actor"]:
        literal = filters["actor"].lower()
        for char in ("\\", "%", "_"):
            literal = literal.replace(char, "\\" + char)
        pattern = f"%{literal}%"
        query = query.where(func.lower(AuditEvent.actor).like(pattern, escape="\\"))
    if filters["action"]:
        query = query.where(AuditEvent.action == filters["action"])
    page = _page()
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    object_types = sorted(
        ((t, labels.label("audit_object", t, default=t)) for t in db.session.scalars(
            select(AuditEvent.object_type).distinct()) if t), key=lambda item: item[1])
    actions = sorted(
        ((a, labels.audit_action(a)[0]) for a in db.session.scalars(
            select(AuditEvent.action).distinct()) if a), key=lambda item: item[1])
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return render_template(
        "audit/events.html", rows=rows, filters=filters, object_types=object_types,
        actions=actions,
        total=total, page=page, pages=pages, detail_text=_detail_text,
    )


def _detail_text(detail) -> str:
    if not detail:
        return ""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True)[:500]
