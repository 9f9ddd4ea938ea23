"""Staff time: intake, instruction and accompaniment, per month and per worker.

Where the minutes come from:

* :class:`TimeEntry` rows: follow-ups (recorded automatically with each follow-up),
  phone calls, workshops and anything else a staff member records;
* held appointments (``core.features.appointments``): their duration, under their kind (intake,
  instruction, accompaniment), as interview time.

The SQL queries (:func:`entry_minutes`, :func:`appointment_minutes`,
:func:`granted_count`) sum in the database; the aggregation functions (:func:`split`,
:func:`instruction_per_granted`, :func:`bars`) are pure: data in, data out.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask import g, has_app_context
from sqlalchemy import extract, func, select

from .. import audit, clock
from ..cases import parse_date
from ..errors import UserError
from ..models import Appointment, AppointmentStatus, CaseTransition, State, User
from ..models.accompaniment import ACTIVITY_LABELS, Activity, TimeCategory, TimeEntry
from ..policy import CCAS_STAFF

CATEGORIES = (TimeCategory.intake, TimeCategory.instruction, TimeCategory.accompaniment)
#: Who records time; the secretary records phone calls only.
SECRETARY_ACTIVITIES = frozenset({Activity.phone_call})
MAX_MINUTES = 600


@dataclass(frozen=True)
class Row:
    """Minutes of one worker in one month and category."""

    year: int
    month: int
    user_id: uuid.UUID
    category: str
    minutes: int


# -- recording -------------------------------------------------------------------------------


@dataclass
class TimeForm:
    day: str | date = ""
    minutes: str | int = ""
    activity: str = ""
    category: str = ""
    note: str = ""


def validate(form: TimeForm, role: str, today: date) -> tuple[date, int, Activity, TimeCategory]:
    errors: dict[str, list[str]] = {}
    day = None
    try:
        day = parse_date(form.day, "day")
    except UserError as exc:
        errors["day"] = [exc.message]
    if day is None and "day" not in errors:
        errors["day"] = ["Indiquez le jour (jj/mm/aaaa)."]
    elif day is not None and day > today:
        errors["day"] = ["Le jour ne peut pas être dans le futur."]
    try:
        minutes = int(str(form.minutes).strip())
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= MAX_MINUTES:
        errors["minutes"] = [f"Durée en minutes, entre 1 et {MAX_MINUTES}."]
    try:
        activity = Activity(form.activity)
    except ValueError:
        activity = None
        errors["activity"] = ["Choisissez l'activité."]
    if activity is not None and role == "secretary" and activity not in SECRETARY_ACTIVITIES:
        errors["activity"] = ["Le secrétariat enregistre le temps des appels téléphoniques."]
    try:
        category = TimeCategory(form.category)
    except ValueError:
        category = None
        errors["category"] = ["Choisissez : accueil, instruction ou accompagnement."]
    if len(form.note or "") > 300:
        errors["note"] = ["300 caractères au plus."]
    if errors:
        first = next(iter(errors))
        raise UserError(errors[first][0], status=422, field=first, errors=errors)
    return day, minutes, activity, category


def record(session, actor, form: TimeForm, case=None, source: str = "manual", tenant=None,
           audited: bool = True) -> TimeEntry:
    """Record minutes of ``actor``'s time. Nothing is committed."""
    role = str(getattr(actor, "role", ""))
    if role not in CCAS_STAFF:
        raise UserError("Votre rôle ne permet pas de saisir du temps.", status=403)
    if tenant is None:
        tenant = g.get("tenant") if has_app_context() else None
    day, minutes, activity, category = validate(form, role, clock.today(tenant))
    entry = TimeEntry(user_id=actor.id, case_id=getattr(case, "id", None), activity=activity,
                      category=category, minutes=minutes, day=day,
                      note=(form.note or "").strip(), source=source)
    session.add(entry)
    if audited:
        audit.record(session, "staff_time.record", case, actor=actor, minutes=minutes,
                     activity=activity.value, category=category.value)
    return entry


def recent_entries(session, user_id: uuid.UUID, limit: int = 20) -> list[TimeEntry]:
    return list(session.scalars(
        select(TimeEntry).where(TimeEntry.user_id == user_id)
        .order_by(TimeEntry.day.desc(), TimeEntry.created_at.desc()).limit(limit)
    ))


# -- SQL -------------------------------------------------------------------------------------


def entry_minutes(session, start: date, end: date) -> list[Row]:
    """Recorded minutes from ``start`` to ``end`` (inclusive), summed per month, worker and
    category in SQL."""
    year, month = extract("year", TimeEntry.day), extract("month", TimeEntry.day)
    stmt = (
        select(year, month, TimeEntry.user_id, TimeEntry.category, func.sum(TimeEntry.minutes))
        .where(TimeEntry.day >= start, TimeEntry.day <= end)
        .group_by(year, month, TimeEntry.user_id, TimeEntry.category)
    )
    return [Row(int(y), int(m), u, TimeCategory(c).value, int(total))
            for y, m, u, c, total in session.execute(stmt)]


def _bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(start, time(), zone).astimezone(UTC),
            datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC))


