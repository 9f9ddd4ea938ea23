"""Accompaniment for the loan's whole life.

* **Plan.** When a case is signed (it enters ``withdrawal_period``), follow-up contacts are
  planned at the months given by ``tenant.settings["accompaniment"]["followup_months"]``
  (default ``[1, 3, 6]``), then every three months until the loan's last month; the last
  one is the closing summary. The loan's duration is the ``months`` the lender wrote in
  the ``granted`` transition's data.
* **Follow-ups** are recorded with channel, duration (which becomes staff time), a shared
  and a private note (:data:`core.policy.SOCIAL_WORKERS` only).
* **Tasks**: a late instalment, a default or a bounced payment (``ccas_loan_event``) and a
  change the borrower reports create a task for the social worker with a suggested
  action. The lender sees only :func:`status_label` (that the CCAS is on it).
* **Closing**: ``close`` is vetoed until a final summary follow-up is recorded.

Services take the session, validate before writing, raise ``UserError`` and never commit.
"""

from __future__ import annotations

import calendar
import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from flask import g, has_app_context
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, clock, formats, row_views, tenancy
from ..cases import parse_date
from ..cases.items import PersonName, core_columns, joinable
from ..errors import NotFound, UserError
from ..hookspecs import hookimpl
from ..models import Case, CaseTransition, Person, State
from ..models.accompaniment import (
    CHANNEL_LABELS,
    TASK_KIND_LABELS,
    AccompanimentPlan,
    AccompanimentTask,
    Activity,
    Channel,
    FollowUp,
    TaskKind,
    TaskStatus,
    TimeCategory,
)
from ..policy import CCAS_STAFF, SOCIAL_WORKERS
from . import staff_time

log = logging.getLogger(__name__)

DEFAULT_FOLLOWUP_MONTHS = (1, 3, 6)
QUARTER = 3
#: Roles who manage the accompaniment (and read private notes).
#: States in which the loan runs and follow-ups are recorded.
FOLLOW_STATES = frozenset({State.withdrawal_period, State.disbursed, State.repaying})
MAX_NOTE = 10_000
MIN_MINUTES, MAX_MINUTES = 1, 480


# -- pure: the plan ------------------------------------------------------------------------


def plan_months(followup_months, loan_months: int | None) -> list[int]:
    """Months after signing at which to plan a follow-up.

    The configured months (those within the loan), then every three months after the last
    of them until the loan's last month, which is always included (the closing summary).
    Without a known duration, only the configured months.

    >>> plan_months([1, 3, 6], 12)
    [1, 3, 6, 9, 12]
    >>> plan_months([1, 3, 6], 20)
    [1, 3, 6, 9, 12, 15, 18, 20]
    """
    months = sorted({int(m) for m in followup_months if int(m) > 0})
    if loan_months is None:
        return months
    months = [m for m in months if m <= loan_months]
    nxt = (months[-1] if months else 0) + QUARTER
    while nxt <= loan_months:
        months.append(nxt)
        nxt += QUARTER
    if loan_months > 0 and (not months or months[-1] != loan_months):
        months.append(loan_months)
    return months


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def plan_dates(signed_on: date, months: list[int]) -> list[tuple[int, date]]:
    return [(m, add_months(signed_on, m)) for m in months]


def followup_months_setting(tenant) -> list[int]:
    """The tenant's follow-up months (``settings["accompaniment"]["followup_months"]``)."""
    settings = (getattr(tenant, "settings", None) or {}).get("accompaniment") or {}
    raw = settings.get("followup_months", DEFAULT_FOLLOWUP_MONTHS)
    try:
        months = [int(m) for m in raw if int(m) > 0]
    except (TypeError, ValueError):
        log.warning("invalid accompaniment.followup_months %r: default used", raw)
        return list(DEFAULT_FOLLOWUP_MONTHS)
    return months or list(DEFAULT_FOLLOWUP_MONTHS)


def _tenant(tenant=None):
    if tenant is not None:
        return tenant

    return g.get("tenant") if has_app_context() else None


