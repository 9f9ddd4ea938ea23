"""Appointments with the social worker: booking, moving, outcome, agenda, ICS.

The booking form gives a local date and time in the tenant's timezone; it is stored in
UTC. A worker cannot have two appointments that overlap (planned or held ones count;
missed and moved ones free the slot). Staff time is kept as the duration and kind of each
appointment. Nothing is committed here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import g
from sqlalchemy import bindparam, select

from .. import audit, clock, row_views, workflow
from ..errors import UserError
from ..models import Appointment, AppointmentKind, AppointmentMode, AppointmentStatus, User
from ..policy import SOCIAL_WORKERS, Role
from . import ics

MIN_DURATION, MAX_DURATION = 15, 240
#: Appointments that occupy the worker's time.
BUSY = (AppointmentStatus.planned, AppointmentStatus.held)
NOT_BOOKABLE = ("Pas de rendez-vous à ce stade du dossier (fiche recueil pas encore "
                "traitée, ou dossier terminé).")


def bookable(case) -> bool:
    """Appointments may be booked in the case's state (the tenant's workflow says which:
    not at intake nor while a plugin's check runs, not once the case has ended)."""
    return str(case.state) in workflow.current().bookable()


def zone(tenant) -> ZoneInfo:
    return clock.zone(tenant)


# -- local time in, UTC out --------------------------------------------------------------


