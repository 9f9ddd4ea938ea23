"""The manager's read-only view of the audit trail: who consulted or changed which object.

Filters: object type and id (e.g. a person's file), actor, action. Nothing here (nor
anywhere in the application) edits or deletes an audit row: see ``core.audit``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from .. import formats, labels, paging
from ..db import db
from ..hookspecs import hookimpl
from ..models import AuditEvent
from ..models.audit import AUDIT_DETAIL_TEXT, AUDIT_DETAIL_VALUES
from ..plugins.types import NavItem
from ..policy import MANAGER, allow

bp = Blueprint("audit", __name__, url_prefix="/t/<tenant>/admin/audit")

PAGE_SIZE = 50



@hookimpl
def ccas_nav_items():
    return [NavItem("Journal d'audit", "audit.events", MANAGER, order=900,
                    section="Administration")]


#: The journal's count stops here ("plus de 10 000 événements"; pages go on while full).
COUNT_CAP = 10_000


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
    asked = _page()
    # the journal grows with every read: counted up to COUNT_CAP, never read whole
    total = paging.count_at_most(db.session, query.with_only_columns(AuditEvent.id),
                                 COUNT_CAP)
    page = paging.page_within(asked, total, PAGE_SIZE, COUNT_CAP)
    rows = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return render_template(
        "audit/events.html", rows=rows, filters=filters,
        object_types=_choices(labels.vocabulary("audit_object"), filters["object_type"],
                              lambda t: labels.label("audit_object", t, default=t)),
        actions=_choices(labels.vocabulary("audit_action"), filters["action"],
                         lambda a: labels.audit_action(a)[0]),
        pages=paging.Pages(page, total, PAGE_SIZE, COUNT_CAP, shown=len(rows), asked=asked),
        detail_items=detail_items,
    )


def _choices(vocabulary: dict, chosen: str, label) -> list[tuple[str, str]]:
    """A filter's choices: every labelled code (the core's and the plugins'), by label,
    and the one asked for even when it has no label. Not a ``DISTINCT`` of the journal:
    that read every row of it on each view."""
    codes = set(vocabulary) | ({chosen} if chosen else set())
    return sorted(((code, label(code)) for code in codes), key=lambda item: item[1])


#: The detail column shows this many characters of a value of an event's detail, then "…".
DETAIL_SHOWN = 500


@dataclass(frozen=True)
class DetailItem:
    """One entry of an event's detail as the journal shows it: ``label`` the key's French
    name (the key itself when it has none, ``key_is_code``), ``text`` its value in French
    when its vocabulary names it, else as recorded (``value_is_code``)."""

    label: str
    key_is_code: bool
    text: str
    value_is_code: bool


def detail_items(action: str, detail) -> list[DetailItem]:
    """An event's detail as a labelled list, by key: the keys named in French (vocabulary
    ``audit_detail``), the values too where a vocabulary names them
    (``AUDIT_DETAIL_VALUES``: a case's state, the part of a file read…), yes/no and
    numbers as such, empty values left out; anything else as recorded, cut with a
    visible "…" past :data:`DETAIL_SHOWN` characters (never silently; the city's export,
    ``ccas tenant export``, keeps the detail whole)."""
    if not detail or not isinstance(detail, dict):
        return [DetailItem("", False, *_value(detail))] if detail else []
    names = labels.vocabulary("audit_detail")
    items = []
    for key in sorted(detail):
        value = detail[key]
        if value is None or value == "" or value == []:
            continue  # nothing to read (a reason not given)
        name = names.get(key)
        vocabulary = AUDIT_DETAIL_VALUES.get(f"{action}:{key}") or AUDIT_DETAIL_VALUES.get(key)
        named = (labels.vocabulary(vocabulary).get(str(value))
                 if vocabulary and isinstance(value, str) else None)
        text, is_code = (named, False) if named is not None else _value(value)
        if key in AUDIT_DETAIL_TEXT and isinstance(value, str):
            is_code = False  # words for people, not a code
        items.append(DetailItem(name or key, name is None, text, is_code))
    return items


def _value(value) -> tuple[str, bool]:
    """A recorded value as text, and whether it is shown as a code (as recorded)."""
    if isinstance(value, bool):
        return ("oui" if value else "non"), False
    if isinstance(value, int | float):
        return formats.number(value, 0 if isinstance(value, int) else 2), False
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return (text if len(text) <= DETAIL_SHOWN else text[:DETAIL_SHOWN - 1] + "…"), True
