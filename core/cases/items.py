"""Light rows of cases for the pages' lists: the few columns a list shows, read as
tuples instead of ORM entities (no identity map, no unit of work, no relationship loads), with the
attributes the templates already use (``c.reference``, ``c.person.full_name``…), so one
template serves an entity or a row.

The statements are still ORM selects run through the session: the tenant's loader
criteria apply to every table they read, and on PostgreSQL the transaction carries the
tenant (row-level security), as for any other read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from ..models import Case, Person


class PersonName(NamedTuple):
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:  # as ``Person.full_name``
        return f"{self.first_name} {self.last_name}".strip()


class CaseItem(NamedTuple):
    """A case in a list (``dashboards/_case_list.html``, the missing documents' table)."""

    id: uuid.UUID
    reference: str
    state: str
    state_changed_at: datetime
    person: PersonName


#: The columns of a :class:`CaseItem`, the case joined to its person.
CASE_ITEM = select(Case.id, Case.reference, Case.state, Case.state_changed_at,
                   Person.first_name, Person.last_name
                   ).join(Person, Person.id == Case.person_id)


def case_item(row) -> CaseItem:
    """A :class:`CaseItem` from the first six columns of ``row`` (:data:`CASE_ITEM`)."""
    return CaseItem(row[0], row[1], row[2], row[3], PersonName(row[4], row[5]))
