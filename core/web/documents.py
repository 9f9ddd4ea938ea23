"""The documents checklist of a case: marking, the printable letter and PDF, the e-mail.

The block (``documents/_section.html``) is added to the case page and a "missing
documents" list to the dashboard through ``core.web.sections``; this blueprint serves the
forms and a page of its own (used to show a form's errors, and without the case page).
"""

from __future__ import annotations

import re
import uuid

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import bindparam, func, select

from .. import audit, cases, formats, tenancy
from ..cases import local_today
from ..cases.items import CASE_ITEM_CORE, CaseItem, case_item
from ..db import db
from ..errors import UserError
from ..features import documents, stored_documents
from ..hookspecs import hookimpl
from ..models import (
    DOCUMENT_STATUS_LABELS,
    Case,
    CaseDocument,
    DocumentStatus,
    State,
    StoredDocument,
)
from ..plugins.types import Panel
from ..policy import CASE_READERS, CCAS_STAFF, FRONT_DESK, allow
from .filters import RowUrl
from .views import safe_next

bp = Blueprint("documents", __name__, url_prefix="/t/<tenant>/cases/<uuid:case_id>/documents")

STATUS_CHOICES = [(s.value, DOCUMENT_STATUS_LABELS[s]) for s in DocumentStatus]



@hookimpl
def ccas_case_panels(case, user, session):
    role = str(user.role)
    out = []
    if role in CCAS_STAFF:
        out.append(Panel("Pièces à fournir", template="documents/_section.html", order=30))
    if role in CASE_READERS and cases.lender_sees_file(session, case, role):
        out.append(Panel("Pièces déposées", template="documents/_files.html", order=31))
    return out or None


@hookimpl
def ccas_dashboard_panels(user):
    if str(user.role) in FRONT_DESK:
        return [Panel("Pièces manquantes", template="documents/_dashboard.html", order=30)]
    return None

_CASE_RULE = re.compile(r"^/t/<tenant>/cases/<(?:uuid:)?case_id>/?$")


def _case_page_endpoint() -> str | None:
    cache = current_app.extensions.setdefault("ccas_case_page_endpoint", {})
    if "endpoint" not in cache:
        cache["endpoint"] = next(
            (rule.endpoint for rule in current_app.url_map.iter_rules()
             if _CASE_RULE.match(rule.rule) and "GET" in (rule.methods or ())),
            None,
        )
    return cache["endpoint"]


def case_page_url(case: Case) -> str | None:
    """The case page (served by the case pages' blueprint), whatever its endpoint name."""
    endpoint = _case_page_endpoint()
    return url_for(endpoint, case_id=case.id) if endpoint else None


def _case(case_id: uuid.UUID) -> Case:
    case = db.session.scalar(select(Case).where(Case.id == case_id))
    if case is None:
        abort(404)
    return case


def _document(case: Case, doc_id: uuid.UUID) -> CaseDocument:
    row = db.session.scalar(
        select(CaseDocument).where(CaseDocument.id == doc_id, CaseDocument.case_id == case.id)
    )
    if row is None:
        abort(404)
    return row


def _back(case: Case) -> str:
    return safe_next(request.form.get("next"), url_for("documents.page", case_id=case.id))


def _page(case: Case, errors: dict | None = None, values: dict | None = None, status=200):
    return render_template("documents/page.html", case=case, document_errors=errors or {},
                           document_values=values or {}), status


@bp.route("/")
@allow(CCAS_STAFF)
def page(case_id: uuid.UUID):
    case = _case(case_id)
    audit.record(db.session, "case.read", case, view="documents")
    db.session.commit()
    return _page(case)


@bp.route("/create", methods=["POST"])
@allow(CCAS_STAFF)
def create(case_id: uuid.UUID):
    """Add to the checklist what the tenant's list (or a plugin) requires and it lacks."""
    case = _case(case_id)
    try:
        if case.state not in documents.EDITABLE_STATES:
            raise UserError("La liste des pièces ne se modifie plus à ce stade du dossier.",
                            status=422)
        added = documents.create_checklist(db.session, case, g.tenant, current_user)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_back(case))
    db.session.commit()
    flash(formats.plural(len(added), "pièce ajoutée", "pièces ajoutées") + " à la liste."
          if added
          else "La liste est déjà complète.", "success")
    return redirect(_back(case))


