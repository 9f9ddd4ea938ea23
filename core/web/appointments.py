"""Appointments with the social worker: booking (case page block and page), the
per-worker agenda (day and week), the ICS file, moving and the outcome.

Times are typed and shown in the tenant's timezone, stored in UTC (``core.features.appointments``).
"""

from __future__ import annotations

import functools
import uuid
from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import bindparam, select

from .. import audit, clock, tenancy
from ..cases import local_today
from ..cases.items import PersonName
from ..db import db
from ..errors import UserError
from ..features import appointments as appts
from ..features import reminders
from ..hookspecs import hookimpl
from ..models import (
    KIND_LABELS,
    MODE_LABELS,
    Appointment,
    AppointmentKind,
    AppointmentMode,
    AppointmentStatus,
    Case,
    Person,
    User,
)
from ..plugins.types import NavItem, Panel
from ..policy import CCAS_STAFF, SOCIAL_WORKERS, allow
from ..row_views import view_of
from .documents import case_page_url
from .views import safe_next

bp = Blueprint("appointments", __name__, url_prefix="/t/<tenant>")

FIELDS = ("worker", "date", "time", "duration", "mode", "place", "kind")
FRENCH_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")



@hookimpl
def ccas_case_panels(user):
    if str(user.role) in CCAS_STAFF:
        return [Panel("Rendez-vous", template="appointments/_section.html", order=35)]
    return None


@hookimpl
def ccas_dashboard_panels(user):
    if str(user.role) in CCAS_STAFF:
        return [Panel("Rendez-vous du jour", template="appointments/_dashboard.html",
                      order=20)]
    return None


@hookimpl
def ccas_nav_items():
    return [NavItem("Agenda", "appointments.agenda", CCAS_STAFF, order=30, section="Activité")]


def _case(case_id: uuid.UUID) -> Case:
    case = db.session.scalar(select(Case).where(Case.id == case_id))
    if case is None:
        abort(404)
    return case


def _appointment(appointment_id: uuid.UUID) -> Appointment:
    row = db.session.scalar(select(Appointment).where(Appointment.id == appointment_id))
    if row is None:
        abort(404)
    return row


def _slot_from_form(prefix: str = "") -> tuple[appts.Slot, dict]:
    values = {f: request.form.get(prefix + f, "") for f in FIELDS}
    slot = appts.Slot(day=values["date"], time=values["time"],
                      duration_minutes=values["duration"] or 60,
                      mode=values["mode"] or "in_person", place=values["place"],
                      kind=values["kind"] or "intake")
    return slot, values


def _errors(exc: UserError, prefix: str) -> dict:
    raw = exc.errors or {exc.field or "date": [exc.message]}
    return {prefix + (field or "date"): messages for field, messages in raw.items()}


def _book_page(case: Case, errors=None, values=None, status=200):
    return render_template("appointments/book.html", case=case, rdv_errors=errors or {},
                           rdv_values=values or {}), status


@bp.route("/cases/<uuid:case_id>/appointments/new", methods=["GET", "POST"])
@allow(CCAS_STAFF)
def book(case_id: uuid.UUID):
    case = _case(case_id)
    if request.method == "GET":
        audit.record(db.session, "case.read", case, view="appointment_book")
        db.session.commit()
        return _book_page(case)
    slot, values = _slot_from_form("rdv-")
    try:
        appointment = appts.book(db.session, case, values["worker"], slot, current_user,
                                 g.tenant)
    except UserError as exc:
        db.session.rollback()
        if exc.status not in (409, 422):
            abort(exc.status)
        values["next"] = request.form.get("next", "")
        return _book_page(case, _errors(exc, "rdv-"), values, exc.status)
    db.session.commit()
    start = appts.local(appointment.starts_at, g.tenant)
    flash(f"Rendez-vous fixé le {start:%d/%m/%Y à %H:%M} avec "
          f"{appointment.social_worker.full_name or appointment.social_worker.email}.",
          "success")
    return redirect(safe_next(request.form.get("next"),
                              url_for("appointments.show", appointment_id=appointment.id)))