def parse_local_date(text: str, field: str = "date") -> date:
    text = (text or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        # a week around the day must stay within the calendar (9999-12-31 + 7 days)
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise UserError(f"Date hors limites : entre {FIRST_YEAR} et {LAST_YEAR}.",
                            status=422, field=field)
        return day
    raise UserError("Date invalide : utilisez le format jj/mm/aaaa.", status=422, field=field)


#: The years an appointment, a workshop or an agenda page may fall in.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def parse_local_time(text: str, field: str = "time") -> time:
    match = re.fullmatch(r"\s*(\d{1,2})\s*[:hH]\s*(\d{2})?\s*", text or "")
    if not match:
        raise UserError("Heure invalide : utilisez le format hh:mm.", status=422, field=field)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise UserError("Heure invalide : utilisez le format hh:mm.", status=422, field=field)
    return time(hour, minute)


def to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time. A time skipped by the change to summer time is
    refused; a time that occurs twice (change to winter time) is the first one."""
    local = datetime.combine(day, at, tzinfo=tz)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise UserError(
            "Cette heure n'existe pas ce jour-là (passage à l'heure d'été) : choisissez-en une "
            "autre.", status=422, field="time",
        )
    return instant


def local(value: datetime, tenant) -> datetime:
    return value.astimezone(zone(tenant))


# -- booking -------------------------------------------------------------------------------


@dataclass
class Slot:
    """What the booking and moving forms give."""

    day: str
    time: str
    duration_minutes: int | str = 60
    mode: str = "in_person"
    place: str = ""
    kind: str = "intake"


def workers(session, among=None) -> list[User]:
    """Who may hold appointments (active social workers, then managers); ``among``: the
    same users already read by the page (``core.cases.social_workers``), not read again."""
    rows = among if among is not None else session.scalars(
        select(User).where(User.role.in_(sorted(SOCIAL_WORKERS)), User.active.is_(True))
    ).all()
    return sorted(rows, key=lambda u: (u.role != Role.social_worker, u.full_name or u.email))


def get_worker(session, worker_id) -> User:
    try:
        wid = worker_id if isinstance(worker_id, uuid.UUID) else uuid.UUID(str(worker_id))
    except (ValueError, TypeError) as exc:
        raise UserError("Choisissez le travailleur social.", status=422,
                        field="worker") from exc
    user = session.scalar(select(User).where(User.id == wid))
    if user is None or not user.active or user.role not in SOCIAL_WORKERS:
        raise UserError("Choisissez le travailleur social.", status=422, field="worker")
    return user


def _validate_slot(slot: Slot, tenant, now: datetime) -> tuple[datetime, int, AppointmentMode,
                                                               str, AppointmentKind]:
    errors: dict[str, list[str]] = {}

    def fail(field, message):
        errors.setdefault(field, []).append(message)

    starts_at = None
    try:
        day = parse_local_date(slot.day)
        at = parse_local_time(slot.time)
        starts_at = to_utc(day, at, zone(tenant))
    except UserError as exc:
        fail(exc.field or "date", exc.message)
    try:
        duration = int(str(slot.duration_minutes).strip())
    except ValueError:
        duration = 0
    if not MIN_DURATION <= duration <= MAX_DURATION:
        fail("duration", f"Durée entre {MIN_DURATION} et {MAX_DURATION} minutes.")
    try:
        mode = AppointmentMode(slot.mode)
    except ValueError:
        mode = None
        fail("mode", "Choisissez sur place ou par téléphone.")
    try:
        kind = AppointmentKind(slot.kind)
    except ValueError:
        kind = None
        fail("kind", "Type de rendez-vous inconnu.")
    place = (slot.place or "").strip()
    if mode == AppointmentMode.in_person and not place:
        place = ((getattr(tenant, "settings", None) or {}).get("appointment_place") or "").strip()
        if not place:
            fail("place", "Indiquez le lieu du rendez-vous.")
    if len(place) > 300:
        fail("place", "300 caractères au plus.")
    if starts_at is not None and starts_at <= now:
        fail("date", "Ce créneau est déjà passé : choisissez une date à venir.")
    if errors:
        field, messages = next(iter(errors.items()))
        raise UserError(messages[0], status=422, field=field, errors=errors)
    return starts_at, duration, mode, place, kind


def overlapping(session, worker_id, starts_at: datetime, duration: int,
                exclude: uuid.UUID | None = None) -> list[Appointment]:
    """The worker's planned or held appointments that overlap ``[starts_at, +duration)``."""
    ends_at = starts_at + timedelta(minutes=duration)
    rows = session.scalars(
        select(Appointment).where(
            Appointment.social_worker_id == worker_id,
            Appointment.status.in_(BUSY),
            Appointment.starts_at < ends_at,
            Appointment.starts_at > starts_at - timedelta(minutes=MAX_DURATION),
        )
    ).all()
    return [a for a in rows if a.id != exclude and a.ends_at > starts_at]


def _lock_worker(session, worker: User) -> None:
    """Serialise bookings for one worker (PostgreSQL row lock; SQLite locks on write)."""
    session.scalar(select(User.id).where(User.id == worker.id).with_for_update())


def _check_free(session, worker, starts_at, duration, tenant, exclude=None) -> None:
    _lock_worker(session, worker)
    clash = overlapping(session, worker.id, starts_at, duration, exclude)
    if clash:
        other = clash[0]
        start = local(other.starts_at, tenant)
        end = local(other.ends_at, tenant)
        name = worker.full_name or worker.email
        raise UserError(
            f"{name} a déjà un rendez-vous le {start:%d/%m/%Y} de {start:%H:%M} à "
            f"{end:%H:%M} : choisissez un autre créneau.",
            status=409, field="time",
        )


def book(session, case, worker_id, slot: Slot, actor=None, tenant=None,
         now: datetime | None = None) -> Appointment:
    """Book an appointment for ``case`` with a worker. Raises ``UserError`` (409 on overlap)."""
    tenant = tenant if tenant is not None else _tenant()
    now = now or clock.now()
    if not bookable(case):
        raise UserError(NOT_BOOKABLE, status=422)
    worker = get_worker(session, worker_id)
    starts_at, duration, mode, place, kind = _validate_slot(slot, tenant, now)
    _check_free(session, worker, starts_at, duration, tenant)
    appointment = Appointment(
        case_id=case.id, social_worker_id=worker.id, starts_at=starts_at,
        duration_minutes=duration, mode=mode, place=place, kind=kind,
        status=AppointmentStatus.planned, created_by_label=audit.actor_label(actor),
    )
    session.add(appointment)
    if case.social_worker_id is None:
        case.social_worker_id = worker.id
    session.flush()
    audit.record(session, "appointment.book", appointment, actor=actor, case_id=case.id,
                 worker=worker.email, starts_at=starts_at.isoformat(), duration=duration)
    return appointment


def move(session, appointment: Appointment, slot: Slot, worker_id=None, actor=None,
         tenant=None, now: datetime | None = None) -> Appointment:
    """Move a planned appointment: it is marked ``moved`` and a new one is booked."""
    tenant = tenant if tenant is not None else _tenant()
    now = now or clock.now()
    if appointment.status != AppointmentStatus.planned:
        raise UserError("Seul un rendez-vous prévu peut être déplacé.", status=422)
    worker = get_worker(session, worker_id or appointment.social_worker_id)
    starts_at, duration, mode, place, kind = _validate_slot(slot, tenant, now)
    _check_free(session, worker, starts_at, duration, tenant, exclude=appointment.id)
    new = Appointment(
        case_id=appointment.case_id, social_worker_id=worker.id, starts_at=starts_at,
        duration_minutes=duration, mode=mode, place=place, kind=kind,
        status=AppointmentStatus.planned, sequence=appointment.sequence + 1,
        created_by_label=audit.actor_label(actor),
    )
    session.add(new)
    session.flush()
    appointment.status = AppointmentStatus.moved
    appointment.moved_to_id = new.id
    appointment.outcome_at = now
    audit.record(session, "appointment.move", appointment, actor=actor,
                 case_id=appointment.case_id, to=str(new.id), starts_at=starts_at.isoformat())
    return new


def record_outcome(session, appointment: Appointment, status: str, note: str = "",
                   actor=None, now: datetime | None = None) -> Appointment:
    """Held or missed, with a note. A held/missed appointment may be corrected."""
    now = now or clock.now()
    try:
        value = AppointmentStatus(status)
    except ValueError:
        value = None
    if value not in (AppointmentStatus.held, AppointmentStatus.missed):
        raise UserError("Indiquez si le rendez-vous a eu lieu ou si la personne était absente.",
                        status=422, field="status")
    if appointment.status == AppointmentStatus.moved:
        raise UserError("Ce rendez-vous a été déplacé : renseignez le nouveau.", status=422)
    if appointment.starts_at > now:
        raise UserError("Ce rendez-vous n'a pas encore commencé.", status=422, field="status")
    note = (note or "").strip()
    if len(note) > 5000:
        raise UserError("Compte rendu : 5 000 caractères au plus.", status=422, field="note")
    old = appointment.status
    appointment.status = value
    appointment.outcome_note = note
    appointment.outcome_at = now
    audit.record(session, "appointment.outcome", appointment, actor=actor,
                 case_id=appointment.case_id, old=old.value, new=value.value)
    return appointment


# -- reading -------------------------------------------------------------------------------


_OF_CASE = row_views.statement(
    Appointment, Appointment.__table__.c.case_id == bindparam("case_id"),
    order_by=(Appointment.__table__.c.starts_at,))


def of_case(session, case, workers=None) -> list:
    """The case's appointments, in time order, each with its case and social worker (the
    case page's list shows them), as read-only rows (``core.row_views``). The case is
    ``case`` itself; the workers are taken from ``workers`` (users the page has read
    already) and the others read in one query."""
    rows = row_views.read(session, _OF_CASE, {"case_id": case.id}, Appointment)
    by_id = {w.id: w for w in workers or ()}
    missing = {a.social_worker_id for a in rows} - set(by_id) - {None}
    if missing:
        by_id.update((u.id, u) for u in session.scalars(select(User).where(User.id.in_(missing))))
    for a in rows:
        a.case = case
        a.social_worker = by_id.get(a.social_worker_id)
    return rows


def agenda(session, worker_id, first_day: date, days: int, tenant) -> dict[date, list]:
    """The worker's appointments (all statuses but moved) by local day, ``days`` days from
    ``first_day``."""
    tz = zone(tenant)
    start = to_utc_midnight(first_day, tz)
    end = to_utc_midnight(first_day + timedelta(days=days), tz)
    rows = session.scalars(
        select(Appointment).where(
            Appointment.social_worker_id == worker_id,
            Appointment.starts_at >= start, Appointment.starts_at < end,
            Appointment.status != AppointmentStatus.moved,
        ).order_by(Appointment.starts_at)
    ).all()
    out: dict[date, list] = {first_day + timedelta(days=i): [] for i in range(days)}
    for a in rows:
        out.setdefault(a.starts_at.astimezone(tz).date(), []).append(a)
    return out


def to_utc_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)


