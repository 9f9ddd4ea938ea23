"""The information notice on the case page: printable, and its giving recorded (version,
day) — ``core.privacy.notice``."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import audit
from ..cases import parse_date
from ..db import db
from ..errors import UserError
from ..hookspecs import hookimpl
from ..models import Case
from ..plugins.types import Panel
from ..policy import CCAS_STAFF, allow
from ..privacy import notice

bp = Blueprint("notice", __name__, url_prefix="/t/<tenant>/cases/<uuid:case_id>/notice")


@hookimpl
def ccas_case_panels(user):
    if str(user.role) in CCAS_STAFF:
        return [Panel("Information de la personne", template="notice/_panel.html", order=8)]
    return None


def _case(case_id: uuid.UUID) -> Case:
    case = db.session.scalar(select(Case).where(Case.id == case_id))
    if case is None:
        abort(404)
    return case


@bp.route("/")
@allow(CCAS_STAFF)
def page(case_id: uuid.UUID):
    """The notice to print and hand over (or read on the phone)."""
    case = _case(case_id)
    audit.record(db.session, "case.read", case, view="notice")
    db.session.commit()
    return render_template("notice/print.html", case=case,
                           notice=notice.notice(db.session, g.tenant))


@bp.route("/", methods=["POST"])
@allow(CCAS_STAFF)
def given(case_id: uuid.UUID):
    case = _case(case_id)
    try:
        day = parse_date(request.form.get("notice_given_on"), "notice_given_on")
        notice.record_given(db.session, g.tenant, case, current_user, day)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("cases.case_page", case_id=case.id))
    db.session.commit()
    flash(f"Notice d'information (version {case.notice_version}) remise le "
          f"{case.notice_given_on:%d/%m/%Y}.", "success")
    return redirect(url_for("cases.case_page", case_id=case.id))


@bp.app_context_processor
def _notice_helpers():
    return {"notice_current_version": lambda: notice.notice_version(g.tenant)}