@bp.route("/<uuid:doc_id>", methods=["POST"])
@allow(CCAS_STAFF)
def mark(case_id: uuid.UUID, doc_id: uuid.UUID):
    case = _case(case_id)
    row = _document(case, doc_id)
    status = request.form.get("status", "")
    note = request.form.get("note")
    try:
        documents.mark(db.session, row, status, current_user, note)
    except UserError as exc:
        db.session.rollback()
        field = f"doc-status-{doc_id}" if exc.field in (None, "status") else f"doc-note-{doc_id}"
        values = {f"doc-status-{doc_id}": status, f"doc-note-{doc_id}": note or ""}
        return _page(case, {field: [exc.message]}, values, exc.status)
    db.session.commit()
    flash(f"« {row.label} » : {row.status_label}.", "success")
    return redirect(_back(case))


@bp.route("/add", methods=["POST"])
@allow(CCAS_STAFF)
def add(case_id: uuid.UUID):
    case = _case(case_id)
    label = request.form.get("label", "")
    try:
        documents.add_document(db.session, case, label, current_user)
    except UserError as exc:
        db.session.rollback()
        return _page(case, {"doc-label": [exc.message]}, {"doc-label": label}, exc.status)
    db.session.commit()
    flash(f"Pièce ajoutée : « {label.strip()} ».", "success")
    return redirect(_back(case))


def _letter(case: Case) -> documents.Letter:
    return documents.letter(g.tenant, case, documents.checklist(db.session, case),
                            local_today(g.tenant))


@bp.route("/letter")
@allow(CCAS_STAFF)
def letter(case_id: uuid.UUID):
    case = _case(case_id)
    data = _letter(case)
    audit.record(db.session, "case.read", case, view="documents_letter")
    db.session.commit()
    return render_template("documents/letter.html", case=case, letter=data)


@bp.route("/letter.pdf")
@allow(CCAS_STAFF)
def letter_pdf(case_id: uuid.UUID):
    case = _case(case_id)
    data = _letter(case)
    audit.record(db.session, "case.read", case, view="documents_letter_pdf")
    db.session.commit()
    return Response(
        documents.letter_pdf(data), mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="pieces-{case.reference}.pdf"'},
    )


@bp.route("/email", methods=["POST"])
@allow(CCAS_STAFF)
def email(case_id: uuid.UUID):
    case = _case(case_id)
    try:
        message = documents.email_list(db.session, g.tenant, case, current_user)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_back(case))
    db.session.commit()
    flash(f"Liste des pièces envoyée par e-mail à {message.recipient}.", "success")
    return redirect(_back(case))


# -- stored documents (the files) ------------------------------------------------------


def _readable_case(case_id: uuid.UUID) -> Case:
    """The case if the user may read its file (``core.cases.get_file_case``); 404
    otherwise."""
    try:
        return cases.get_file_case(db.session, case_id, str(current_user.role))
    except UserError:
        abort(404)


def _stored(case: Case, file_id: uuid.UUID) -> StoredDocument:
    try:
        return stored_documents.get(db.session, case, file_id)
    except UserError:
        abort(404)


@bp.route("/files", methods=["POST"])
@allow(CCAS_STAFF)
def attach(case_id: uuid.UUID):
    """Attach a file (PDF, JPEG or PNG, checked by content) of a given type."""
    case = _case(case_id)
    upload = request.files.get("file")
    values = {k: request.form.get(k, "") for k in ("kind", "issued_on", "expires_on")}
    try:
        doc = stored_documents.attach_upload(
            db.session, g.tenant, case, kind=values["kind"],
            data=upload.read() if upload is not None else b"",
            filename=upload.filename if upload is not None else "",
            issued_on=values["issued_on"], expires_on=values["expires_on"],
            actor=current_user)
    except UserError as exc:
        db.session.rollback()
        field = f"file-{exc.field or 'file'}"
        return _page(case, {field: [exc.message]},
                     {f"file-{k}": v for k, v in values.items()}, exc.status)
    label = stored_documents.kind_label(db.session, g.tenant, case, doc.kind)
    db.session.commit()
    flash(f"Pièce déposée : « {label} ».", "success")
    return redirect(_back(case))


