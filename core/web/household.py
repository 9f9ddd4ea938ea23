"""The household block of the case page: members of the person's household and the
case's co-borrower (``core.cases.household``). The CCAS team edits; the lender's agents
read it once the file is theirs."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import audit, cases
from ..cases import household
from ..db import db
from ..errors import UserError
from ..hookspecs import hookimpl
from ..models import RELATIONSHIP_LABELS, Case
from ..plugins.types import Panel
from ..policy import CASE_READERS, CCAS_STAFF, allow
from .views import safe_next

bp = Blueprint("household", __name__, url_prefix="/t/<tenant>/cases/<uuid:case_id>/household")


@hookimpl
def ccas_case_panels(case, user, session):
    role = str(user.role)
    if role in CASE_READERS and cases.lender_sees_file(session, case, role):
        return [Panel("Foyer", template="household/_panel.html", order=25)]
    return None


def _case(case_id: uuid.UUID) -> Case:
    case = db.session.scalar(select(Case).where(Case.id == case_id))
    if case is None:
        abort(404)
    return case


def _back(case: Case) -> str:
    return safe_next(request.form.get("next"), url_for("household.page", case_id=case.id))


def _page(case: Case, errors=None, values=None, status=200):
    return render_template("household/page.html", case=case, household_errors=errors or {},
                           household_values=values or {}), status


@bp.route("/")
@allow(CCAS_STAFF)
def page(case_id: uuid.UUID):
    case = _case(case_id)
    audit.record(db.session, "case.read", case, view="household")
    db.session.commit()
    return _page(case)


@bp.route("/members", methods=["POST"])
@allow(CCAS_STAFF)
def add(case_id: uuid.UUID):
    case = _case(case_id)
    values = {k: request.form.get(k, "") for k in MEMBER_FIELDS}
    try:
        member = household.add_member(db.session, case.person, values, current_user,
                                      g.tenant)
    except UserError as exc:
        db.session.rollback()
        return _page(case, {f"hh-{k}": v for k, v in exc.errors.items()},
                     {f"hh-{k}": v for k, v in values.items()}, exc.status)
    db.session.commit()
    flash(f"{member.full_name} ajouté(e) au foyer.", "success")
    return redirect(_back(case))


MEMBER_FIELDS = ("first_name", "last_name", "birth_date", "relationship")


@bp.route("/members/<uuid:member_id>/edit", methods=["GET", "POST"])
@allow(CCAS_STAFF)
def edit(case_id: uuid.UUID, member_id: uuid.UUID):
    """Correct a member (a name misspelt, a birth date, the relationship); refused for the
    co-borrower of a file already with the lender, as in the API."""
    case = _case(case_id)
    try:
        member = household.get_member(db.session, case.person, member_id)
    except UserError:
        abort(404)
    if request.method == "GET":
        values = {"first_name": member.first_name, "last_name": member.last_name,
                  "birth_date": member.birth_date.isoformat() if member.birth_date else "",
                  "relationship": member.relationship.value}
        return _member_page(case, member, values=values)
    values = {k: request.form.get(k, "") for k in MEMBER_FIELDS}
    try:
        household.update_member(db.session, member, values, current_user, g.tenant)
    except UserError as exc:
        db.session.rollback()
        errors = exc.errors or {"first_name": [exc.message]}
        return _member_page(case, member, errors, values, exc.status)
    db.session.commit()
    flash(f"Membre du foyer modifié : {member.full_name}.", "success")
    return redirect(url_for("household.page", case_id=case.id))


def _member_page(case: Case, member, errors=None, values=None, status=200):
    return render_template(
        "household/member.html", case=case, member=member,
        household_errors={f"hh-{k}": v for k, v in (errors or {}).items()},
        household_values={f"hh-{k}": v for k, v in (values or {}).items()}), status


@bp.route("/members/<uuid:member_id>/delete", methods=["POST"])
@allow(CCAS_STAFF)
def remove(case_id: uuid.UUID, member_id: uuid.UUID):
    case = _case(case_id)
    try:
        member = household.get_member(db.session, case.person, member_id)
    except UserError:
        abort(404)
    try:
        household.remove_member(db.session, member, current_user, g.tenant)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_back(case))
    db.session.commit()
    flash("Membre du foyer retiré.", "success")
    return redirect(_back(case))


@bp.route("/co-borrower", methods=["POST"])
@allow(CCAS_STAFF)
def co_borrower(case_id: uuid.UUID):
    case = _case(case_id)
    chosen = request.form.get("co_borrower", "")
    try:
        household.set_co_borrower(db.session, case, chosen, current_user, g.tenant)
    except UserError as exc:
        db.session.rollback()
        return _page(case, {"hh-co_borrower": [exc.message]}, {"hh-co_borrower": chosen},
                     exc.status)
    db.session.commit()
    flash("Co-emprunteur enregistré." if chosen else "Plus de co-emprunteur sur ce dossier.",
          "success")
    return redirect(_back(case))


@bp.app_context_processor
def _household_helpers():
    def household_members(case):
        return household.member_rows(db.session, case.person)

    def household_adult(member):
        return household.is_adult(member, cases.local_today(g.tenant))

    def household_age(member):
        return member.age_on(cases.local_today(g.tenant))

    return {
        "household_members": household_members,
        "household_adult": household_adult,
        "household_age": household_age,
        "relationship_labels": RELATIONSHIP_LABELS,
        "household_co_borrower_editable": household.co_borrower_editable,
    }
