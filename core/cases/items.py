"""Light rows of cases: the columns a list needs, read as plain values instead of ORM
entities (no identity map, no unit of work, no relationship loads), with the attributes
the code that shows them already reads on a :class:`~core.models.Case` (``c.reference``,
``c.person.full_name``…), so one template or one serializer serves an entity or a row.

Two shapes, for two readers of different width:

* :class:`CaseItem` (and its :class:`PersonName`): a case in a page's list (the
  dashboards' lists, the missing documents' table, the follow-ups): six columns, the
  person's names only. :data:`CASE_ITEM` and :func:`case_item`.
* :class:`ListedCase` (and its :class:`ListedPerson`): a case of the API's list, every
  column ``core.schemas.cases.case_data`` reads for a list item (the person's contact
  details and household among them), 24 columns. :data:`LISTED_CASE` and
  :func:`listed_case`; read by ``core.cases.list_case_rows``.

They stay two types: one type for both would make the pages' lists read the API's 24
columns, or leave on their rows attributes that were never read (a ``purpose`` of
``None`` that looks like a case's), where each type now holds exactly what its
statement read.

:data:`CASE_ITEM` and :data:`LISTED_CASE` are ORM selects run through the session (the
tenant's loader criteria apply to every table they read); their ``_CORE`` twins, of the
same columns, are for ``core.tenancy.scoped_select`` (the criterion written on every
table at build). On PostgreSQL the transaction carries the tenant (row-level security)
either way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
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


def core_columns(*attributes) -> list:
    """The tables' columns of mapped ``attributes`` (``Case.id`` → ``cases.c.id``): a
    statement built of them reads no entity, for ``core.tenancy.scoped_select``."""
    return [attribute.class_.__table__.c[attribute.key] for attribute in attributes]


def joinable(model, core: bool) -> tuple:
    """What a statement builder joins and takes columns from: the mapped ``model`` twice
    (an ORM statement, the tenant's loader criteria added at execution), or its table and
    the table's columns, of the same names (a Core statement for
    ``core.tenancy.scoped_select``): one builder serves both."""
    table = model.__table__
    return (table, table.c) if core else (model, model)


_CASE_ITEM_COLUMNS = (Case.id, Case.reference, Case.state, Case.state_changed_at,
                      Person.first_name, Person.last_name)
#: The columns of a :class:`CaseItem`, the case joined to its person.
CASE_ITEM = select(*_CASE_ITEM_COLUMNS).join(Person, Person.id == Case.person_id)
#: The same read in Core terms (the tables' columns), for ``core.tenancy.scoped_select``.
CASE_ITEM_CORE = select(*core_columns(*_CASE_ITEM_COLUMNS)).join_from(
    Case.__table__, Person.__table__, Person.__table__.c.id == Case.__table__.c.person_id)


def case_item(row) -> CaseItem:
    """A :class:`CaseItem` from the first six columns of ``row`` (:data:`CASE_ITEM`)."""
    return CaseItem(row[0], row[1], row[2], row[3], PersonName(row[4], row[5]))


@dataclass(slots=True)
class ListedPerson:
    """The person of a :class:`ListedCase`: the columns a case document shows."""

    id: uuid.UUID
    first_name: str
    last_name: str
    birth_date: date | None
    phone: str | None
    email: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    adults: int
    children_ages: list
    employment: object


@dataclass(slots=True)
class ListedCase:
    """A case of the API's list read as columns (``core.cases.list_case_rows``): the
    attributes of a :class:`~core.models.Case` that ``core.schemas.cases.case_data``
    reads for a list item, without the identity map's bookkeeping of two mapped objects
    per row."""

    id: uuid.UUID
    reference: str
    state: str
    version: int
    purpose: object
    amount_requested: Decimal | None
    source: object
    intake_date: date
    state_changed_at: datetime
    social_worker_id: uuid.UUID | None
    reoriented_to: str | None
    project: str | None
    person: ListedPerson


_LISTED_CASE_COLUMNS = (
    Case.id, Case.reference, Case.state, Case.version, Case.purpose, Case.amount_requested,
    Case.source, Case.intake_date, Case.state_changed_at, Case.social_worker_id,
    Case.reoriented_to, Case.project)
_LISTED_PERSON_COLUMNS = (
    Person.id, Person.first_name, Person.last_name, Person.birth_date, Person.phone,
    Person.email, Person.address, Person.postal_code, Person.city, Person.adults,
    Person.children_ages, Person.employment)

#: The columns of a :class:`ListedCase`, the case joined to its person.
LISTED_CASE = select(*_LISTED_CASE_COLUMNS, *_LISTED_PERSON_COLUMNS).join_from(
    Case, Person, Person.id == Case.person_id)
#: The same read in Core terms (the tables' columns), for ``core.tenancy.scoped_select``.
LISTED_CASE_CORE = select(
    *core_columns(*_LISTED_CASE_COLUMNS, *_LISTED_PERSON_COLUMNS)).join_from(
    Case.__table__, Person.__table__, Person.__table__.c.id == Case.__table__.c.person_id)


def listed_case(row) -> ListedCase:
    """A :class:`ListedCase` from a row of :data:`LISTED_CASE`."""
    width = len(_LISTED_CASE_COLUMNS)
    return ListedCase(*row[:width], ListedPerson(*row[width:]))
