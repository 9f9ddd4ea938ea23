"""Staff time pages: each staff member records time (the secretary, phone calls); the
manager sees the split between intake, instruction and accompaniment per month and per
worker, and the instruction time per granted loan."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..cases import parse_date
from ..db import db
from ..errors import UserError
from ..features import accompaniment, staff_time
from ..hookspecs import hookimpl
from ..models.accompaniment import ACTIVITY_LABELS, TIME_CATEGORY_LABELS, Activity
from ..plugins.types import NavItem
from ..policy import CCAS_STAFF, MANAGER, allow

bp = Blueprint("staff_time", __name__, url_prefix="/t/<tenant>/temps")

MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
             "oct.", "nov.", "déc.")



@hookimpl
def ccas_nav_items():
    return [NavItem("Temps de travail", "staff_time.index", CCAS_STAFF, order=80,
                    section="Activité")]


def _activities() -> list[tuple[str, str]]:
    allowed = (staff_time.SECRETARY_ACTIVITIES if str(current_user.role) == "secretary"
               else list(Activity))
    return [(a.value, ACTIVITY_LABELS[a]) for a in Activity if a in allowed]


def _index(errors=None, values=None, status=200):
    return render_template(
        "staff_time/index.html", errors=errors or {}, values=values or {},
        activities=_activities(), categories=list(TIME_CATEGORY_LABELS.items()),
        entries=staff_time.recent_entries(db.session, current_user.id),
        activity_labels=ACTIVITY_LABELS, category_labels=TIME_CATEGORY_LABELS,
        today=accompaniment.today(),
    ), status


@bp.route("/")
@allow(CCAS_STAFF)
def index():
    return _index()


@bp.route("/", methods=["POST"])
@allow(CCAS_STAFF)
def record():
    fields = ("day", "minutes", "activity", "category", "note")
    values = {k: request.form.get(k, "") for k in fields}
    try:
        staff_time.record(db.session, current_user, staff_time.TimeForm(**values))
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        return _index(exc.errors or {"day": [exc.message]}, values, exc.status)
    flash("Temps enregistré.", "success")
    return redirect(url_for("staff_time.index"))


def month_label(year: int, month: int) -> str:
    return f"{MONTHS_FR[month - 1]} {year}"


@bp.route("/rapport")
@allow(MANAGER)
def report():
    today = accompaniment.today()
    errors = {}
    try:
        start = parse_date(request.args.get("du"), "du") or date(today.year, 1, 1)
    except UserError as exc:
        errors["du"], start = [exc.message], date(today.year, 1, 1)
    try:
        end = parse_date(request.args.get("au"), "au") or today
    except UserError as exc:
        errors["au"], end = [exc.message], today
    if end < start:
        errors["au"] = ["La fin de la période précède son début."]
        end = start
    result = staff_time.report(db.session, start, end, g.tenant.timezone)
    s = result.split
    months = [(month_label(y, m), s.by_month[(y, m)]) for y, m in s.months]
    workers = sorted(s.by_worker.items(), key=lambda kv: result.names.get(kv[0], ""))
    per_month_worker = [
        (month_label(y, m), result.names.get(u, "?"), values)
        for (y, m, u), values in sorted(
            s.by_month_worker.items(),
            key=lambda kv: (kv[0][0], kv[0][1], result.names.get(kv[0][2], "")))
    ]
    bars = staff_time.bars(months)
    return render_template(
        "staff_time/report.html", result=result, months=months, workers=workers,
        per_month_worker=per_month_worker, bars=bars, categories=staff_time.CATEGORIES,
        category_labels=TIME_CATEGORY_LABELS, hours=staff_time.hours, errors=errors,
        start=start, end=end, svg_height=max(len(bars), 1) * 32,
    ), (422 if errors else 200)
