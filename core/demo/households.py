"""The households of the applicants: a spouse or partner when two adults live there, the
children with their birth dates (from the ages the intake sheet recorded)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from ..models import HouseholdMember
from .cases import Made, instant
from .people import FIRST_NAMES, birth_date
from .rows import Rows


def add(rows: Rows, made: list[Made], zone: ZoneInfo) -> None:
    rng = rows.rng
    for item in made:
        person, intake = item.person, item.story.intake_date
        at = instant(intake, 5, zone)
        if person["adults"] > 1:
            rows.add(HouseholdMember, person_id=item.person_id,
                     first_name=rng.choice(FIRST_NAMES), last_name=person["last_name"],
                     birth_date=birth_date(rng, intake),
                     relationship="spouse" if rng.random() < 0.5 else "partner",
                     created_at=at)
        for age in person["children_ages"]:
            rows.add(HouseholdMember, person_id=item.person_id,
                     first_name=rng.choice(FIRST_NAMES), last_name=person["last_name"],
                     birth_date=intake - timedelta(days=age * 365 + rng.randint(0, 364)),
                     relationship="child", created_at=at)
