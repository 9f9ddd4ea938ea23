"""Accompaniment pages: the case's follow-ups and tasks, the social worker's overview, the
blocks of the case page (the lender's agents see only the status) and of the dashboard."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit, cases
from ..db import db
from ..errors import UserError
from ..features import accompaniment
from ..hookspecs import hookimpl
from ..models.accompaniment import CHANNEL_LABELS, TASK_KIND_LABELS
from ..plugins.types import NavItem, Panel
from ..policy import CCAS_STAFF, LENDER, SOCIAL_WORKERS, allow

bp = Blueprint("accompaniment", __name__, url_prefix="/t/<tenant>/accompagnement")

DASHBOARD_LIMIT = 10



@hookimpl
def ccas_case_panels(user):
    role = str(user.role)
    if role in CCAS_STAFF:
        return [Panel("Accompagnement", template="accompaniment/_section.html", order=60)]
    if role in LENDER:  # what the lender may know: that the CCAS follows the borrower
        return [Panel("Accompagnement", template="accompaniment/_lender_status.html",
                      order=60)]
    return None


@hookimpl
def ccas_dashboard_panels(user):
    if str(user.role) in SOCIAL_WORKERS:
        return [Panel("Accompagnement", template="accompaniment/_dashboard.html", order=15)]
    return None


@hookimpl
def ccas_nav_items():
    return [NavItem("Accompagnement", "accompaniment.overview", SOCIAL_WORKERS, order=40,
                    section="Dossiers")]


def _role() -> str:
    return str(current_user.role)


def _worker_filter():
    """A social worker sees the follow-ups of the cases they follow; the manager all."""
    return current_user.id if _role() == "social_worker" else None


def case_block(case) -> dict:
    rows, plan, case_tasks = accompaniment.case_rows(db.session, case)
    today = accompaniment.today()
    return {
        "plan": plan,
        "follow_ups": rows,
        "overdue_ids": {f.id for f in rows if f.done_on is None and f.planned_on
                        and f.planned_on < today},
        "next": next((f for f in rows if f.done_on is None and f.planned_on
                      and f.planned_on >= today), None),
        "tasks": case_tasks,
        "status": accompaniment.STATUS_LABELS[accompaniment.status_of(case_tasks, rows, plan)],
        "open_to_follow": case.state in accompaniment.FOLLOW_STATES,
        "may_read_private": cases.may_read_private_notes(_role()),
        "may_manage": _role() in SOCIAL_WORKERS,
        "today": today,
    }


@bp.app_context_processor
def _helpers():
    def accompaniment_dashboard() -> dict:
        worker = _worker_filter()
        session = db.session
        # light rows (the columns the lists show), not entities with their cases
        return {
            "overdue": accompaniment.overdue_items(session, accompaniment.today(), worker,
                                                   limit=DASHBOARD_LIMIT),
            "tasks": accompaniment.task_items(session, open_only=True, worker_id=worker,
                                              limit=DASHBOARD_LIMIT),
        }

    return {
        "accompaniment_block": case_block,
        "accompaniment_status_of": lambda case: accompaniment.status_label(case, db.session),
        "accompaniment_dashboard": accompaniment_dashboard,
        "channel_labels": CHANNEL_LABELS,
        "task_kind_labels": TASK_KIND_LABELS,
        "change_choices": [(code, label) for code, (label, _k, _a)
                           in accompaniment.CHANGES.items()],
    }


def _page(case, errors=None, values=None, status=200):
    return render_template("accompaniment/page.html", case=case, errors=errors or {},
                           values=values or {}, block=case_block(case)), status


@bp.route("/")
@allow(SOCIAL_WORKERS)
def overview():
    session = db.session
    worker = _worker_filter()
    overdue = accompaniment.overdue(session, accompaniment.today(), worker)
    tasks = accompaniment.tasks(session, open_only=True, worker_id=worker)
    return render_template("accompaniment/overview.html", overdue=overdue, tasks=tasks)


@bp.route("/dossiers/<case_id>")
@allow(CCAS_STAFF)
def case_page(case_id: str):
    case = cases.get_case(db.session, case_id, _role())
    audit.record(db.session, "case.read", case, view="accompaniment")
    db.session.commit()
    return _page(case)


@bp.route("/dossiers/<case_id>/suivis", methods=["POST"])
@allow(SOCIAL_WORKERS)
def record(case_id: str):
    case = cases.get_case(db.session, case_id, _role())
    form = request.form
    values = {k: form.get(k, "") for k in ("follow_up_id", "done_on", "channel",
                                             "duration_minutes", "shared_note",
                                             "private_note")}
    values["final"] = bool(form.get("final"))
    try:
        planned = (accompaniment.get_follow_up(db.session, case, values["follow_up_id"])
                   if values["follow_up_id"] else None)
        accompaniment.record_follow_up(
            db.session, case, current_user,
            accompaniment.FollowUpForm(
                done_on=values["done_on"], channel=values["channel"],
                duration_minutes=values["duration_minutes"],
                shared_note=values["shared_note"], private_note=values["private_note"],
                final=values["final"]),
            planned)
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        return _page(case, exc.errors or {"done_on": [exc.message]}, values, exc.status)
    flash("Suivi enregistré.", "success")
    return redirect(url_for("accompaniment.case_page", case_id=case.id))


@bp.route("/dossiers/<case_id>/changements", methods=["POST"])
@allow(CCAS_STAFF)
def report_change(case_id: str):
    case = cases.get_case(db.session, case_id, _role())
    values = {"change": request.form.get("change", ""),
              "description": request.form.get("description", "")}
    try:
        accompaniment.report_change(db.session, case, current_user, values["change"],
                                    values["description"])
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        return _page(case, exc.errors or {"change": [exc.message]}, values, exc.status)
    flash("Changement signalé : une tâche est ouverte pour le travailleur social.", "success")
    return redirect(url_for("accompaniment.case_page", case_id=case.id))


@bp.route("/taches/<task_id>/traiter", methods=["POST"])
@allow(SOCIAL_WORKERS)
def close_task(task_id: str):
    task = accompaniment.get_task(db.session, task_id)
    case = cases.get_case(db.session, task.case_id, _role())
    outcome = request.form.get("outcome", "")
    try:
        accompaniment.close_task(db.session, task, current_user, outcome)
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        key = f"outcome-{task.id}"
        return _page(case, {key: [exc.message]}, {key: outcome}, exc.status)
    flash("Tâche traitée.", "success")
    return redirect(url_for("accompaniment.case_page", case_id=case.id))