def local_day(instant: datetime, tenant) -> date:
    return clock.local_day(instant, tenant)


def today(tenant=None) -> date:
    return clock.today(_tenant(tenant))


# -- plan ----------------------------------------------------------------------------------


def loan_months_of(session, case: Case) -> int | None:
    """The loan duration the lender wrote in the (latest) ``granted`` transition."""
    rows = session.scalars(
        select(CaseTransition.data).where(
            CaseTransition.case_id == case.id, CaseTransition.to_state == State.granted.value
        ).order_by(CaseTransition.at.desc())
    ).all()
    for data in rows:
        try:
            months = int((data or {}).get("months"))
        except (TypeError, ValueError):
            continue
        if months > 0:
            return months
    return None


#: Built once (a statement built per call costs more than the read); the tenant's
#: criterion is added per execution by the session (``core.tenancy``).
_PLAN_OF = select(AccompanimentPlan).where(AccompanimentPlan.case_id == bindparam("case_id"))


def plan_of(session, case: Case) -> AccompanimentPlan | None:
    return session.scalar(_PLAN_OF, {"case_id": case.id})


def create_plan(session, case: Case, signed_on: date, tenant=None, actor=None,
                loan_months: int | None = None) -> AccompanimentPlan:
    """Plan the follow-ups of ``case`` from its signing date (once; again returns the plan)."""
    existing = plan_of(session, case)
    if existing is not None:
        return existing
    tenant = _tenant(tenant)
    if loan_months is None:
        loan_months = loan_months_of(session, case)
    months = plan_months(followup_months_setting(tenant), loan_months)
    plan = AccompanimentPlan(case_id=case.id, signed_on=signed_on, loan_months=loan_months,
                             months=months)
    session.add(plan)
    for month, day in plan_dates(signed_on, months):
        session.add(FollowUp(case_id=case.id, plan_month=month, planned_on=day,
                             worker_id=case.social_worker_id,
                             final=loan_months is not None and month == loan_months))
    audit.record(session, "accompaniment.plan", case, actor=actor, months=months,
                 signed_on=signed_on.isoformat(), loan_months=loan_months)
    session.flush()
    return plan


@hookimpl(tryfirst=True)
def ccas_case_after_transition(case, transition, actor, tenant, session) -> None:
    """The tripartite signing (→ withdrawal period) creates the accompaniment plan."""
    if transition.target == State.withdrawal_period:
        tenant = _tenant(tenant)
        create_plan(session, case, local_day(case.state_changed_at, tenant), tenant, actor)


# -- follow-ups ----------------------------------------------------------------------------


_FU = FollowUp.__table__.c
_TASK = AccompanimentTask.__table__.c
#: The case page's reads (``core.row_views``: rows, not objects).
_FOLLOW_UP_VIEWS = row_views.statement(
    FollowUp, _FU.case_id == bindparam("case_id"),
    order_by=(_FU.planned_on.is_(None), _FU.planned_on, _FU.done_on, _FU.created_at))
_PLAN_VIEW = row_views.statement(AccompanimentPlan, AccompanimentPlan.__table__.c.case_id
                                 == bindparam("case_id"))
_TASK_VIEWS = row_views.statement(AccompanimentTask, _TASK.case_id == bindparam("case_id"),
                                  order_by=(_TASK.created_at.desc(), _TASK.id.desc()))


def case_rows(session, case) -> tuple[list, object, list]:
    """The case's follow-ups, plan and tasks as read-only rows (the accompaniment block of
    the case page and of the accompaniment page), in the orders of :func:`follow_ups`
    and :func:`tasks`."""
    params = {"case_id": case.id}
    rows = row_views.read(session, _FOLLOW_UP_VIEWS, params, FollowUp)
    plans = row_views.read(session, _PLAN_VIEW, params, AccompanimentPlan)
    return rows, (plans[0] if plans else None), row_views.read(
        session, _TASK_VIEWS, params, AccompanimentTask)


