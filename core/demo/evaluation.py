"""Evaluation interviews and budget sheets of the cases that reached the evaluation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..models import BudgetLine, Interview
from .cases import Made, instant
from .cast import Cast
from .people import age_on
from .rows import Rows

ZERO = Decimal(0)

SHARED_NOTES = (
    "Projet présenté clairement ; ressources stables depuis six mois.",
    "Personne orientée par la CAF ; situation familiale expliquée, budget serré mais tenu.",
    "Devis fourni ; le projet conditionne la reprise d'un emploi.",
    "Explication du dispositif et de l'accompagnement ; pièces complémentaires attendues.",
    "Point sur les charges ; une aide légale est à vérifier avant instruction.",
)
PRIVATE_NOTES = (
    "Fragilité évoquée après une séparation récente.",
    "Difficultés de santé mentionnées, à suivre avec tact.",
    "", "", "",
)


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
        for n in range(rng.choice((1, 1, 2, 2, 3))):
            held = start + timedelta(days=min(span, n * rng.randint(7, 14)))
            if previous is not None and held <= previous:
                break
            previous = held
            rows.add(Interview, case_id=item.case.id, held_on=held,
                     duration_minutes=rng.choice((45, 60, 60, 75, 90)),
                     social_worker_id=worker, shared_note=rng.choice(SHARED_NOTES),
                     private_note=rng.choice(PRIVATE_NOTES),
                     created_at=instant(held, 120 + n, zone))
        _budget(rows, item, instant(start, 200, zone))


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
    for (kind, category), amount in lines.items():
        rows.add(BudgetLine, case_id=item.case.id, kind=kind, category=category,
                 amount=amount.quantize(Decimal("0.01")), updated_at=at)
