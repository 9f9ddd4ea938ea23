"""The accompaniment of the borrowers: the follow-up plan from the signing, the contacts
held (and a few overdue), the closing summary, and the social worker's tasks (late
instalments, defaults, changes the borrower reported)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ..features.accompaniment import add_months, followup_months_setting, plan_months
from ..models import AccompanimentPlan, AccompanimentTask, FollowUp
from .cases import Made, instant
from .cast import Cast
from .rows import Rows

NOTES = (
    "Budget revu ensemble : la facture d'énergie a baissé après le changement de contrat.",
    "Point sur le budget du mois ; la personne tient ses comptes à jour.",
)
#: Notes that fit some borrowers only (see :func:`follow_up_notes`).
UP_TO_DATE = "Remboursements à jour ; pas de difficulté signalée."
VEHICLE = "Remboursements à jour ; le véhicule permet de tenir le poste en horaires décalés."
NEW_JOB = "La personne a retrouvé un CDI ; pas de difficulté signalée."
LATE = "Retard ponctuel expliqué par un décalage du versement des prestations."
SPOUSE = "Point sur le dossier de surendettement du conjoint, sans effet sur le prêt."


def follow_up_notes(item: Made) -> tuple[str, ...]:
    """The notes a follow-up contact of ``item`` may carry: repayments up to date only
    for a borrower who pays on time, a late payment for one who is late, a new job for
    someone without a permanent one, a spouse's debts with a spouse."""
    story, person = item.story, item.person
    notes = NOTES
    if story.fate in ("on_time", "repaid_early"):
        notes += (VEHICLE if story.purpose == "mobility" else UP_TO_DATE,)
    elif story.fate in ("late", "defaulted"):
        notes += (LATE,)
    if person["employment"] in ("cdd", "interim", "part_time", "unemployed",
                                "minimum_benefits"):
        notes += (NEW_JOB,)
    if any(m.relationship == "spouse" for m in item.household):
        notes += (SPOUSE,)
    return notes


#: Employments with a work contract (that may end).
WORKING = ("cdi", "cdd", "interim", "part_time")
FINAL = "Synthèse de fin d'accompagnement : prêt mené à terme, budget stabilisé."
FINAL_DEFAULT = "Synthèse : défaillance déclarée ; orientation vers le point conseil budget."


def add(rows: Rows, made: list[Made], cast: Cast, tenant, today: date,
        zone: ZoneInfo) -> None:
    rng = rows.rng
    worker = cast.user_id("social_worker")
    setting = followup_months_setting(tenant)
    for item in made:
        story = item.story
        signed = story.day_of("withdrawal_period")
        if signed is None:
            continue
        case_id = item.case.id
        months = plan_months(setting, story.months)
        rows.add(AccompanimentPlan, case_id=case_id, signed_on=signed,
                 loan_months=story.months, months=months,
                 created_at=instant(signed, 240, zone))
        ended = story.day_of("closed") or story.day_of("withdrawn")
        notes = follow_up_notes(item)
        for month in months:
            planned = add_months(signed, month)
            if ended is not None and planned >= ended:
                break
            done = planned + timedelta(days=rng.randint(-3, 10))
            # a few recent contacts not made yet: the social worker's overdue list
            overdue = (today - timedelta(days=60) < planned < today and ended is None
                       and rng.random() < 0.3)
            if done > today or overdue:
                rows.add(FollowUp, case_id=case_id, plan_month=month, planned_on=planned,
                         worker_id=worker, created_at=instant(signed, 241, zone),
                         updated_at=instant(signed, 241, zone))
                continue
            rows.add(FollowUp, case_id=case_id, plan_month=month, planned_on=planned,
                     done_on=done, channel=rng.choice(("phone", "meeting", "phone", "email")),
                     duration_minutes=rng.choice((20, 30, 45)), shared_note=rng.choice(notes),
                     worker_id=worker, created_at=instant(signed, 241, zone),
                     updated_at=instant(done, 300, zone))
        if story.state == "closed":
            closing = story.day_of("closed")
            rows.add(FollowUp, case_id=case_id, done_on=closing, channel="meeting",
                     duration_minutes=45, final=True, worker_id=worker,
                     shared_note=FINAL_DEFAULT if story.fate == "defaulted" else FINAL,
                     created_at=instant(closing, 0, zone), updated_at=instant(closing, 0, zone))
        _tasks(rows, item, cast, today, zone)


def _tasks(rows: Rows, item: Made, cast: Cast, today: date, zone: ZoneInfo) -> None:
    story = item.story
    worker = cast.user_id("social_worker")
    if story.fate == "late" and story.state == "repaying":
        rows.add(AccompanimentTask, case_id=item.case.id, kind="late_instalment",
                 message="Échéance impayée : contacter l'emprunteur.",
                 suggested_action="Appeler la personne et revoir son budget.",
                 assigned_to_id=worker, source="loan:late",
                 created_at=instant(today - timedelta(days=rows.rng.randint(3, 20)), 0, zone))
    if story.fate == "defaulted" and story.day_of("repaying"):
        closed = story.day_of("closed")
        opened = closed - timedelta(days=90) if closed else \
            today - timedelta(days=rows.rng.randint(10, 60))
        rows.add(AccompanimentTask, case_id=item.case.id, kind="late_instalment",
                 message="Plusieurs échéances impayées.",
                 suggested_action="Proposer un rendez-vous budgétaire.",
                 assigned_to_id=worker, source="loan:late",
                 status="done" if closed else "open",
                 created_at=instant(max(story.day_of("repaying"), opened), 0, zone),
                 closed_at=instant(closed, 10, zone) if closed else None,
                 closed_by_label=cast.label("social_worker") if closed else "",
                 outcome="Plan d'apurement refusé ; défaillance déclarée." if closed else "")
        if closed:
            rows.add(AccompanimentTask, case_id=item.case.id, kind="loan_default",
                     message="Défaillance déclarée par le prêteur.",
                     suggested_action="Orienter vers le point conseil budget.",
                     assigned_to_id=worker, source="loan:default",
                     created_at=instant(closed, 5, zone))
    if story.state == "repaying" and item.person["employment"] in WORKING \
            and rows.rng.random() < 0.1:  # a contract that ends: someone who has one
        rows.add(AccompanimentTask, case_id=item.case.id, kind="borrower_change",
                 message="Changement de situation signalé : fin de contrat de travail.",
                 suggested_action="Revoir le budget et l'échéancier avec la personne.",
                 assigned_to_id=worker, source="form",
                 created_at=instant(today - timedelta(days=rows.rng.randint(1, 15)), 0, zone))