def staff_minutes(appointments: list[Appointment]) -> dict[str, int]:
    """Minutes of held appointments by kind (staff time spent on each step)."""
    out = {k.value: 0 for k in AppointmentKind}
    for a in appointments:
        if a.status == AppointmentStatus.held:
            out[a.kind.value] += a.duration_minutes
    return out


# -- ICS -------------------------------------------------------------------------------------


def ics_event(appointment: Appointment, tenant) -> ics.Event:
    worker = appointment.social_worker
    who = (worker.full_name if worker else "") or "le travailleur social"
    if appointment.mode == AppointmentMode.phone:
        where = "Par téléphone : le CCAS vous appelle."
        location = "Par téléphone"
    else:
        where = f"Lieu : {appointment.place}"
        location = appointment.place
    description = "\n".join([
        f"Rendez-vous avec {who} ({appointment.kind_label}).",
        where,
        f"Dossier {appointment.case.reference}.",
        "En cas d'empêchement, merci de prévenir le CCAS.",
    ])
    host = (getattr(tenant, "slug", None) or "ccas") + ".ccas-network"
    return ics.Event(
        uid=f"{appointment.id}@{host}",
        start=appointment.starts_at,
        duration_minutes=appointment.duration_minutes,
        summary=f"Rendez-vous {tenant.name}",
        description=description,
        location=location,
        status="CANCELLED" if appointment.status == AppointmentStatus.moved else "CONFIRMED",
        sequence=appointment.sequence,
    )


def ics_text(appointment: Appointment, tenant, stamp: datetime | None = None) -> str:
    return ics.calendar([ics_event(appointment, tenant)], tzid=zone(tenant).key, stamp=stamp)


def _tenant():
    return g.get("tenant")
