"""Collective budget workshops: themes, sessions, invitations, registrations, attendance,
evaluation and the manager's report.

* An invitation is an e-mail through the outbox with the session as an ICS file
  (``core.features.ics``), sent to a borrower or an applicant (a person with an open case).
* Registered and present people take a seat: a session never holds more than its
  capacity (the session row is locked while counting, on PostgreSQL).
* Attendance is recorded from the session's start; the evaluation (score 1–5 and a
  comment) only for people who attended.
* The report counts sessions, attendees and compares the repayment behaviour of the
  borrowers who attended a workshop with the others, as aggregates computed in SQL.

Services take the session, validate before writing, raise ``UserError``, never commit.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, bindparam, case, exists, func, select

from .. import audit, clock, tenancy
from ..errors import NotFound, UserError
from ..models import Case, CaseTransition, Person, State
from ..models.accompaniment import (
    SEATED,
    AccompanimentTask,
    InvitationStatus,
    TaskKind,
    WorkshopInvitation,
    WorkshopSession,
    WorkshopTheme,
)
from ..outbox import enqueue_email
from ..policy import CCAS_STAFF, SOCIAL_WORKERS
from . import ics
from .accompaniment import today
from .appointments import local, parse_local_date, parse_local_time, to_utc, zone

#: Cases whose person may be invited: applicants being followed and borrowers.
INVITABLE_STATES = (
    State.documents_requested, State.evaluation, State.instruction, State.submitted_to_lender,
    State.granted, State.adjourned, State.signing, State.withdrawal_period, State.disbursed,
    State.repaying,
)
MIN_DURATION, MAX_DURATION = 30, 480
MAX_CAPACITY = 200
#: Close reasons that count as a loan repaid.
REPAID_REASONS = ("repaid", "early_repayment")


def _require(actor, roles) -> None:
    if str(getattr(actor, "role", "")) not in roles:
        raise UserError("Votre rôle ne permet pas cette action.", status=403)


def _uuid(value, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound(what) from exc


def _fail(errors: dict) -> None:
    if errors:
        first = next(iter(errors))
        raise UserError(errors[first][0], status=422, field=first, errors=errors)


# -- themes and sessions ---------------------------------------------------------------------


def create_theme(session, actor, title: str, description: str = "") -> WorkshopTheme:
    _require(actor, SOCIAL_WORKERS)
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = ["Donnez un titre au thème."]
    elif len(title) > 200:
        errors["title"] = ["200 caractères au plus."]
    elif session.scalar(select(WorkshopTheme.id).where(
            func.lower(WorkshopTheme.title) == title.lower())):
        errors["title"] = ["Ce thème existe déjà."]
    if len(description or "") > 5000:
        errors["description"] = ["5 000 caractères au plus."]
    _fail(errors)
    theme = WorkshopTheme(title=title, description=(description or "").strip())
    session.add(theme)
    session.flush()
    audit.record(session, "workshop.theme", theme, actor=actor, title=title)
    return theme


def themes(session, active_only: bool = True) -> list[WorkshopTheme]:
    stmt = select(WorkshopTheme).order_by(WorkshopTheme.title)
    if active_only:
        stmt = stmt.where(WorkshopTheme.active.is_(True))
    return list(session.scalars(stmt))


@dataclass
class SessionForm:
    theme_id: str = ""
    day: str = ""
    time: str = ""
    duration_minutes: str | int = 120
    place: str = ""
    capacity: str | int = ""


def create_session(session, actor, form: SessionForm, tenant) -> WorkshopSession:
    _require(actor, SOCIAL_WORKERS)
    errors: dict[str, list[str]] = {}
    theme = None
    with contextlib.suppress(ValueError):
        theme = session.scalar(select(WorkshopTheme).where(
            WorkshopTheme.id == uuid.UUID(str(form.theme_id))))
    if theme is None:
        errors["theme_id"] = ["Choisissez le thème."]
    starts_at = None
    try:
        starts_at = to_utc(parse_local_date(form.day, "day"),
                           parse_local_time(form.time, "time"), zone(tenant))
    except UserError as exc:
        errors[exc.field if exc.field in ("day", "time") else "day"] = [exc.message]
    if starts_at is not None and starts_at < clock.now():
        errors["day"] = ["La séance doit être dans le futur."]
    try:
        duration = int(str(form.duration_minutes).strip())
    except ValueError:
        duration = 0
    if not MIN_DURATION <= duration <= MAX_DURATION:
        errors["duration_minutes"] = [f"Durée entre {MIN_DURATION} et {MAX_DURATION} minutes."]
    place = (form.place or "").strip()
    if not place:
        errors["place"] = ["Indiquez le lieu."]
    elif len(place) > 300:
        errors["place"] = ["300 caractères au plus."]
    try:
        capacity = int(str(form.capacity).strip())
    except ValueError:
        capacity = 0
    if not 1 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = [f"Nombre de places entre 1 et {MAX_CAPACITY}."]
    _fail(errors)
    ws = WorkshopSession(theme_id=theme.id, starts_at=starts_at, duration_minutes=duration,
                         place=place, capacity=capacity, animator_id=actor.id)
    session.add(ws)
    session.flush()
    audit.record(session, "workshop.session", ws, actor=actor, theme=theme.title,
                 starts_at=starts_at.isoformat(), capacity=capacity)
    return ws


def get_session(session, session_id) -> WorkshopSession:
    ws = session.scalar(select(WorkshopSession).where(
        WorkshopSession.id == _uuid(session_id, "Cette séance")))
    if ws is None:
        raise NotFound("Cette séance")
    return ws


def sessions(session, upcoming: bool | None = None) -> list[WorkshopSession]:
    stmt = select(WorkshopSession)
    now = clock.now()
    if upcoming is True:
        stmt = stmt.where(WorkshopSession.starts_at >= now).order_by(WorkshopSession.starts_at)
    elif upcoming is False:
        stmt = stmt.where(WorkshopSession.starts_at < now).order_by(
            WorkshopSession.starts_at.desc())
    else:
        stmt = stmt.order_by(WorkshopSession.starts_at.desc())
    return list(session.scalars(stmt))


def seats_taken(session, ws: WorkshopSession) -> int:
    return int(session.scalar(
        select(func.count()).select_from(WorkshopInvitation).where(
            WorkshopInvitation.session_id == ws.id, WorkshopInvitation.status.in_(SEATED))
    ) or 0)


def invitations(session, ws: WorkshopSession) -> list[WorkshopInvitation]:
    rows = session.scalars(
        select(WorkshopInvitation).where(WorkshopInvitation.session_id == ws.id)
    ).unique().all()
    return sorted(rows, key=lambda i: (i.person.last_name.lower(), i.person.first_name.lower()))


def get_invitation(session, ws: WorkshopSession, invitation_id) -> WorkshopInvitation:
    row = session.scalar(select(WorkshopInvitation).where(
        WorkshopInvitation.id == _uuid(invitation_id, "Cette inscription"),
        WorkshopInvitation.session_id == ws.id))
    if row is None:
        raise NotFound("Cette inscription")
    return row


# -- invitations -----------------------------------------------------------------------------


def invitable_cases(session, ws: WorkshopSession | None = None) -> list[Case]:
    """Cases whose person may be invited (open cases, person not anonymised), without
    those already invited to ``ws``; one case per person (the latest)."""
    stmt = (
        select(Case).join(Person, Person.id == Case.person_id)
        .where(Case.state.in_(INVITABLE_STATES), Person.anonymised_at.is_(None))
        .order_by(Person.last_name, Person.first_name, Case.intake_date.desc())
    )
    if ws is not None:
        stmt = stmt.where(~exists().where(WorkshopInvitation.session_id == ws.id,
                                          WorkshopInvitation.person_id == Case.person_id))
    seen, out = set(), []
    for c in session.scalars(stmt).unique():
        if c.person_id not in seen:
            seen.add(c.person_id)
            out.append(c)
    return out


def ics_for(ws: WorkshopSession, tenant, stamp: datetime | None = None) -> bytes:
    event = ics.Event(
        uid=f"atelier-{ws.id}@ccas-network", start=ws.starts_at,
        duration_minutes=ws.duration_minutes,
        summary=f"Atelier budget : {ws.theme.title}",
        description=(ws.theme.description or "Atelier collectif budget du CCAS."),
        location=ws.place, sequence=ws.sequence,
    )
    text = ics.calendar([event], tzid=getattr(tenant, "timezone", None) or "Europe/Paris",
                        stamp=stamp, prodid="-//ccas-network//Ateliers budget//FR")
    return text.encode("utf-8")


def _invitation_email(ws: WorkshopSession, person: Person, tenant) -> tuple[str, str]:
    when = local(ws.starts_at, tenant)
    subject = f"Invitation : atelier budget « {ws.theme.title} » le {when:%d/%m/%Y}"
    text = (
        f"Bonjour {person.full_name},\n\n"
        f"Le {getattr(tenant, 'name', 'CCAS')} vous invite à un atelier collectif sur le budget :"
        f"\n\n  {ws.theme.title}\n  le {when:%d/%m/%Y} à {when:%H:%M} "
        f"({ws.duration_minutes} minutes)\n  lieu : {ws.place}\n\n"
        f"{ws.theme.description}\n\n"
        "Pour vous inscrire, répondez à ce message ou appelez le secrétariat du CCAS. "
        "L'invitation est jointe pour votre agenda (fichier atelier.ics).\n\n"
        "Le CCAS"
    )
    return subject, text


def invite(session, ws: WorkshopSession, case_ids, actor, tenant) -> tuple[list, list[str]]:
    """Invite the persons of ``case_ids`` by e-mail with the ICS file. Returns the new
    invitations and, for those who could not be invited by e-mail, why."""
    _require(actor, CCAS_STAFF)
    if ws.starts_at < clock.now():
        raise UserError("Cette séance est passée : plus d'invitation possible.", status=422)
    ids = []
    for raw in case_ids or []:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError as exc:
            raise UserError("Dossier inconnu.", status=422, field="case_ids") from exc
    if not ids:
        raise UserError("Choisissez au moins une personne à inviter.", status=422,
                        field="case_ids")
    allowed = {c.id: c for c in invitable_cases(session)}
    attachment = ics_for(ws, tenant)
    created, skipped = [], []
    now = clock.now()
    for case_id in ids:
        c = allowed.get(case_id)
        if c is None:
            raise UserError("Dossier inconnu ou clos.", status=422, field="case_ids")
        person = c.person
        if session.scalar(select(WorkshopInvitation.id).where(
                WorkshopInvitation.session_id == ws.id,
                WorkshopInvitation.person_id == person.id)):
            skipped.append(f"{person.full_name} : déjà invitée.")
            continue
        if not person.email:
            skipped.append(f"{person.full_name} : pas d'adresse e-mail (invitez par "
                           "téléphone et inscrivez la personne).")
            continue
        subject, text = _invitation_email(ws, person, tenant)
        enqueue_email(session, person.email, subject, text,
                      attachments=[("atelier.ics", "text/calendar", attachment)],
                      topic=f"workshop:{ws.id}")
        invitation = WorkshopInvitation(session_id=ws.id, person_id=person.id, case_id=c.id,
                                        status=InvitationStatus.invited, invited_at=now)
        session.add(invitation)
        created.append(invitation)
        audit.record(session, "workshop.invite", c, actor=actor, workshop_session=str(ws.id))
    session.flush()
    return created, skipped


def _lock(session, ws: WorkshopSession) -> None:
    """Lock the session row while seats are counted (PostgreSQL; SQLite serialises
    writers anyway)."""
    session.execute(select(WorkshopSession.id).where(WorkshopSession.id == ws.id)
                    .with_for_update())


def register(session, ws: WorkshopSession, actor, invitation: WorkshopInvitation | None = None,
             case_id=None) -> WorkshopInvitation:
    """Register an invited person, or a person of ``case_id`` directly (invited by phone).
    Refused when the session is full."""
    _require(actor, CCAS_STAFF)
    if ws.starts_at < clock.now():
        raise UserError("Cette séance est passée : plus d'inscription possible.", status=422)
    if invitation is None:
        try:
            key = uuid.UUID(str(case_id))
        except ValueError as exc:
            raise UserError("Choisissez la personne.", status=422, field="case_id") from exc
        c = next((c for c in invitable_cases(session) if c.id == key), None)
        if c is None:
            raise UserError("Choisissez la personne.", status=422, field="case_id")
        invitation = session.scalar(select(WorkshopInvitation).where(
            WorkshopInvitation.session_id == ws.id, WorkshopInvitation.person_id == c.person_id))
        if invitation is None:
            invitation = WorkshopInvitation(session_id=ws.id, person_id=c.person_id,
                                            case_id=c.id, status=InvitationStatus.invited)
            session.add(invitation)
    if invitation.status in SEATED:
        raise UserError("Cette personne est déjà inscrite.", status=409)
    _lock(session, ws)
    session.flush()
    if seats_taken(session, ws) >= ws.capacity:
        raise UserError(f"Séance complète ({ws.capacity} places).", status=409)
    invitation.status = InvitationStatus.registered
    invitation.registered_at = clock.now()
    invitation.updated_at = invitation.registered_at
    session.flush()
    audit.record(session, "workshop.register", invitation, actor=actor, workshop_session=str(ws.id))
    return invitation


def cancel_registration(session, ws: WorkshopSession, invitation: WorkshopInvitation,
                        actor) -> WorkshopInvitation:
    _require(actor, CCAS_STAFF)
    if invitation.status != InvitationStatus.registered:
        raise UserError("Cette personne n'est pas inscrite.", status=409)
    invitation.status = InvitationStatus.invited
    invitation.registered_at = None
    invitation.updated_at = clock.now()
    audit.record(session, "workshop.unregister", invitation, actor=actor,
                 workshop_session=str(ws.id))
    return invitation


def record_attendance(session, ws: WorkshopSession, invitation: WorkshopInvitation,
                      attended: bool, actor) -> WorkshopInvitation:
    """Present or absent, from the session's start. Marking present a person who was not
    registered takes a seat too (people come without registering): refused when full."""
    _require(actor, SOCIAL_WORKERS)
    if ws.starts_at > clock.now():
        raise UserError("La présence se note à partir du début de la séance.", status=422)
    target = InvitationStatus.attended if attended else InvitationStatus.absent
    if target == InvitationStatus.attended and invitation.status not in SEATED:
        _lock(session, ws)
        if seats_taken(session, ws) >= ws.capacity:
            raise UserError(f"Séance complète ({ws.capacity} places).", status=409)
    invitation.status = target
    if target == InvitationStatus.absent:
        invitation.score, invitation.comment = None, ""
    invitation.updated_at = clock.now()
    audit.record(session, "workshop.attendance", invitation, actor=actor,
                 workshop_session=str(ws.id), status=target.value)
    return invitation


def evaluate(session, invitation: WorkshopInvitation, actor, score, comment: str = "") \
        -> WorkshopInvitation:
    """The participant's short evaluation: a score from 1 to 5 and a comment."""
    _require(actor, SOCIAL_WORKERS)
    if invitation.status != InvitationStatus.attended:
        raise UserError("Seule une personne présente peut évaluer l'atelier.", status=422)
    errors = {}
    try:
        value = int(str(score).strip())
    except ValueError:
        value = 0
    if not 1 <= value <= 5:
        errors["score"] = ["Note de 1 à 5."]
    comment = (comment or "").strip()
    if len(comment) > 1000:
        errors["comment"] = ["1 000 caractères au plus."]
    _fail(errors)
    invitation.score, invitation.comment = value, comment
    invitation.updated_at = clock.now()
    audit.record(session, "workshop.evaluation", invitation, actor=actor, score=value)
    return invitation