_FOLLOW_UPS = (select(FollowUp).where(FollowUp.case_id == bindparam("case_id"))
               .order_by(FollowUp.planned_on.is_(None), FollowUp.planned_on, FollowUp.done_on,
                         FollowUp.created_at))


def follow_ups(session, case: Case) -> list[FollowUp]:
    return list(session.scalars(_FOLLOW_UPS, {"case_id": case.id}))


def _overdue(stmt, on: date, worker_id: uuid.UUID | None, limit: int | None,
             core: bool = False):
    """The overdue follow-ups' criteria and order on ``stmt`` (``core``: a Core statement
    of the tables' columns, :func:`joinable`)."""
    cases, case = joinable(Case, core)
    _follow_ups, follow_up = joinable(FollowUp, core)
    stmt = (
        stmt.join(cases, case.id == follow_up.case_id)
        .where(follow_up.done_on.is_(None), follow_up.planned_on < on,
               case.state.in_(sorted(FOLLOW_STATES)))
        .order_by(follow_up.planned_on, follow_up.id)  # the same order at every reading
    )
    if worker_id is not None:
        stmt = stmt.where(case.social_worker_id == worker_id)
    return stmt.limit(limit) if limit is not None else stmt


def overdue(session, on: date, worker_id: uuid.UUID | None = None,
            limit: int | None = None) -> list[FollowUp]:
    """Planned follow-ups not done whose date is past, on cases whose loan still runs
    (of the cases followed by ``worker_id`` when given), oldest first; the first ``limit``
    when given. Each one's case (and its person) read with them: a list shows them."""
    stmt = _overdue(select(FollowUp), on, worker_id, limit)
    return list(session.scalars(stmt.options(selectinload(FollowUp.case))))


class CaseRef(NamedTuple):
    reference: str
    person: PersonName | None  # None where the list shows no one (the tasks)


class FollowUpItem(NamedTuple):
    """An overdue follow-up as the lists show it (``accompaniment/_lists.html``)."""

    case_id: uuid.UUID
    case: CaseRef
    planned_on: date | None
    plan_month: int | None
    final: bool


class TaskItem(NamedTuple):
    """An open task as the lists show it (``accompaniment/_lists.html``)."""

    case_id: uuid.UUID
    case: CaseRef
    kind: str
    message: str
    suggested_action: str
    created_at: datetime

    @property
    def kind_label(self) -> str:  # as ``AccompanimentTask.kind_label``
        return TASK_KIND_LABELS[self.kind]


def overdue_items(session, on: date, worker_id: uuid.UUID | None = None,
                  limit: int | None = None) -> list[FollowUpItem]:
    """:func:`overdue` as light rows (one statement, the case and its person joined, no
    entities): what the dashboard's list shows."""
    stmt = _overdue_items(worker_id is not None, limit is not None)
    rows = tenancy.scoped_rows(session, stmt,
                               {"on": on, "worker_id": worker_id, "limit": limit})
    return [FollowUpItem(r[0], CaseRef(r[1], PersonName(r[2], r[3])), r[4], r[5], r[6])
            for r in rows]


@functools.cache
def _overdue_items(by_worker: bool, limited: bool):
    """:func:`overdue_items`' statement, built once (its values bound per call) under the
    tenant wall (``core.tenancy.scoped_select``): a Core read of the tables."""
    persons, person = joinable(Person, True)
    stmt = _overdue(select(*core_columns(
        FollowUp.case_id, Case.reference, Person.first_name, Person.last_name,
        FollowUp.planned_on, FollowUp.plan_month, FollowUp.final)), bindparam("on"),
        bindparam("worker_id") if by_worker else None,
        bindparam("limit") if limited else None, core=True)
    return tenancy.scoped_select(stmt.join(persons, person.id == Case.__table__.c.person_id))


def _check_worker(actor) -> None:
    if str(getattr(actor, "role", "")) not in SOCIAL_WORKERS:
        raise UserError("Seuls les travailleurs sociaux et la responsable gèrent "
                        "l'accompagnement.", status=403)


