"""Evaluation interviews and budget sheets of the cases that reached the evaluation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from zoneinfo import ZoneInfo

from .. import formats
from ..cases import budget
from ..labels import label
from ..models import BudgetLine, Interview, Synthesis
from .cases import Made, instalment_of, instant
from .cast import Cast
from .people import age_on
from .rows import Rows

ZERO = Decimal(0)
#: The scheme's longest loan (months).
LONGEST_MONTHS = 36

SHARED_NOTES = (
    "Projet présenté clairement ; ressources stables depuis six mois.",
    "Situation familiale expliquée ; budget serré mais tenu.",
    "Devis fourni ; le projet est chiffré.",
    "Explication du dispositif et de l'accompagnement ; pièces complémentaires attendues.",
    "Point sur les charges ; une aide légale est à vérifier avant instruction.",
)
#: Said of a project that a job depends on (a person looking for one or precariously
#: employed, a project for work).
WORK_NOTE = "Le projet conditionne la reprise ou le maintien d'un emploi."
WORK_PURPOSES = ("mobility", "training", "employment")
PRECARIOUS = ("cdd", "interim", "part_time", "unemployed", "minimum_benefits")
PRIVATE_NOTES = (
    "Difficultés de santé mentionnées, à suivre avec tact.",
    "", "", "",
)
#: Said only of a person living without a spouse or partner.
SEPARATION_NOTE = "Fragilité évoquée après une séparation récente."


def interview_notes(item: Made, cast: Cast) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The notes an interview of ``item`` may carry (shared, private), fitting the
    person: who referred them, their work, whether they live as a couple."""
    story, person = item.story, item.person
    shared = SHARED_NOTES
    org = cast.partners.get(story.referrer) if story.referrer else None
    if org is not None:
        shared += (f"Personne orientée par {org.name} ; situation expliquée, budget "
                   "serré mais tenu.",)
    if story.purpose in WORK_PURPOSES and person["employment"] in PRECARIOUS:
        shared += (WORK_NOTE,)
    private = PRIVATE_NOTES
    if not any(m.relationship in ("spouse", "partner") for m in item.household):
        private += (SEPARATION_NOTE,)
    return shared, private


def add(rows: Rows, made: list[Made], cast: Cast, zone: ZoneInfo, last_day: date) -> None:
    """``last_day``: the last day of activity (no interview held after it)."""
    rng = rows.rng
    worker = cast.user_id("social_worker")
    for item in made:
        story = item.story
        start = story.day_of("evaluation")
        if start is None:
            continue
        later = [s.day for s in story.steps if s.day > start]
        end = later[0] if later else min(last_day, start + timedelta(days=10))
        span = max(0, (end - start).days)
        previous = None
        shared, private = interview_notes(item, cast)
        for n in range(rng.choice((1, 1, 2, 2, 3))):
            held = start + timedelta(days=min(span, n * rng.randint(7, 14)))
            if previous is not None and held <= previous:
                break
            previous = held
            rows.add(Interview, case_id=item.case.id, held_on=held,
                     duration_minutes=rng.choice((45, 60, 60, 75, 90)),
                     social_worker_id=worker, shared_note=rng.choice(shared),
                     private_note=rng.choice(private),
                     created_at=instant(held, 120 + n, zone))
        _budget(rows, item, instant(start, 200, zone))
        submitted = story.day_of("submitted_to_lender")
        if submitted is not None:
            _synthesis(rows, item, cast, instant(submitted, 10, zone))


#: The budget's line for the person's income, by employment.
INCOME_CATEGORY = {"minimum_benefits": "minimum_benefits", "unemployed": "unemployment",
                   "retired": "pension", "student": "other_resource",
                   "other": "other_resource"}


