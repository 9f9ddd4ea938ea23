"""The role dashboards ("my work"), registered as sections of the dashboard page.

Secretary: new intake sheets, documents awaited (a lender plugin adds what its own check
asks of the secretary). Social worker: cases to evaluate and to instruct (today's appointments
come from the appointments feature). Manager: cases per state, cases stuck longer than
``tenant.settings["workflow"]["stuck_after_days"]`` (default :data:`STUCK_AFTER_DAYS`),
median delays per step. Lender agent: files submitted to the lender (the lender plugin
adds its own queues).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, g
from flask_login import current_user
from sqlalchemy import bindparam, func, select

from .. import clock, formats, labels, paging, tenancy, workflow
from ..cases.items import CASE_ITEM, CASE_ITEM_CORE, CaseItem, case_item
from ..db import db
from ..features import workshops
from ..hookspecs import hookimpl
from ..models import (
    Appointment,
    AppointmentStatus,
    Case,
    Organisation,
    Referral,
    State,
)
from ..models.referral import AWAITING_ANSWER, CLOSED
from ..plugins.types import Panel
from ..reports import charts, queries, workload

STUCK_AFTER_DAYS = 30
LIMIT = 15
#: The manager's stuck cases and the lender's submitted files listed at most (the oldest
#: move first); beyond, the count says "plus de".
STUCK_SHOWN = 50

#: Each role's own block of the dashboard: ``{role: (template, order)}``.
ROLE_BLOCKS = {
    "secretary": ("dashboards/secretary.html", 10),
    "social_worker": ("dashboards/social_worker.html", 10),
    "manager": ("dashboards/manager.html", 10),
    "lender_agent": ("dashboards/lender.html", 20),
    "referrer": ("dashboards/referrer.html", 10),
}


@hookimpl
def ccas_dashboard_panels(user):
    block = ROLE_BLOCKS.get(str(user.role))
    if block is None:
        return None
    template, order = block
    return [Panel("Mon travail", template=template, order=order)]


#: The manager's median delays cover the cases opened in the last this many days.
DELAY_WINDOW_DAYS = 365


def stuck_after_days(tenant) -> int:
    value = ((tenant.settings or {}).get("workflow") or {}).get("stuck_after_days")
    try:
        return int(value) if value not in (None, "") else STUCK_AFTER_DAYS
    except (TypeError, ValueError):
        return STUCK_AFTER_DAYS


def _cases(*where, order=None, limit=LIMIT) -> list[CaseItem]:
    """The cases a list shows (reference, person, state, last move), as light rows."""
    # the reference breaks ties: cases moved in the same instant keep their order
    stmt = CASE_ITEM.where(*where).order_by(
        *((order,) if order is not None else (Case.state_changed_at, Case.reference)))
    return [case_item(row) for row in db.session.execute(stmt.limit(limit))]


def _count(*where) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Case).where(*where)) or 0)


def secretary_work() -> dict:
    return {
        "new_intakes": _cases(Case.state == State.intake),
        "new_intakes_total": _count(Case.state == State.intake),
        "documents": _cases(Case.state == State.documents_requested),
        "documents_total": _count(Case.state == State.documents_requested),
    }


def social_worker_work() -> dict:
    mine = (Case.social_worker_id == current_user.id) | Case.social_worker_id.is_(None)
    evaluate = Case.state.in_([State.documents_requested, State.evaluation])
    instruct = Case.state.in_([State.instruction, State.adjourned])
    return {
        "to_evaluate": _cases(evaluate, mine), "to_evaluate_total": _count(evaluate, mine),
        "to_instruct": _cases(instruct, mine), "to_instruct_total": _count(instruct, mine),
    }


# -- the team's charts (secretary, social worker) ------------------------------------------

#: Weeks of requests on the secretary's chart; working days of appointments ahead.
REQUEST_WEEKS = 8
APPOINTMENT_DAYS = 10
#: Age bands (days) of the files waiting for documents, and of a worker's open files.
DOCUMENT_BANDS = (8, 15, 31)
OPEN_CASE_BANDS = (15, 31, 61, 91)


def _local_day(value: datetime, tenant) -> date:
    return value.astimezone(clock.zone(tenant)).date()


def _appointment_days(tenant, first: date, last: date, worker_id=None) -> list[date]:
    """Local days of the appointments from ``first`` to ``last`` (a worker's own, or
    the whole team's), held or to come; a moved one counts once, at its new time."""
    tz = clock.zone(tenant)
    stmt = select(Appointment.starts_at).where(
        Appointment.starts_at >= datetime.combine(first, time(), tz).astimezone(UTC),
        Appointment.starts_at < datetime.combine(last + timedelta(days=1), time(), tz)
        .astimezone(UTC),
        Appointment.status != AppointmentStatus.moved)
    if worker_id is not None:
        stmt = stmt.where(Appointment.social_worker_id == worker_id)
    return [_local_day(at, tenant) for at in db.session.scalars(stmt)]


def _waiting_ages(tenant, today: date, *where) -> list[int]:
    """Days since each matching case entered its state."""
    return [(today - _local_day(at, tenant)).days for at in db.session.scalars(
        select(Case.state_changed_at).where(*where))]


def _chart_rows(rows) -> list[tuple[str, int, str]]:
    return [(label, n, formats.number(n)) for label, n in rows]


def secretary_overview() -> dict:
    """The secretary's figures: requests received per week (the last
    :data:`REQUEST_WEEKS`), the team's planned appointments of the next
    :data:`APPOINTMENT_DAYS` working days, the files waiting for documents by age."""
    tenant = g.tenant
    today = clock.today(tenant)
    since = workload.week_start(today) - timedelta(weeks=REQUEST_WEEKS - 1)
    received = list(db.session.scalars(select(Case.intake_date).where(
        Case.intake_date >= since, Case.intake_date <= today)))
    weeks = workload.per_week(received, today, REQUEST_WEEKS)
    days = workload.per_day([], today, APPOINTMENT_DAYS)
    upcoming = workload.per_day(
        _appointment_days(tenant, today, days[-1][1]), today, APPOINTMENT_DAYS)
    waiting = workload.age_bands(
        _waiting_ages(tenant, today, Case.state == State.documents_requested), DOCUMENT_BANDS)
    month_start = today.replace(day=1)
    return {
        "key_figures": {
            "this_week": weeks[-1][2],
            "this_month": _count(Case.intake_date >= month_start, Case.intake_date <= today),
            "appointments": sum(n for _l, _d, n in upcoming),
            "waiting_documents": sum(n for _l, n in waiting),
        },
        "weeks": weeks, "upcoming": upcoming, "waiting": waiting,
        "days_ahead": APPOINTMENT_DAYS,
        "charts": {
            "weeks": charts.column_chart(
                "graphique-demandes-semaines",
                f"Demandes reçues par semaine, les {REQUEST_WEEKS} dernières semaines",
                [(f"{label}", n, formats.number(n)) for label, _d, n in weeks], col_w=58),
            "upcoming": charts.column_chart(
                "graphique-rdv-a-venir",
                f"Rendez-vous prévus, les {APPOINTMENT_DAYS} prochains jours ouvrés",
                [(label, n, formats.number(n)) for label, _d, n in upcoming], col_w=72),
            "waiting": charts.horizontal_bars(
                "graphique-attente-pieces", "Dossiers en attente de pièces, depuis",
                _chart_rows(waiting)),
        },
    }


def social_worker_overview() -> dict:
    """A social worker's figures, on the cases assigned to them: open cases by state,
    the age of the files not decided yet (days since the request), their planned
    appointments this week and next."""
    tenant = g.tenant
    today = clock.today(tenant)
    flow = workflow.current()
    mine = Case.social_worker_id == current_user.id
    counts = dict(db.session.execute(
        select(Case.state, func.count()).where(mine).group_by(Case.state)).all())
    by_state = [(code, state.label, counts[code]) for code, state in flow.states.items()
                if counts.get(code) and not state.terminal]
    undecided = [code for code, state in flow.states.items()
                 if state.outcome == "in_progress" and not state.terminal]
    ages = [(today - day).days for day in db.session.scalars(
        select(Case.intake_date).where(mine, Case.state.in_(undecided)))]
    bands = workload.age_bands(ages, OPEN_CASE_BANDS)
    monday = workload.week_start(today)
    ahead = workload.per_day([], today, APPOINTMENT_DAYS)[-1][1]  # the last working day
    appointments = _appointment_days(tenant, monday, max(monday + timedelta(days=13), ahead),
                                     worker_id=current_user.id)
    upcoming = workload.per_day(
        [d for d in appointments if d >= today], today, APPOINTMENT_DAYS)
    return {
        "key_figures": {
            "open": sum(n for _c, _l, n in by_state),
            "this_week": workload.in_range(appointments, monday, monday + timedelta(days=6)),
            "next_week": workload.in_range(appointments, monday + timedelta(days=7),
                                           monday + timedelta(days=13)),
            "waiting_documents": counts.get(State.documents_requested.value, 0),
        },
        "by_state": by_state, "bands": bands, "upcoming": upcoming,
        "days_ahead": APPOINTMENT_DAYS,
        "charts": {
            "by_state": charts.horizontal_bars(
                "graphique-mes-etats", "Mes dossiers en cours, par état",
                [(label, n, formats.number(n)) for _c, label, n in by_state]),
            "bands": charts.horizontal_bars(
                "graphique-mes-delais",
                "Mes dossiers pas encore décidés, depuis la demande", _chart_rows(bands)),
            "upcoming": charts.column_chart(
                "graphique-mes-rdv",
                f"Mes rendez-vous, les {APPOINTMENT_DAYS} prochains jours ouvrés",
                [(label, n, formats.number(n)) for label, _d, n in upcoming], col_w=72),
        },
    }


#: The manager's reads, built once with the tenant criterion on every table they read
#: (``core.tenancy.scoped_select``) and run as Core: building them per request cost more
#: than running them, and the ORM's per-statement cost (the loader criteria added, the
#: statement's cache key computed again with them) more than the Core read.
_CASES, _ORGS, _REFERRALS = Case.__table__, Organisation.__table__, Referral.__table__
_STATE_COUNTS = tenancy.scoped_select(
    select(_CASES.c.state, func.count()).group_by(_CASES.c.state))
_STUCK = tenancy.scoped_select(
    CASE_ITEM_CORE.where(_CASES.c.state.in_(bindparam("open_states", expanding=True)),
                         _CASES.c.state_changed_at < bindparam("limit"))
    .order_by(_CASES.c.state_changed_at, _CASES.c.reference).limit(bindparam("shown")))
_RECEIVED = tenancy.scoped_select(
    select(func.count()).select_from(_CASES).where(
        _CASES.c.intake_date >= bindparam("first_day"),
        _CASES.c.intake_date <= bindparam("last_day")))
_BY_PARTNER = tenancy.scoped_select(
    select(_ORGS.c.name, func.count(_REFERRALS.c.id))
    .join_from(_REFERRALS, _ORGS, _ORGS.c.id == _REFERRALS.c.from_organisation_id)
    .where(_REFERRALS.c.created_at >= bindparam("start"),
           _REFERRALS.c.created_at < bindparam("end"), _ORGS.c.kind != "ccas")
    .group_by(_ORGS.c.name))


def manager_overview() -> dict:
    session = db.session
    counts = dict(tenancy.scoped_rows(session, _STATE_COUNTS))
    flow = workflow.current()
    days = stuck_after_days(g.tenant)
    limit = clock.now() - timedelta(days=days)
    # the loan's repayment is not a stuck file: it moves once a month at most
    open_states = [code for code, state in flow.states.items() if not state.terminal
                   and code not in (State.disbursed, State.repaying)]
    stuck, stuck_beyond = paging.capped([case_item(row) for row in tenancy.scoped_rows(
        session, _STUCK, {"open_states": open_states, "limit": limit,
                          "shown": STUCK_SHOWN + 1})], STUCK_SHOWN)
    # the delays of the cases opened in the last year: what the team works on now, and a
    # bounded read however long the tenant's history (the yearly report covers the rest);
    # the medians computed by the database (one query, one row per step)
    steps = queries.median_delays(
        session, flow, clock.today(g.tenant) - timedelta(days=DELAY_WINDOW_DAYS))
    year = clock.today(g.tenant).year
    received = tenancy.scoped_rows(session, _RECEIVED, {"first_day": date(year, 1, 1),
                                                        "last_day": date(year, 12, 31)})[0][0]
    by_state = [(code, state.label, counts[code]) for code, state in flow.states.items()
                if counts.get(code)]
    return {
        "counts": by_state,
        "chart": charts.horizontal_bars(
            "graphique-etats", "Nombre de dossiers par état",
            [(label, n, formats.number(n)) for _code, label, n in by_state]),
        "key_figures": {
            "open": sum(n for code, n in counts.items()
                        if code in flow.states and not flow.states[code].terminal),
            "received": received, "year": year,
            "granted": sum(n for code, n in counts.items()
                           if code in flow.states and flow.states[code].outcome == "granted"),
        },
        "total": sum(counts.values()),
        "stuck": stuck, "stuck_beyond": stuck_beyond, "stuck_days": days,
        **_manager_charts(steps, year),
    }


def _manager_charts(steps, year: int) -> dict:
    """The manager's other pictures, each with its rows for the table under it: the median
    delay of each step, the year's referrals received by partner, the year's workshop
    attendance by theme."""
    timed = [d for d in steps if d.median_days is not None]
    by_partner = referrals_by_partner(db.session, g.tenant, year)
    start, end = clock.year_bounds(year, g.tenant)
    attendance = workshops.attendance_by_theme(db.session, start, min(end, clock.now()))
    return {
        "delays": steps,
        "delays_chart": charts.horizontal_bars(
            "graphique-delais", "Délai médian par étape, en jours",
            [(d.label, d.median_days, _days(d.median_days)) for d in timed]) if timed else "",
        "partners": by_partner,
        "partner_rows": [(name, formats.number(n), None) for name, n in by_partner],
        "partners_chart": charts.horizontal_bars(
            "graphique-partenaires", f"Orientations reçues en {year}, par partenaire",
            _chart_rows(by_partner)) if by_partner else "",
        "workshops": attendance,
        "workshop_rows": [(theme, f"{present} sur {seated}", None)
                          for theme, present, seated in attendance],
        "workshops_chart": charts.horizontal_bars(
            "graphique-ateliers", f"Présence aux ateliers en {year}, par thème",
            [(theme, present, f"{present} sur {seated}")
             for theme, present, seated in attendance]) if attendance else "",
    }


def _days(value) -> str:
    """``12.5`` → ``"12,5 jours"`` (French: below 2, singular)."""
    return f"{formats.number(value, 1)} {'jour' if value < 2 else 'jours'}"


def referrals_by_partner(session, tenant, year: int) -> list[tuple[str, int]]:
    """The referrals the partners sent to the city's CCAS in ``year`` (Paris dates), by
    sending organisation, most first."""
    start, end = clock.year_bounds(year, tenant)
    rows = tenancy.scoped_rows(session, _BY_PARTNER, {"start": start, "end": end})
    return sorted(((name, n) for name, n in rows), key=lambda r: (-r[1], r[0]))


def lender_files() -> dict:
    submitted, beyond = paging.capped(
        _cases(Case.state == State.submitted_to_lender, limit=STUCK_SHOWN + 1), STUCK_SHOWN)
    return {"submitted": submitted, "submitted_beyond": beyond}


def partner_referrals() -> dict:
    """A partner's referrals: those sent by its organisation by status (key figures and a
    chart), and those waiting for its answer."""
    org_id = current_user.organisation_id
    year = clock.today(g.tenant).year
    year_start, _end = clock.year_bounds(year, g.tenant)
    sent = dict(db.session.execute(
        select(Referral.status, func.count())
        .where(Referral.from_organisation_id == org_id).group_by(Referral.status)).all())
    by_status = [(labels.label("referral_status", code), n)
                 for code, n in sorted(sent.items(), key=lambda kv: -kv[1])]
    waiting, waiting_beyond = paging.capped(db.session.scalars(
        select(Referral).where(Referral.to_organisation_id == org_id,
                               Referral.status.in_(AWAITING_ANSWER))
        .order_by(Referral.created_at).limit(LIMIT + 1)).all(), LIMIT)
    this_year = db.session.scalar(select(func.count()).select_from(Referral).where(
        Referral.from_organisation_id == org_id,
        Referral.created_at >= year_start))
    return {
        "sent_total": sum(sent.values()), "sent_this_year": this_year,
        "year": year, "waiting": waiting, "waiting_beyond": waiting_beyond,
        "in_progress": sum(n for code, n in sent.items() if code not in CLOSED),
        "chart": charts.horizontal_bars(
            "graphique-orientations", "Mes orientations par statut",
            [(label, n, formats.number(n)) for label, n in by_status]) if by_status else "",
    }


DATA = {
    "partner_referrals": partner_referrals,
    "secretary_work": secretary_work,
    "social_worker_work": social_worker_work,
    "secretary_overview": secretary_overview,
    "social_worker_overview": social_worker_overview,
    "manager_overview": manager_overview,
    "lender_files": lender_files,
}


#: No route: the blueprint only gives the dashboard templates their data.
bp = Blueprint("dashboards", __name__)


@bp.app_template_global("dashboard_data")
def dashboard_data(name: str) -> dict:
    """Data of the dashboard section ``name`` (called by its template)."""
    return DATA[name]()
