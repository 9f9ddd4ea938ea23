"""Other aids first, on the case page: the plugins' suggestions and their resolution by the
social worker or the manager. The block (``suggestions/_section.html``) is added to the
case page through ``core.web.sections``; this blueprint serves its forms and a page of
its own (used to show a form's errors)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import audit
from ..db import db
from ..errors import UserError
from ..features import suggestions
from ..hookspecs import hookimpl
from ..models import SUGGESTION_STATUS_LABELS, Case, CaseSuggestion, SuggestionStatus
from ..plugins.types import Panel
from ..policy import SOCIAL_WORKERS, allow
from .views import safe_next

bp = Blueprint("suggestions", __name__,
               url_prefix="/t/<tenant>/cases/<uuid:case_id>/suggestions")

STATUS_CHOICES = [
    (s.value, SUGGESTION_STATUS_LABELS[s])
    for s in (SuggestionStatus.mobilised, SuggestionStatus.requested,
              SuggestionStatus.not_applicable)
]



@hookimpl
def ccas_case_panels(user):
    if str(user.role) in SOCIAL_WORKERS:
        return [Panel("Autres aides d'abord", template="suggestions/_section.html",
                      order=40)]
    return None


def _case(case_id: uuid.UUID) -> Case:
    case = db.session.scalar(select(Case).where(Case.id == case_id))
    if case is None:
        abort(404)
    return case


def _suggestion(case: Case, suggestion_id: uuid.UUID) -> CaseSuggestion:
    row = db.session.scalar(
        select(CaseSuggestion).where(CaseSuggestion.id == suggestion_id,
                                     CaseSuggestion.case_id == case.id)
    )
    if row is None:
        abort(404)
    return row


def _back(case: Case) -> str:
    return safe_next(request.form.get("next"),
                     url_for("suggestions.page", case_id=case.id))


def _page(case: Case, errors: dict | None = None, values: dict | None = None, status=200):
    return render_template("suggestions/page.html", case=case, errors=errors or {},
                           suggestion_errors=errors or {},
                           suggestion_values=values or {}), status


@bp.route("/")
@allow(SOCIAL_WORKERS)
def page(case_id: uuid.UUID):
    case = _case(case_id)
    audit.record(db.session, "case.read", case, view="suggestions")
    db.session.commit()
    return _page(case)


@bp.route("/refresh", methods=["POST"])
@allow(SOCIAL_WORKERS)
def refresh(case_id: uuid.UUID):
    case = _case(case_id)
    collected = suggestions.refresh(db.session, case, current_user)
    db.session.commit()
    if collected.failed:
        flash("Certaines extensions n'ont pas pu proposer d'aides : "
              + ", ".join(suggestions.plugin_label(p) for p in collected.failed) + ".",
              "error")
    else:
        flash("Suggestions mises à jour.", "success")
    return redirect(_back(case))


@bp.route("/<uuid:suggestion_id>/resolve", methods=["POST"])
@allow(SOCIAL_WORKERS)
def resolve(case_id: uuid.UUID, suggestion_id: uuid.UUID):
    case = _case(case_id)
    row = _suggestion(case, suggestion_id)
    try:
        suggestions.resolve(db.session, case, row, request.form.get("status", ""),
                            request.form.get("reason"), current_user)
    except UserError as exc:
        db.session.rollback()
        if exc.status != 422:
            abort(exc.status)
        field = f"{exc.field or 'status'}-{suggestion_id}"
        values = {f"status-{suggestion_id}": request.form.get("status", ""),
                  f"reason-{suggestion_id}": request.form.get("reason", "")}
        return _page(case, {field: [exc.message]}, values, 422)
    db.session.commit()
    flash(f"Suggestion « {row.label} » : {SUGGESTION_STATUS_LABELS[row.status]}.", "success")
    return redirect(_back(case))


@bp.route("/<uuid:suggestion_id>/override", methods=["POST"])
@allow(SOCIAL_WORKERS)
def override(case_id: uuid.UUID, suggestion_id: uuid.UUID):
    case = _case(case_id)
    row = _suggestion(case, suggestion_id)
    try:
        suggestions.override(db.session, case, row, request.form.get("override_reason"),
                             current_user)
    except UserError as exc:
        db.session.rollback()
        if exc.status != 422:
            abort(exc.status)
        field = f"override_reason-{suggestion_id}"
        values = {field: request.form.get("override_reason", "")}
        return _page(case, {field: [exc.message]}, values, 422)
    db.session.commit()
    flash(f"Suggestion « {row.label} » outrepassée.", "success")
    return redirect(_back(case))


@bp.app_context_processor
def _suggestion_helpers():
    def case_suggestions(case):
        # row views; whoever resolved one taken from the case page's workers where they
        # are among them (``core.web.cases``), the others read by id
        return suggestions.rows_of(db.session, case, g.get("ccas_case_workers", ()))

    return {
        "case_suggestions": case_suggestions,
        "suggestion_status_choices": STATUS_CHOICES,
        "suggestion_status_labels": SUGGESTION_STATUS_LABELS,
        "suggestion_plugin_label": suggestions.plugin_label,
        "suggestions_open_states": suggestions.OPEN_STATES,
    }