# -- report ----------------------------------------------------------------------------------


@dataclass
class Behaviour:
    """Repayment behaviour of a group of borrowers (cases that were disbursed)."""

    cases: int
    repaying_or_repaid: int
    with_late_task: int

    @staticmethod
    def _pct(part: int, whole: int) -> Decimal | None:
        if not whole:
            return None
        return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def good_share(self) -> Decimal | None:
        return self._pct(self.repaying_or_repaid, self.cases)

    @property
    def late_share(self) -> Decimal | None:
        return self._pct(self.with_late_task, self.cases)


@dataclass
class WorkshopReport:
    sessions: int
    invitations: int
    registrations: int
    attendances: int
    attendees: int
    average_score: Decimal | None
    attendees_behaviour: Behaviour
    others_behaviour: Behaviour


def report(session, start: datetime, end: datetime) -> WorkshopReport:
    """Workshops held from ``start`` to ``end`` (UTC instants) and the repayment behaviour
    of every borrower, attendees of any workshop vs the others. Aggregates only, in SQL."""
    in_period = and_(WorkshopSession.starts_at >= start, WorkshopSession.starts_at < end)
    n_sessions = session.scalar(select(func.count()).select_from(WorkshopSession)
                                .where(in_period)) or 0
    joined = (select(WorkshopInvitation).join(WorkshopSession,
                                              WorkshopSession.id == WorkshopInvitation.session_id)
              .where(in_period).subquery())
    attended = joined.c.status == InvitationStatus.attended.value
    row = session.execute(select(
        func.count(),
        func.sum(case((joined.c.registered_at.is_not(None), 1), else_=0)),
        func.sum(case((attended, 1), else_=0)),
        func.count(func.distinct(case((attended, joined.c.person_id), else_=None))),
        func.avg(case((attended, joined.c.score), else_=None)),
    ).select_from(joined)).one()
    invitations_n, registrations, attendances, attendees, avg = row
    average = (Decimal(str(avg)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
               if avg is not None else None)

    went = exists().where(WorkshopInvitation.person_id == Case.person_id,
                          WorkshopInvitation.status == InvitationStatus.attended)
    disbursed = exists().where(CaseTransition.case_id == Case.id,
                               CaseTransition.to_state == State.disbursed.value)
    repaid = exists().where(CaseTransition.case_id == Case.id,
                            CaseTransition.to_state == State.closed.value,
                            CaseTransition.reason_code.in_(REPAID_REASONS))
    late = exists().where(AccompanimentTask.case_id == Case.id,
                          AccompanimentTask.kind == TaskKind.late_instalment)
    good = (Case.state == State.repaying) | ((Case.state == State.closed) & repaid)
    group = case((went, 1), else_=0).label("attended")
    stmt = (
        select(group, func.count(),
               func.sum(case((good, 1), else_=0)),
               func.sum(case((late, 1), else_=0)))
        .where(disbursed).group_by(group)
    )
    groups = {int(g): Behaviour(int(n), int(ok or 0), int(lt or 0))
              for g, n, ok, lt in session.execute(stmt)}
    return WorkshopReport(
        sessions=int(n_sessions), invitations=int(invitations_n or 0),
        registrations=int(registrations or 0), attendances=int(attendances or 0),
        attendees=int(attendees or 0), average_score=average,
        attendees_behaviour=groups.get(1, Behaviour(0, 0, 0)),
        others_behaviour=groups.get(0, Behaviour(0, 0, 0)),
    )


def year_bounds(year: int, tenant) -> tuple[datetime, datetime]:
    return clock.year_bounds(year, tenant)


def _attendance():
    """:func:`attendance_by_theme`'s statement, built once (the manager's dashboard reads
    it) under the tenant wall (``core.tenancy.scoped_select``): a Core read."""
    invitations, sessions, themes = (WorkshopInvitation.__table__, WorkshopSession.__table__,
                                     WorkshopTheme.__table__)
    return tenancy.scoped_select(
        select(themes.c.title, invitations.c.status, func.count())
        .join_from(invitations, sessions, sessions.c.id == invitations.c.session_id)
        .join(themes, themes.c.id == sessions.c.theme_id)
        .where(sessions.c.starts_at >= bindparam("start"),
               sessions.c.starts_at < bindparam("end"),
               invitations.c.status.in_(SEATED))
        .group_by(themes.c.title, invitations.c.status))


_ATTENDANCE = _attendance()


def attendance_by_theme(session, start: datetime, end: datetime
                        ) -> list[tuple[str, int, int]]:
    """The sessions held from ``start`` to ``end`` (UTC instants), by theme: ``(theme,
    present, seated)`` — those marked present, and those registered or present."""
    rows = tenancy.scoped_rows(session, _ATTENDANCE, {"start": start, "end": end})
    totals: dict[str, list[int]] = {}
    for title, status, n in rows:
        present_seated = totals.setdefault(title, [0, 0])
        present_seated[1] += n
        if status == InvitationStatus.attended:
            present_seated[0] += n
    return sorted(((t, p, s) for t, (p, s) in totals.items()), key=lambda r: r[0])


def default_year(tenant) -> int:
    return today(tenant).year