@dataclass
class FollowUpForm:
    done_on: str | date = ""
    channel: str = ""
    duration_minutes: str | int = ""
    shared_note: str = ""
    private_note: str = ""
    final: bool = False


def _validate_follow_up(form: FollowUpForm, tenant) -> tuple[date, Channel, int]:
    errors: dict[str, list[str]] = {}
    done_on = None
    try:
        done_on = parse_date(form.done_on, "done_on")
    except UserError as exc:
        errors["done_on"] = [exc.message]
    if done_on is None and "done_on" not in errors:
        errors["done_on"] = ["Indiquez la date du contact (jj/mm/aaaa)."]
    elif done_on is not None and done_on > today(tenant):
        errors["done_on"] = ["La date du contact ne peut pas être dans le futur."]
    try:
        channel = Channel(form.channel)
    except ValueError:
        channel = None
        errors["channel"] = ["Choisissez le moyen du contact : "
                             + ", ".join(CHANNEL_LABELS.values()).lower() + "."]
    try:
        minutes = int(str(form.duration_minutes).strip())
    except ValueError:
        minutes = 0
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        errors["duration_minutes"] = [f"Durée en minutes, entre {MIN_MINUTES} et {MAX_MINUTES}."]
    for name in ("shared_note", "private_note"):
        if len(getattr(form, name) or "") > MAX_NOTE:
            errors[name] = ["10 000 caractères au plus."]
    if form.final and not (form.shared_note or "").strip():
        errors["shared_note"] = ["Le bilan final demande une note partagée (le bilan)."]
    if errors:
        first = next(iter(errors))
        raise UserError(errors[first][0], status=422, field=first, errors=errors)
    return done_on, channel, minutes


def record_follow_up(session, case: Case, actor, form: FollowUpForm,
                     follow_up: FollowUp | None = None, tenant=None) -> FollowUp:
    """Record a contact: the planned ``follow_up`` done, or an unplanned one. Its duration
    becomes accompaniment time of the actor (``core.features.staff_time``)."""
    _check_worker(actor)
    tenant = _tenant(tenant)
    if case.state not in FOLLOW_STATES:
        raise UserError("Les suivis se saisissent pendant la vie du prêt (de la signature à "
                        "la clôture).", status=422)
    if follow_up is not None and follow_up.case_id != case.id:
        raise NotFound("Ce suivi")
    if follow_up is not None and follow_up.done_on is not None:
        raise UserError("Ce suivi est déjà enregistré.", status=409)
    done_on, channel, minutes = _validate_follow_up(form, tenant)
    if follow_up is None:
        follow_up = FollowUp(case_id=case.id)
        session.add(follow_up)
    follow_up.done_on = done_on
    follow_up.channel = channel
    follow_up.duration_minutes = minutes
    follow_up.shared_note = (form.shared_note or "").strip()
    follow_up.private_note = (form.private_note or "").strip()
    follow_up.final = bool(form.final) or follow_up.final
    follow_up.worker_id = actor.id
    follow_up.updated_at = clock.now()
    session.flush()
    staff_time.record(
        session, actor, staff_time.TimeForm(
            day=done_on, minutes=minutes, activity=Activity.follow_up.value,
            category=TimeCategory.accompaniment.value, note="Suivi d'accompagnement"),
        case=case, source=f"follow_up:{follow_up.id}", tenant=tenant, audited=False,
    )
    audit.record(session, "accompaniment.follow_up", case, actor=actor,
                 follow_up=str(follow_up.id), channel=channel.value, minutes=minutes,
                 final=follow_up.final)
    return follow_up


def get_follow_up(session, case: Case, follow_up_id) -> FollowUp:
    row = session.scalar(select(FollowUp).where(FollowUp.id == _uuid(follow_up_id, "Ce suivi"),
                                                FollowUp.case_id == case.id))
    if row is None:
        raise NotFound("Ce suivi")
    return row


def has_final_summary(session, case: Case) -> bool:
    return bool(session.scalar(
        select(func.count()).select_from(FollowUp).where(
            FollowUp.case_id == case.id, FollowUp.final.is_(True), FollowUp.done_on.is_not(None))
    ))