@bp.route("/files/<uuid:file_id>")
@allow(CASE_READERS)
def file(case_id: uuid.UUID, file_id: uuid.UUID):
    """The file itself, to the roles that may read the case's file (audited)."""
    case = _readable_case(case_id)
    doc = _stored(case, file_id)
    try:
        data = stored_documents.read(db.session, doc, current_user)
    except UserError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    name = stored_documents.download_name(doc, case.reference)
    return Response(data, mimetype=doc.content_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@bp.route("/files/<uuid:file_id>/delete", methods=["POST"])
@allow(CCAS_STAFF)
def remove_file(case_id: uuid.UUID, file_id: uuid.UUID):
    case = _case(case_id)
    doc = _stored(case, file_id)
    try:
        stored_documents.remove(db.session, doc, current_user)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_back(case))
    db.session.commit()
    flash("Pièce supprimée.", "success")
    return redirect(_back(case))


def missing_by_case(session, limit: int = 50) -> list[tuple[CaseItem, int]]:
    """Cases waiting for documents (light rows: what the dashboard's table shows), with
    the number still requested (oldest first)."""
    rows = tenancy.scoped_rows(session, _MISSING, {"limit": limit})
    return [(case_item(row), row[6]) for row in rows]


def _missing():
    """The cases waiting for documents, each with its documents still requested counted
    (joined and grouped: a subquery would be refused), under the tenant wall
    (``core.tenancy.scoped_select``): a Core read of the tables."""
    cases, requested = Case.__table__, CaseDocument.__table__
    return tenancy.scoped_select(
        CASE_ITEM_CORE.add_columns(func.count(requested.c.id))
        .join(requested, requested.c.case_id == cases.c.id)
        .where(cases.c.state == State.documents_requested,
               requested.c.status == DocumentStatus.requested)
        .group_by(*CASE_ITEM_CORE.selected_columns)
        .order_by(cases.c.state_changed_at, cases.c.reference)  # a stable order on ties
        .limit(bindparam("limit"))
    )


#: :func:`missing_by_case`'s statement, built once (the dashboard reads it on every visit).
_MISSING = _missing()


def case_page_row_url():
    """:func:`case_page_url` for the rows of a list: built once (``RowUrl``), completed
    per row with the case's id; ``None`` without a case page."""
    endpoint = _case_page_endpoint()
    return RowUrl(endpoint, "case_id") if endpoint else None


@bp.app_context_processor
def _document_helpers():
    # one template render reads the checklist of a case once (the sections and the
    # files' types all ask for it; nothing is written while a page renders)
    read: dict = {}

    def case_documents(case):
        key = ("checklist", case.id)
        if key not in read:
            read[key] = documents.checklist_rows(db.session, case)
        return list(read[key])

    def documents_missing_cases():
        return missing_by_case(db.session)

    def case_files(case):
        return stored_documents.stored_rows(db.session, case)

    def case_file_kinds(case):
        key = ("kinds", case.id)
        if key not in read:
            read[key] = stored_documents.kinds(db.session, g.tenant, case,
                                               checklist=case_documents(case))
        return list(read[key])

    return {
        "case_documents": case_documents,
        "case_files": case_files,
        "documents_today": lambda: local_today(g.tenant),
        "case_file_kinds": case_file_kinds,
        "file_content_labels": stored_documents.CONTENT_LABELS,
        "document_max_mb": stored_documents.max_bytes() // (1024 * 1024),
        "documents_missing_cases": documents_missing_cases,
        "document_status_choices": STATUS_CHOICES,
        "documents_editable_states": documents.EDITABLE_STATES,
        "ccas_case_page_url": case_page_url,
        "case_page_row_url": case_page_row_url,
    }
