"""Budget workshop pages: sessions, invitations, registrations, attendance, evaluation and
the manager's report. The secretary invites and registers; social workers and the
manager also create sessions, record attendance and evaluations."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit, clock
from ..db import db
from ..errors import UserError
from ..features import workshops
from ..hookspecs import hookimpl
from ..models.accompaniment import INVITATION_STATUS_LABELS
from ..plugins.types import NavItem
from ..policy import CCAS_STAFF, MANAGER, SOCIAL_WORKERS, allow

bp = Blueprint("workshops", __name__, url_prefix="/t/<tenant>/ateliers")




@hookimpl
def ccas_nav_items():
    return [NavItem("Ateliers budget", "workshops.index", CCAS_STAFF, order=45,
                    section="Activité")]


def _may_manage() -> bool:
    return str(current_user.role) in SOCIAL_WORKERS


def _index(errors=None, values=None, status=200):
    session = db.session
    upcoming = workshops.sessions(session, upcoming=True)
    past = workshops.sessions(session, upcoming=False)
    seats = {ws.id: workshops.seats_taken(session, ws) for ws in upcoming + past}
    return render_template(
        "workshops/index.html", upcoming=upcoming, past=past, seats=seats,
        themes=workshops.themes(session), errors=errors or {}, values=values or {},
        may_manage=_may_manage(),
    ), status


@bp.route("/")
@allow(CCAS_STAFF)
def index():
    return _index()


@bp.route("/themes", methods=["POST"])
@allow(SOCIAL_WORKERS)
def create_theme():
    values = {"title": request.form.get("title", ""),
              "description": request.form.get("description", "")}
    try:
        workshops.create_theme(db.session, current_user, values["title"], values["description"])
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        return _index(exc.errors or {"title": [exc.message]}, values, exc.status)
    flash("Thème créé.", "success")
    return redirect(url_for("workshops.index"))


@bp.route("/seances", methods=["POST"])
@allow(SOCIAL_WORKERS)
def create_session():
    fields = ("theme_id", "day", "time", "duration_minutes", "place", "capacity")
    values = {k: request.form.get(k, "") for k in fields}
    try:
        ws = workshops.create_session(db.session, current_user,
                                      workshops.SessionForm(**values), g.tenant)
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        return _index(exc.errors or {"day": [exc.message]}, values, exc.status)
    flash("Séance créée.", "success")
    return redirect(url_for("workshops.session_page", session_id=ws.id))


def _session_page(ws, errors=None, values=None, status=200, skipped=None):
    session = db.session
    return render_template(
        "workshops/session.html", ws=ws, rows=workshops.invitations(session, ws),
        seats=workshops.seats_taken(session, ws),
        candidates=workshops.invitable_cases(session, ws),
        status_labels=INVITATION_STATUS_LABELS, errors=errors or {}, values=values or {},
        may_manage=_may_manage(), skipped=skipped or [],
        started=ws.starts_at <= _now(), seated=workshops.SEATED,
    ), status


def _now():

    return clock.now()


@bp.route("/seances/<session_id>")
@allow(CCAS_STAFF)
def session_page(session_id: str):
    ws = workshops.get_session(db.session, session_id)
    audit.record(db.session, "workshop.read", ws)
    db.session.commit()
    return _session_page(ws)


@bp.route("/seances/<session_id>/invitations", methods=["POST"])
@allow(CCAS_STAFF)
def invite(session_id: str):
    ws = workshops.get_session(db.session, session_id)
    try:
        created, skipped = workshops.invite(db.session, ws, request.form.getlist("case_ids"),
                                            current_user, g.tenant)
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        return _session_page(ws, exc.errors or {"case_ids": [exc.message]}, status=exc.status)
    for line in skipped:
        flash(line, "error")
    flash(f"Invitations envoyées : {len(created)}.", "success")
    return redirect(url_for("workshops.session_page", session_id=ws.id))


@bp.route("/seances/<session_id>/inscriptions", methods=["POST"])
@allow(CCAS_STAFF)
def register(session_id: str):
    ws = workshops.get_session(db.session, session_id)
    invitation_id = request.form.get("invitation_id")
    try:
        invitation = (workshops.get_invitation(db.session, ws, invitation_id)
                      if invitation_id else None)
        workshops.register(db.session, ws, current_user, invitation,
                           case_id=request.form.get("case_id"))
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        return _session_page(ws, exc.errors or {"case_id": [exc.message]}, status=exc.status)
    flash("Inscription enregistrée.", "success")
    return redirect(url_for("workshops.session_page", session_id=ws.id))


@bp.route("/seances/<session_id>/inscriptions/<invitation_id>/annuler", methods=["POST"])
@allow(CCAS_STAFF)
def cancel(session_id: str, invitation_id: str):
    ws = workshops.get_session(db.session, session_id)
    invitation = workshops.get_invitation(db.session, ws, invitation_id)
    try:
        workshops.cancel_registration(db.session, ws, invitation, current_user)
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        return _session_page(ws, {"case_id": [exc.message]}, status=exc.status)
    flash("Inscription annulée.", "success")
    return redirect(url_for("workshops.session_page", session_id=ws.id))


@bp.route("/seances/<session_id>/inscriptions/<invitation_id>/presence", methods=["POST"])
@allow(SOCIAL_WORKERS)
def attendance(session_id: str, invitation_id: str):
    ws = workshops.get_session(db.session, session_id)
    invitation = workshops.get_invitation(db.session, ws, invitation_id)
    try:
        workshops.record_attendance(db.session, ws, invitation,
                                    request.form.get("attended") == "1", current_user)
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        return _session_page(ws, {f"presence-{invitation.id}": [exc.message]},
                             status=exc.status)
    flash("Présence enregistrée.", "success")
    return redirect(url_for("workshops.session_page", session_id=ws.id))


@bp.route("/seances/<session_id>/inscriptions/<invitation_id>/evaluation", methods=["POST"])
@allow(SOCIAL_WORKERS)
def evaluate(session_id: str, invitation_id: str):
    ws = workshops.get_session(db.session, session_id)
    invitation = workshops.get_invitation(db.session, ws, invitation_id)
    score_key, comment_key = f"score-{invitation.id}", f"comment-{invitation.id}"
    values = {score_key: request.form.get("score", ""),
              comment_key: request.form.get("comment", "")}
    try:
        workshops.evaluate(db.session, invitation, current_user, values[score_key],
                           values[comment_key])
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        key = comment_key if exc.field == "comment" else score_key
        return _session_page(ws, {key: [exc.message]}, values, exc.status)
    flash("Évaluation enregistrée.", "success")
    return redirect(url_for("workshops.session_page", session_id=ws.id))


@bp.route("/rapport")
@allow(MANAGER)
def report():
    tenant = g.tenant
    try:
        year = int(request.args.get("annee") or workshops.default_year(tenant))
    except ValueError:
        year = workshops.default_year(tenant)
    year = min(max(year, 2000), 2100)
    result = workshops.report(db.session, *workshops.year_bounds(year, tenant))
    return render_template("workshops/report.html", year=year, report=result)