def _budget(rows: Rows, item: Made, at) -> None:
    """The budget sheet: its resource lines add up to the person's monthly resources
    (the income, the family benefits with children, the housing benefit); childcare
    with a child under 12 on the evaluation's day."""
    rng = rows.rng
    person = item.person
    resources = person["monthly_resources"]
    day = item.story.day_of("evaluation")
    children = [m for m in item.household if m.relationship == "child"]
    family = Decimal(140 * len(children))
    housing = Decimal(rng.randrange(120, 320, 10)) if rng.random() < 0.4 else ZERO
    if resources - family - housing < 300:
        housing = ZERO
    if resources - family < 300:
        family = ZERO
    lines = {
        ("resource", INCOME_CATEGORY.get(person["employment"], "salary")):
            resources - family - housing,
        ("charge", "rent"): Decimal(rng.randrange(380, 720, 10)),
        ("charge", "energy"): Decimal(rng.randrange(60, 160, 5)),
        ("charge", "insurance"): Decimal(rng.randrange(40, 120, 5)),
        ("charge", "phone_internet"): Decimal(rng.randrange(25, 60, 5)),
        ("charge", "transport"): Decimal(rng.randrange(30, 120, 5)),
    }
    if family:
        lines[("resource", "family_benefits")] = family
    if housing:
        lines[("resource", "housing_benefit")] = housing
    if any(age_on(m.birth_date, day) < 12 for m in children):
        lines[("charge", "childcare")] = Decimal(rng.randrange(40, 180, 10))
    if rng.random() < 0.3:
        lines[("charge", "loans")] = Decimal(rng.randrange(50, 250, 10))
    _fit_the_decision(rng, item, lines)
    for (kind, category), amount in lines.items():
        rows.add(BudgetLine, case_id=item.case.id, kind=kind, category=category,
                 amount=amount.quantize(Decimal("0.01")), updated_at=at)


def _synthesis(rows: Rows, item: Made, cast: Cast, at) -> None:
    """The social worker's synthesis sent with the file to the lender, in the words of
    the file: the request, the project, the household and its resources."""
    story, person = item.story, item.person
    children = sum(1 for m in item.household if m.relationship == "child")
    couple = any(m.relationship in ("spouse", "partner") for m in item.household)
    household = ("en couple" if couple else "seul(e)") + (
        f" avec {children} enfant{'s' if children > 1 else ''}" if children else
        " sans enfant")
    rows.add(Synthesis, case_id=item.case.id, number=1,
             request=f"{person['first_name']} {person['last_name']} sollicite un "
                     f"microcrédit de {formats.money(story.amount)} sur {story.months} "
                     f"mois ({label('purpose', story.purpose).lower()}).",
             project=item.project,
             resources=f"Vit {household}. {label('employment', person['employment'])} ; "
                       f"ressources mensuelles du foyer : "
                       f"{formats.money(person['monthly_resources'])}. Budget établi "
                       "ensemble, charges justifiées.",
             prospects="Capacité de remboursement vérifiée avec la personne ; "
                       "accompagnement budgétaire pendant la durée du prêt.",
             written_at=at, written_by_id=cast.user_id("social_worker"),
             written_by_label=cast.label("social_worker"))


def _fit_the_decision(rng, item: Made, lines: dict) -> None:
    """Charges that agree with the lender's decision: a granted loan's instalment fits
    the bearable instalment of the budget sheet (``core.cases.budget``); a refusal for
    insufficient capacity or over-indebtedness shows in the current credits."""
    story, person = item.story, item.person
    resources = person["monthly_resources"]
    units = budget.consumption_units(person["adults"], person["children_ages"])
    reserve = budget.DEFAULT_MIN_REMAINING_PER_UNIT_PER_DAY * budget.DAYS_PER_MONTH * units
    instalment = instalment_of(story)
    charges = [key for key in lines if key[0] == "charge"]
    spent = sum(lines[key] for key in charges)
    if story.reached("granted"):
        room = resources - reserve - instalment
        if spent > room:  # the charges as they were, trimmed to what the budget bears
            for key in charges:
                lines[key] = (lines[key] * room / spent / 5).quantize(
                    Decimal(1), ROUND_DOWN) * 5
        return
    refused = next((s.reason for s in story.steps if s.target == "refused"), None)
    if refused == "over_indebtedness":
        owed = (resources * Decimal("0.35") / 10).quantize(Decimal(1), ROUND_UP) * 10
        lines[("charge", "loans")] = max(lines.get(("charge", "loans"), ZERO), owed)
    elif refused == "insufficient_capacity":
        # current credits leave less than the instalment over the longest duration
        least = story.amount / LONGEST_MONTHS
        bearable = resources - spent - reserve
        if bearable >= least / 2:
            extra = bearable - Decimal(rng.randrange(0, int(least / 2) + 1))
            lines[("charge", "loans")] = lines.get(("charge", "loans"), ZERO) + (
                extra / 10).quantize(Decimal(1), ROUND_UP) * 10
