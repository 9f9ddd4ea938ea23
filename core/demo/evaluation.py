"""Evaluation interviews and budget sheets of the cases that reached the evaluation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..models import BudgetLine, Interview
from .cases import Made, instant
from .cast import Cast
from .rows import Rows

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


def add(rows: Rows, made: list[Made], cast: Cast, zone: ZoneInfo) -> None:
    rng = rows.rng
    worker = cast.user_id("social_worker")
    for item in made:
        story = item.story
        start = story.day_of("evaluation")
        if start is None:
            continue
        later = [s.day for s in story.steps if s.day > start]
        end = later[0] if later else start + timedelta(days=10)
        span = max(0, (end - start).days)
        for n in range(rng.choice((1, 1, 2, 2, 3))):
            held = start + timedelta(days=min(span, n * rng.randint(7, 14)))
            if n and held == start:
                break
            rows.add(Interview, case_id=item.case.id, held_on=held,
                     duration_minutes=rng.choice((45, 60, 60, 75, 90)),
                     social_worker_id=worker, shared_note=rng.choice(SHARED_NOTES),
                     private_note=rng.choice(PRIVATE_NOTES),
                     created_at=instant(held, 120 + n, zone))
        _budget(rows, item, instant(start, 200, zone))


def _budget(rows: Rows, item: Made, at) -> None:
    rng = rows.rng
    person = item.person
    resources = person["monthly_resources"]
    children = len(person["children_ages"])
    lines = {
        ("resource", "salary" if person["employment"] not in ("minimum_benefits",
                                                              "unemployed")
         else "minimum_benefits"): resources,
        ("charge", "rent"): Decimal(rng.randrange(380, 720, 10)),
        ("charge", "energy"): Decimal(rng.randrange(60, 160, 5)),
        ("charge", "insurance"): Decimal(rng.randrange(40, 120, 5)),
        ("charge", "phone_internet"): Decimal(rng.randrange(25, 60, 5)),
        ("charge", "transport"): Decimal(rng.randrange(30, 120, 5)),
    }
    if children:
        lines[("resource", "family_benefits")] = Decimal(140 * children)
        lines[("charge", "childcare")] = Decimal(rng.randrange(40, 180, 10))
    if rng.random() < 0.4:
        lines[("resource", "housing_benefit")] = Decimal(rng.randrange(120, 320, 10))
    if rng.random() < 0.3:
        lines[("charge", "loans")] = Decimal(rng.randrange(50, 250, 10))
    for (kind, category), amount in lines.items():
        rows.add(BudgetLine, case_id=item.case.id, kind=kind, category=category,
                 amount=amount.quantize(Decimal("0.01")), updated_at=at)