def _show_page(row: Appointment, errors=None, values=None, status=200):
    return render_template("appointments/show.html", appointment=row, case=row.case,
                           start=appts.local(row.starts_at, g.tenant),
                           end=appts.local(row.ends_at, g.tenant),
                           rdv_errors=errors or {}, rdv_values=values or {}), status


@bp.route("/appointments/<uuid:appointment_id>")
@allow(CCAS_STAFF)
def show(appointment_id: uuid.UUID):
    row = _appointment(appointment_id)
    audit.record(db.session, "case.read", row.case, view="appointment")
    db.session.commit()
    return _show_page(row)


@bp.route("/appointments/<uuid:appointment_id>/outcome", methods=["POST"])
@allow(CCAS_STAFF)
def outcome(appointment_id: uuid.UUID):
    row = _appointment(appointment_id)
    status, note = request.form.get("status", ""), request.form.get("note", "")
    try:
        appts.record_outcome(db.session, row, status, note, current_user)
    except UserError as exc:
        db.session.rollback()
        field = "outcome-note" if exc.field == "note" else "outcome-status"
        return _show_page(row, {field: [exc.message]},
                          {"outcome-status": status, "outcome-note": note}, exc.status)
    db.session.commit()
    flash(f"Rendez-vous : {row.status_label}.", "success")
    return redirect(safe_next(request.form.get("next"),
                              url_for("appointments.show", appointment_id=row.id)))


@bp.route("/appointments/<uuid:appointment_id>/move", methods=["POST"])
@allow(CCAS_STAFF)
def move(appointment_id: uuid.UUID):
    row = _appointment(appointment_id)
    slot, values = _slot_from_form("move-")
    try:
        new = appts.move(db.session, row, slot, values["worker"] or None, current_user,
                         g.tenant)
    except UserError as exc:
        db.session.rollback()
        if exc.status not in (409, 422):
            abort(exc.status)
        return _show_page(row, _errors(exc, "move-"), values, exc.status)
    db.session.commit()
    start = appts.local(new.starts_at, g.tenant)
    flash(f"Rendez-vous déplacé au {start:%d/%m/%Y à %H:%M}.", "success")
    return redirect(url_for("appointments.show", appointment_id=new.id))


@bp.route("/appointments/<uuid:appointment_id>/rendez-vous.ics")
@allow(CCAS_STAFF)
def ics(appointment_id: uuid.UUID):
    row = _appointment(appointment_id)
    text = appts.ics_text(row, g.tenant)
    audit.record(db.session, "case.read", row.case, view="appointment_ics")
    db.session.commit()
    return Response(
        text.encode("utf-8"), mimetype="text/calendar",
        headers={"Content-Type": "text/calendar; charset=utf-8",
                 "Content-Disposition": f'attachment; filename="rendez-vous-{row.case.reference}'
                                        f'-{appts.local(row.starts_at, g.tenant):%Y%m%d}.ics"'},
    )


@bp.route("/agenda")
@allow(CCAS_STAFF)
def agenda():
    workers = appts.workers(db.session)
    worker = None
    wanted = request.args.get("worker")
    if wanted:
        try:
            wanted_id = uuid.UUID(wanted)
        except ValueError:
            abort(404)
        worker = next((w for w in workers if w.id == wanted_id), None)
        if worker is None:
            abort(404)
    elif current_user.role in SOCIAL_WORKERS and any(
            w.id == current_user.id for w in workers):
        worker = current_user
    elif workers:
        worker = workers[0]
    view = "day" if request.args.get("view") == "day" else "week"
    day_text = request.args.get("day")
    error = None
    try:
        day = appts.parse_local_date(day_text, "day") if day_text else local_today(g.tenant)
    except UserError as exc:
        day, error = local_today(g.tenant), exc.message
    if view == "week":
        first, count, step = day - timedelta(days=day.weekday()), 7, 7
    else:
        first, count, step = day, 1, 1
    days = appts.agenda(db.session, worker.id, first, count, g.tenant) if worker else {}
    status = 422 if error else 200
    return render_template(
        "appointments/agenda.html", workers=workers, worker=worker, view=view, day=day,
        first=first, last=first + timedelta(days=count - 1), days=days,
        previous=first - timedelta(days=step), next=first + timedelta(days=step),
        today=local_today(g.tenant), day_error=error, day_text=day_text or day.isoformat(),
    ), status


