"""The households of the applicants, as drawn with them (``core.demo.people``): a spouse
or partner (a partner under their own surname) when two adults live there, the children
with their birth dates. The
person's household line (adults, children's ages) was derived from these members."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ..models import HouseholdMember
from .cases import Made, instant
from .rows import Rows


def add(rows: Rows, made: list[Made], zone: ZoneInfo) -> None:
    for item in made:
        at = instant(item.story.intake_date, 40, zone)  # after the person (9:30-9:39)
        last_name = item.person["last_name"]
        for member in item.household:
            rows.add(HouseholdMember, person_id=item.person_id,
                     first_name=member.first_name, last_name=member.last_name or last_name,
                     birth_date=member.birth_date, relationship=member.relationship,
                     created_at=at)