FINAL_SUMMARY_MISSING = (
    "Clôture impossible : enregistrez d'abord le bilan final de l'accompagnement (un suivi "
    "marqué « bilan final » avec sa note partagée)."
)


@hookimpl
def ccas_case_before_transition(case, transition, session) -> str | None:
    """A case closes (repaid, early repayment or default) only once the final
    accompaniment summary is recorded."""
    if transition.name != "close":
        return None
    if has_final_summary(session, case):
        return None
    return FINAL_SUMMARY_MISSING


# -- tasks ---------------------------------------------------------------------------------

#: What the borrower may report (code -> label, task kind, suggested action).
CHANGES: dict[str, tuple[str, TaskKind, str]] = {
    "income_drop": ("Baisse de ressources", TaskKind.borrower_change,
                    "Refaire le budget avec la personne et vérifier les droits ouverts "
                    "(CAF, aides facultatives) ; si l'échéance devient trop lourde, proposer "
                    "au prêteur un report ou un réaménagement."),
    "job_loss": ("Perte d'emploi", TaskKind.borrower_change,
                 "Rencontrer la personne sous quinze jours, vérifier l'ouverture des droits "
                 "chômage et refaire le budget ; prévenir le prêteur si un report est utile."),
    "moving": ("Déménagement", TaskKind.borrower_change,
               "Mettre à jour les coordonnées et vérifier l'impact du nouveau loyer sur le "
               "budget."),
    "family": ("Changement de situation familiale", TaskKind.borrower_change,
               "Faire le point sur les ressources et les charges du foyer, orienter vers les "
               "aides liées à la nouvelle situation."),
    "health": ("Problème de santé", TaskKind.borrower_change,
               "Prendre des nouvelles, vérifier les indemnités et l'assurance du prêt, "
               "orienter vers le service social de la CPAM si besoin."),
    "bounced_payment": ("Prélèvement rejeté", TaskKind.bounced_payment,
                        "Appeler la personne dans la semaine pour comprendre le rejet et "
                        "convenir avec elle et le prêteur d'une régularisation."),
    "other": ("Autre changement", TaskKind.borrower_change,
              "Prendre contact avec la personne et faire le point sur sa situation."),
}

LATE_ACTION = ("Appeler la personne dans la semaine, refaire le budget avec elle et, si "
               "besoin, proposer au prêteur un report ou un réaménagement des échéances.")
DEFAULT_ACTION = ("Rencontrer la personne rapidement, faire le point complet sur le budget et "
                  "les dettes, et orienter si besoin vers la commission de surendettement ; "
                  "préparer le bilan final de l'accompagnement.")
BOUNCED_ACTION = CHANGES["bounced_payment"][2]


def create_task(session, case: Case, kind: TaskKind | str, message: str,
                suggested_action: str = "", source: str = "", actor=None) -> AccompanimentTask:
    """Open a task for the case's social worker. An open task of the same kind on the same
    case is updated instead (one alert per problem, not one per import)."""
    kind = TaskKind(kind)
    existing = session.scalar(
        select(AccompanimentTask).where(
            AccompanimentTask.case_id == case.id, AccompanimentTask.kind == kind,
            AccompanimentTask.status == TaskStatus.open)
    )
    if existing is not None and kind != TaskKind.borrower_change:
        existing.message = message
        existing.suggested_action = suggested_action or existing.suggested_action
        audit.record(session, "accompaniment.task.update", case, actor=actor,
                     task=str(existing.id), kind=kind.value)
        return existing
    task = AccompanimentTask(case_id=case.id, kind=kind, message=message,
                             suggested_action=suggested_action, source=source,
                             assigned_to_id=case.social_worker_id)
    session.add(task)
    session.flush()
    audit.record(session, "accompaniment.task", case, actor=actor, task=str(task.id),
                 kind=kind.value, source=source)
    return task