def appointment_minutes(session, start: date, end: date, tz: str = "Europe/Paris") -> list[Row]:
    """Minutes of held appointments, per local month, worker and kind. Summed per local
    day in SQL would need timezone arithmetic SQLite lacks: the database sums per worker,
    kind and start instant, and the local month is taken here."""
    zone = ZoneInfo(tz)
    lo, hi = _bounds(start, end, zone)
    stmt = (
        select(Appointment.starts_at, Appointment.social_worker_id, Appointment.kind,
               func.sum(Appointment.duration_minutes))
        .where(Appointment.status == AppointmentStatus.held, Appointment.starts_at >= lo,
               Appointment.starts_at < hi)
        .group_by(Appointment.starts_at, Appointment.social_worker_id, Appointment.kind)
    )
    totals: dict[tuple, int] = defaultdict(int)
    for starts_at, worker, kind, minutes in session.execute(stmt):
        local = starts_at.astimezone(zone)
        totals[(local.year, local.month, worker, str(kind))] += int(minutes or 0)
    return [Row(y, m, u, c, n) for (y, m, u, c), n in totals.items()]


def granted_count(session, start: date, end: date, tz: str = "Europe/Paris") -> int:
    """Cases granted between ``start`` and ``end`` (local days, inclusive)."""
    lo, hi = _bounds(start, end, ZoneInfo(tz))
    return int(session.scalar(
        select(func.count(func.distinct(CaseTransition.case_id))).where(
            CaseTransition.to_state == State.granted.value, CaseTransition.at >= lo,
            CaseTransition.at < hi)
    ) or 0)


def worker_names(session, ids) -> dict[uuid.UUID, str]:
    ids = list(ids)
    if not ids:
        return {}
    return {u.id: (u.full_name or u.email)
            for u in session.scalars(select(User).where(User.id.in_(ids)))}


# -- pure aggregation ------------------------------------------------------------------------


@dataclass
class Split:
    """Minutes per category, per month and per worker, with totals."""

    months: list[tuple[int, int]] = field(default_factory=list)
    by_month: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)
    by_worker: dict[uuid.UUID, dict[str, int]] = field(default_factory=dict)
    by_month_worker: dict[tuple[int, int, uuid.UUID], dict[str, int]] = field(
        default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    def share(self, category: str) -> Decimal | None:
        """Percentage of all minutes spent on ``category`` (one decimal)."""
        if not self.total:
            return None
        return (Decimal(self.totals.get(category, 0)) * 100 / self.total).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP)


def _empty() -> dict[str, int]:
    return {c.value: 0 for c in CATEGORIES}


def split(rows: list[Row]) -> Split:
    """Fold rows into the split per month, per worker and per month and worker."""
    out = Split(totals=_empty())
    for row in rows:
        key = (row.year, row.month)
        out.by_month.setdefault(key, _empty())[row.category] += row.minutes
        out.by_worker.setdefault(row.user_id, _empty())[row.category] += row.minutes
        out.by_month_worker.setdefault((row.year, row.month, row.user_id), _empty())[
            row.category] += row.minutes
        out.totals[row.category] += row.minutes
    out.months = sorted(out.by_month)
    return out


def instruction_per_granted(instruction_minutes: int, granted: int) -> Decimal | None:
    """Instruction minutes per granted loan (one decimal); ``None`` when nothing was
    granted (no division by zero)."""
    if not granted:
        return None
    return (Decimal(instruction_minutes) / granted).quantize(Decimal("0.1"),
                                                             rounding=ROUND_HALF_UP)


def hours(minutes: int | Decimal | None) -> str:
    """``135`` → ``"2 h 15"``."""
    if minutes is None:
        return ""
    minutes = int(Decimal(minutes).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return f"{minutes // 60} h {minutes % 60:02d}"


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    segments: tuple[tuple[str, int, int, int], ...]  # (category, x, width, minutes)


def bars(series: list[tuple[str, dict[str, int]]], width: int = 600, height: int = 24,
         gap: int = 8) -> list[Bar]:
    """Stacked horizontal bars (SVG geometry) for ``[(label, {category: minutes})]``,
    scaled on the largest total."""
    biggest = max((sum(v.values()) for _, v in series), default=0) or 1
    out = []
    for i, (label, values) in enumerate(series):
        x, segments = 0, []
        for category in CATEGORIES:
            minutes = values.get(category.value, 0)
            w = round(minutes * width / biggest)
            if minutes:
                segments.append((category.value, x, w, minutes))
            x += w
        out.append(Bar(label, i * (height + gap), tuple(segments)))
    return out


@dataclass
class Report:
    start: date
    end: date
    split: Split
    granted: int
    instruction_per_granted: Decimal | None
    names: dict[uuid.UUID, str]


def report(session, start: date, end: date, tz: str = "Europe/Paris") -> Report:
    """The manager's report from ``start`` to ``end`` (local days, inclusive)."""
    rows = entry_minutes(session, start, end) + appointment_minutes(session, start, end, tz)
    s = split(rows)
    granted = granted_count(session, start, end, tz)
    return Report(start, end, s, granted,
                  instruction_per_granted(s.totals[TimeCategory.instruction.value], granted),
                  worker_names(session, s.by_worker))


def activity_label(value) -> str:
    return ACTIVITY_LABELS[Activity(value)]
