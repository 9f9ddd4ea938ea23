"""The applicants, their cases and every move of each case, with the audit trail, written
in bulk from the stories (``core.demo.stories``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_UP, Decimal
from zoneinfo import ZoneInfo

from ..models import AuditEvent, Case, CaseTransition, Person
from ..plugins.types import DemoCase
from .cast import Cast
from .people import person_values
from .rows import Rows
from .stories import Story

PROJECTS = {
    "mobility": ("Achat d'un véhicule d'occasion pour se rendre au travail.",
                 "Financement du permis de conduire.",
                 "Réparation de la voiture indispensable pour un emploi en horaires décalés."),
    "housing": ("Dépôt de garantie et premier loyer d'un nouveau logement.",
                "Frais d'installation dans un logement social."),
    "debts": ("Regroupement de petites dettes (loyer, énergie) avec un plan d'apurement.",
              "Solde d'un arriéré de loyer pour éviter une procédure d'expulsion."),
    "training": ("Financement d'une formation qualifiante (aide-soignante).",
                 "Frais d'une formation de cariste."),
    "household_equipment": ("Remplacement du réfrigérateur et de la machine à laver.",),
    "health": ("Reste à charge de soins dentaires.", "Achat de lunettes et d'appareils."),
    "employment": ("Achat d'outillage pour un emploi d'artisan salarié.",),
    "other": ("Frais d'obsèques d'un proche.",),
}

#: Minutes after 9:00 of each move of a day (moves of one day keep their order).
STEP_MINUTES = 17
#: Minutes after 9:00 by which every event of a day is placed (moves, documents,
#: interviews, budgets, referrals, follow-ups): a day's activity is over at 15:00.
DAY_MINUTES = 360


def instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """``minutes`` after 9:00 on ``day`` in the tenant's zone, as a UTC instant."""
    local = datetime.combine(day, time(9), zone) + timedelta(minutes=minutes)
    return local.astimezone(UTC)


def destination_code(destination: str | None, cast: Cast) -> str | None:
    """A story's destination as the workflow stores it: ``partner:<plugin>`` becomes the
    partner's ``org:<id>`` (``other_partner`` without that partner)."""
    if destination is None or not destination.startswith("partner:"):
        return destination
    org = cast.partners.get(destination.removeprefix("partner:"))
    return f"org:{org.id}" if org is not None else "other_partner"


@dataclass(frozen=True)
class Made:
    """A story written: the case as plugins see it, and its person."""

    story: Story
    case: DemoCase
    person_id: uuid.UUID
    person: dict
    #: The members of the person's household (``core.demo.people.Member``).
    household: tuple = ()
    #: The project as the intake sheet describes it.
    project: str = ""


def instalment_of(story: Story) -> Decimal:
    """A little more than the monthly instalment of the loan ``story`` asks for (its
    interest stays under a tenth of the amount over three years at the scheme's rates)."""
    return (story.amount / story.months * Decimal("1.1")).quantize(Decimal(1), ROUND_UP)


def notice_day(story: Story) -> date | None:
    """The day the information notice was given: at the intake when the person came to
    the desk, else at the first meeting (the documents' list); ``None``: not yet."""
    return story.intake_date if story.source == "walk_in" \
        else story.day_of("documents_requested")


def write(rows: Rows, stories: list[Story], cast: Cast, zone: ZoneInfo,
          per_year: dict[int, int], today: date, notice: str | None = None) -> list[Made]:
    """Gather the persons, cases, transitions and audit rows of ``stories``;
    ``per_year`` counts the references given so far by year (updated). Each person's
    household line is the one its members give on ``today``; ``notice``: the version
    of the information notice given to the persons (``notice_day``)."""
    rng = rows.rng
    worker_id, agent_id = cast.user_id("social_worker"), cast.user_id("lender_agent")
    made = []
    for story in stories:
        year = story.intake_date.year
        per_year[year] = per_year.get(year, 0) + 1
        reference = f"{year}-{per_year[year]:05d}"
        moves = [(step, instant(step.day, 30 + STEP_MINUTES * i + rng.randint(0, 9), zone))
                 for i, step in enumerate(story.steps)]
        last_at = moves[-1][1]
        person = person_values(rng, story.intake_date, today, instalment_of(story)
                               if story.reached("granted") else None)
        household = person.pop("household")
        person_id = rows.add(Person, **person, created_at=moves[0][1],
                             last_contact_at=last_at)
        followed = story.reached("documents_requested") or story.reached("evaluation")
        referrer = cast.partners.get(story.referrer) if story.referrer else None
        case_id = rows.new_id()
        reoriented = next((s.destination for s in story.steps if s.destination), None)
        project = rng.choice(PROJECTS[story.purpose])
        noticed = notice_day(story) if notice is not None else None
        rows.add(
            Case, id=case_id, reference=reference, person_id=person_id,
            purpose=story.purpose, amount_requested=story.amount,
            project=project,
            source=story.source if referrer is not None or story.source != "referral"
            else "phone",
            referring_organisation_id=referrer.id if referrer is not None else None,
            social_worker_id=worker_id if followed else None, state=story.state,
            intake_date=story.intake_date, state_changed_at=last_at, created_at=moves[0][1],
            reoriented_to=destination_code(reoriented, cast), version=len(story.steps),
            notice_version=notice if noticed else None, notice_given_on=noticed,
        )
        if noticed is not None:
            rows.add(AuditEvent, at=instant(noticed, 320, zone), actor=cast.label(
                         "secretary" if noticed == story.intake_date else "social_worker"),
                     action="case.notice", object_type="Case", object_id=str(case_id),
                     detail={"version": notice, "on": noticed.isoformat()})
        for step, at in moves:
            data = {}
            if step.target == "granted":
                data = {"amount_granted": f"{story.amount:.2f}", "months": story.months}
            if step.destination:
                data = {"destination": destination_code(step.destination, cast)}
            actor = cast.label(step.role)
            rows.add(CaseTransition, case_id=case_id, from_state=step.source,
                     to_state=step.target, at=at, actor_id=cast.user_id(step.role),
                     actor_label=actor, reason_code=step.reason,
                     reason_text=step.reason_text, data=data)
            if step.source is None:
                rows.add(AuditEvent, at=at, actor=actor, action="case.create",
                         object_type="Case", object_id=str(case_id),
                         detail={"reference": reference})
            else:
                rows.add(AuditEvent, at=at, actor=actor, action="case.transition",
                         object_type="Case", object_id=str(case_id),
                         detail={"source": step.source, "target": step.target,
                                 "reason": step.reason})
        made.append(Made(story, DemoCase(
            id=case_id, reference=reference, state=story.state, purpose=story.purpose,
            amount=story.amount, months=story.months, intake_date=story.intake_date,
            days={s.target: s.day for s in reversed(story.steps)},
            reasons={s.target: s.reason for s in story.steps if s.reason},
            fate=story.fate, paid_instalments=story.paid_instalments,
            social_worker_id=worker_id if followed else None, lender_agent_id=agent_id,
        ), person_id, person, household, project))
    return made