def report_change(session, case: Case, actor, change: str, description: str = "") -> \
        AccompanimentTask:
    """The borrower reported a change (form): a task with the suggested action."""
    if str(getattr(actor, "role", "")) not in CCAS_STAFF:
        raise UserError("Votre rôle ne permet pas cette action.", status=403)
    if case.state not in FOLLOW_STATES:
        raise UserError("Un changement se signale pendant la vie du prêt.", status=422)
    errors = {}
    if change not in CHANGES:
        errors["change"] = ["Choisissez la nature du changement."]
    description = (description or "").strip()
    if len(description) > 2000:
        errors["description"] = ["2 000 caractères au plus."]
    if change == "other" and not description:
        errors["description"] = ["Décrivez le changement."]
    if errors:
        first = next(iter(errors))
        raise UserError(errors[first][0], status=422, field=first, errors=errors)
    label, kind, action = CHANGES[change]
    message = f"{label} signalé(e) le {today().strftime('%d/%m/%Y')}"
    message += f" : {description}" if description else "."
    return create_task(session, case, kind, message, action, source=f"form:{change}",
                       actor=actor)


def close_task(session, task: AccompanimentTask, actor, outcome: str = "") -> AccompanimentTask:
    _check_worker(actor)
    if task.status == TaskStatus.done:
        raise UserError("Cette tâche est déjà traitée.", status=409)
    outcome = (outcome or "").strip()
    if not outcome:
        raise UserError("Indiquez ce qui a été fait.", status=422, field="outcome")
    if len(outcome) > 2000:
        raise UserError("2 000 caractères au plus.", status=422, field="outcome")
    task.status = TaskStatus.done
    task.outcome = outcome
    task.closed_at = clock.now()
    task.closed_by_label = audit.actor_label(actor)
    audit.record(session, "accompaniment.task.close", task.case, actor=actor,
                 task=str(task.id))
    return task


def get_task(session, task_id) -> AccompanimentTask:
    row = session.scalar(select(AccompanimentTask).where(
        AccompanimentTask.id == _uuid(task_id, "Cette tâche")))
    if row is None:
        raise NotFound("Cette tâche")
    return row


_CASE_TASKS = (select(AccompanimentTask).where(AccompanimentTask.case_id == bindparam("case_id"))
               .order_by(AccompanimentTask.created_at.desc(), AccompanimentTask.id.desc()))


def _tasks(stmt, case, open_only, worker_id, limit, core: bool = False):
    """The tasks' criteria and order on ``stmt`` (``core``: a Core statement of the
    tables' columns, :func:`joinable`)."""
    _tasks_table, task = joinable(AccompanimentTask, core)
    stmt = stmt.order_by(task.created_at.desc(), task.id.desc())
    if case is not None:
        stmt = stmt.where(task.case_id == case.id)
    if open_only:
        stmt = stmt.where(task.status == TaskStatus.open)
    if worker_id is not None:
        stmt = stmt.where((task.assigned_to_id == worker_id) | task.assigned_to_id.is_(None))
    return stmt.limit(limit) if limit is not None else stmt


def tasks(session, case: Case | None = None, open_only: bool = False,
          worker_id: uuid.UUID | None = None,
          limit: int | None = None) -> list[AccompanimentTask]:
    """The accompaniment tasks, newest first (of ``case``, open ones, those of
    ``worker_id`` or of no one; the first ``limit``), each with its case (and person)."""
    if case is not None and not open_only and worker_id is None and limit is None:
        stmt, params = _CASE_TASKS, {"case_id": case.id}  # the case page's: built once
    else:
        stmt, params = _tasks(select(AccompanimentTask), case, open_only, worker_id,
                              limit), {}
    if case is not None:
        # the case's own tasks: their case is ``case``, not read again
        rows = list(session.scalars(stmt, params))
        for row in rows:
            set_committed_value(row, "case", case)
        return rows
    return list(session.scalars(stmt.options(selectinload(AccompanimentTask.case))))