@bp.route("/agenda/courriers-de-rappel")
@allow(CCAS_STAFF)
def reminder_letters():
    """The reminder letters to print for people with neither e-mail nor a phone we can
    text (``core.features.reminders.letters``)."""
    found = reminders.letters(db.session, g.tenant)
    for appointment, _text in found:
        audit.record(db.session, "appointment.letter", appointment,
                     case_id=appointment.case_id)
    db.session.commit()
    return render_template("appointments/letters.html", letters=found)


def today_for(user) -> list:
    """Today's appointments: the user's own for a worker, everyone's for the secretary,
    as read-only rows for the dashboard's list (``appointments/_list.html``): the
    appointment's columns it shows and its properties, its case's reference and person's name, its
    worker's name and e-mail; one Core read through the tenancy's checker, no ORM
    objects."""
    tenant = g.tenant
    today = local_today(tenant)
    tz = appts.zone(tenant)
    view = view_of(Appointment)
    rows = tenancy.scoped_rows(db.session, _today_for(user.role != "secretary"), {
        "start": appts.to_utc_midnight(today, tz),
        "end": appts.to_utc_midnight(today + timedelta(days=1), tz),
        "worker_id": user.id})
    listed = []
    for row in rows:
        values = row._asdict()
        case = ListedAppointmentCase(values.pop("case_reference"), PersonName(
            values.pop("first_name"), values.pop("last_name")))
        worker = ListedWorker(values.pop("worker_name"), values.pop("worker_email"))
        listed.append(view(**values, case=case, social_worker=worker))
    return listed


class ListedAppointmentCase(NamedTuple):
    """The case of an appointment in the dashboard's list: what the list shows of it."""

    reference: str
    person: PersonName


class ListedWorker(NamedTuple):
    """The worker of an appointment in the dashboard's list."""

    full_name: str
    email: str


#: The appointment's columns the list shows (``appointments/_list.html``), with the
#: model's properties that read them (the end, the labels).
_LISTED_COLUMNS = ("id", "starts_at", "duration_minutes", "mode", "place", "kind", "status")


@functools.cache
def _today_for(own: bool):
    """:func:`today_for`'s statement (a worker's own, or everyone's), built once."""
    a, c, p, u = (Appointment.__table__, Case.__table__, Person.__table__,
                  User.__table__)
    query = select(
        *(a.c[name] for name in _LISTED_COLUMNS), c.c.reference.label("case_reference"),
        p.c.first_name, p.c.last_name,
        u.c.full_name.label("worker_name"), u.c.email.label("worker_email"),
    ).select_from(
        a.join(c, c.c.id == a.c.case_id).join(p, p.c.id == c.c.person_id)
        .join(u, u.c.id == a.c.social_worker_id)
    ).where(
        a.c.starts_at >= bindparam("start"),
        a.c.starts_at < bindparam("end"),
        a.c.status != AppointmentStatus.moved,
    ).order_by(a.c.starts_at)
    if own:
        query = query.where(a.c.social_worker_id == bindparam("worker_id"))
    return tenancy.scoped_select(query)


def french_day(value: date) -> str:
    return f"{FRENCH_DAYS[value.weekday()]} {value:%d/%m/%Y}"


@bp.app_context_processor
def _appointment_helpers():
    def case_appointments(case):
        return appts.of_case(db.session, case, g.get("ccas_case_workers"))

    def appointment_workers():
        return appts.workers(db.session, g.get("ccas_case_workers"))

    def local_time(value: datetime) -> datetime:
        return appts.local(value, g.get("tenant"))

    return {
        "case_appointments": case_appointments,
        "appointment_workers": appointment_workers,
        "appointment_local": local_time,
        "appointment_mode_choices": [(m.value, MODE_LABELS[m]) for m in AppointmentMode],
        "appointment_kind_choices": [(k.value, KIND_LABELS[k]) for k in AppointmentKind],
        "appointments_today": today_for,
        "appointment_bookable": appts.bookable,
        "appointment_french_day": french_day,
        "appointment_now": lambda: clock.now(),
        "appointment_staff_minutes": appts.staff_minutes,
        "ccas_case_page_url": case_page_url,
    }
