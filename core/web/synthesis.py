"""The synthesis block of the case page and its form (``core.cases.synthesis``): the
social workers write, the CCAS team reads, the lender reads it once the file is theirs
(in the file summary too)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import audit, cases
from ..cases import synthesis
from ..db import db
from ..errors import UserError
from ..hookspecs import hookimpl
from ..models import Case
from ..plugins.types import Panel
from ..policy import CASE_READERS, SOCIAL_WORKERS, allow

bp = Blueprint("synthesis", __name__, url_prefix="/t/<tenant>/cases/<uuid:case_id>/synthesis")


@hookimpl
def ccas_case_panels(case, user, session):
    role = str(user.role)
    if role in CASE_READERS and cases.lender_sees_file(session, case, role):
        return [Panel("Synthèse", template="synthesis/_panel.html", order=27)]
    return None


def _case(case_id: uuid.UUID) -> Case:
    case = db.session.scalar(select(Case).where(Case.id == case_id))
    if case is None:
        abort(404)
    return case


@bp.route("/", methods=["GET", "POST"])
@allow(SOCIAL_WORKERS)
def edit(case_id: uuid.UUID):
    case = _case(case_id)
    if request.method == "GET":
        audit.record(db.session, "case.read", case, view="synthesis")
        db.session.commit()
        last = synthesis.latest(db.session, case)
        values = {name: getattr(last, name) if last else "" for name, _t in synthesis.SUBJECTS}
        return render_template("synthesis/edit.html", case=case, errors={}, values=values)
    values = {name: request.form.get(name, "") for name, _t in synthesis.SUBJECTS}
    try:
        row = synthesis.write(db.session, case, values, current_user)
    except UserError as exc:
        db.session.rollback()
        return render_template("synthesis/edit.html", case=case, errors=exc.errors,
                               values=values, message=exc.message), exc.status
    db.session.commit()
    flash(f"Synthèse enregistrée (version {row.number}).", "success")
    return redirect(url_for("cases.case_page", case_id=case.id))


@bp.app_context_processor
def _synthesis_helpers():
    return {
        "synthesis_versions": lambda case: synthesis.version_rows(db.session, case),
        # the case page's workers (read already) name most authors without a query
        "synthesis_authors": lambda rows: synthesis.authors(
            db.session, rows, g.get("ccas_case_workers") or ()),
        "synthesis_subjects": synthesis.SUBJECTS,
    }