def task_items(session, open_only: bool = False, worker_id: uuid.UUID | None = None,
               limit: int | None = None) -> list[TaskItem]:
    """:func:`tasks` (of any case) as light rows (one statement, the case's reference
    joined, no entities): what the dashboard's list shows."""
    stmt = _task_items(open_only, worker_id is not None, limit is not None)
    rows = tenancy.scoped_rows(session, stmt, {"worker_id": worker_id, "limit": limit})
    return [TaskItem(r[0], CaseRef(r[1], None), r[2], r[3], r[4], r[5]) for r in rows]


@functools.cache
def _task_items(open_only: bool, by_worker: bool, limited: bool):
    """:func:`task_items`' statement, built once (its values bound per call) under the
    tenant wall (``core.tenancy.scoped_select``): a Core read of the tables."""
    cases, case = joinable(Case, True)
    tasks_table, task = joinable(AccompanimentTask, True)
    return tenancy.scoped_select(_tasks(
        select(*core_columns(AccompanimentTask.case_id, Case.reference,
                             AccompanimentTask.kind, AccompanimentTask.message,
                             AccompanimentTask.suggested_action,
                             AccompanimentTask.created_at))
        .join_from(tasks_table, cases, case.id == task.case_id),
        None, open_only, bindparam("worker_id") if by_worker else None,
        bindparam("limit") if limited else None, core=True))


def _uuid(value, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound(what) from exc


# -- loan events (internal hook implementation) ----------------------------------------------


@hookimpl
def ccas_loan_event(loan, event, data, session):
    """Late instalment, default or bounced payment: a task for the social worker."""
    data = data or {}
    if event not in ("late", "default", "bounced") and not (
        event == "repayment" and (data.get("bounced") or data.get("rejected"))
    ):
        return None
    case = session.scalar(select(Case).where(Case.id == loan.case_id))
    if case is None:
        log.warning("loan event %s for unknown case %s", event, loan.case_id)
        return None
    if event == "late":
        days = data.get("days_late")
        message = (f"Échéance impayée depuis {formats.plural(int(days), 'jour', 'jours')}."
                   if days is not None
                   else "Échéance impayée.")
        if data.get("amount") is not None:
            message += f" Montant dû : {formats.money(data['amount'])}."
        create_task(session, case, TaskKind.late_instalment, message, LATE_ACTION,
                    source="loan:late")
    elif event == "default":
        create_task(session, case, TaskKind.loan_default,
                    "Le prêteur a déclaré la défaillance de l'emprunteur.", DEFAULT_ACTION,
                    source="loan:default")
    else:
        create_task(session, case, TaskKind.bounced_payment,
                    "Un prélèvement d'échéance a été rejeté.", BOUNCED_ACTION,
                    source="loan:bounced")
    return None


# -- what the lender may know ------------------------------------------------------------------

STATUS_LABELS = {
    "acting": "Alerte prise en charge par le CCAS",
    "following": "En cours de suivi par le CCAS",
    "closed": "Accompagnement terminé",
    "none": "Pas d'accompagnement en cours",
}


def status_code(session, case: Case) -> str:
    """``acting`` (an open task), ``following`` (a plan), ``closed`` (final summary
    recorded) or ``none``. No detail of the task or the notes."""
    if session.scalar(select(func.count()).select_from(AccompanimentTask).where(
            AccompanimentTask.case_id == case.id, AccompanimentTask.status == TaskStatus.open)):
        return "acting"
    if has_final_summary(session, case):
        return "closed"
    if plan_of(session, case) is not None:
        return "following"
    return "none"


def status_label(case: Case, session) -> str:
    return STATUS_LABELS[status_code(session, case)]


def status_of(tasks_of_case, follow_ups_of_case, plan) -> str:
    """:func:`status_code` from the case's rows already read (all its tasks, all its
    follow-ups, its plan): the case page's block has them, and three more queries for
    the same answer cost more than the block."""
    if any(t.status == TaskStatus.open for t in tasks_of_case):
        return "acting"
    if any(f.final and f.done_on is not None for f in follow_ups_of_case):
        return "closed"
    return "following" if plan is not None else "none"
