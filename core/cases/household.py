"""The person's household: its members (adults, children with their ages, relationship)
and the co-borrower of a case.

Recording members keeps the person's counts that the budget reads (``adults``,
``children_ages``: consumption units) in step: the person plus every member of 18 or
more (or of unknown age who is not a child) are the adults; the others are the
children. A co-borrower is an adult member of the household marked so on a case; the
lender names both borrowers (``core.plugin_api.borrowers``). Every change is audited;
nothing is committed here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select

from .. import audit, row_views, workflow
from ..errors import NotFound, UserError
from ..models import Case, HouseholdMember, Person, Relationship
from . import local_today, parse_date

ADULT_AGE = 18


#: Built once (a statement built per call costs more than the read); the tenant's
#: criterion is added per execution by the session (``core.tenancy``).
_MEMBERS = (select(HouseholdMember).where(HouseholdMember.person_id == bindparam("person_id"))
            .order_by(HouseholdMember.birth_date.is_(None), HouseholdMember.birth_date,
                      HouseholdMember.created_at))


_HM = HouseholdMember.__table__.c
_MEMBER_VIEWS = row_views.statement(
    HouseholdMember, _HM.person_id == bindparam("person_id"),
    order_by=(_HM.birth_date.is_(None), _HM.birth_date, _HM.created_at))


def member_rows(session, person) -> list:
    """:func:`members` as read-only rows (``core.row_views``), for the pages."""
    return row_views.read(session, _MEMBER_VIEWS, {"person_id": person.id}, HouseholdMember)


def members(session, person: Person) -> list[HouseholdMember]:
    return list(session.scalars(_MEMBERS, {"person_id": person.id}))


def is_adult(member: HouseholdMember, today: date) -> bool:
    age = member.age_on(today)
    if age is None:
        return member.relationship != Relationship.child
    return age >= ADULT_AGE


def counts(found: list[HouseholdMember], today: date) -> tuple[int, list[int]]:
    """``(adults, children_ages)`` of a household of the person and ``found`` (pure)."""
    adults = 1 + sum(1 for m in found if is_adult(m, today))
    ages = sorted(m.age_on(today) for m in found
                  if not is_adult(m, today) and m.age_on(today) is not None)
    return adults, ages


def _sync(session, person: Person, tenant) -> None:
    session.flush()
    person.adults, person.children_ages = counts(members(session, person),
                                                 local_today(tenant))


def _member_values(person: Person, data: dict, tenant) -> dict:
    """The checked values of a member from ``data`` (``first_name``, ``last_name``,
    ``birth_date``, ``relationship``); ``UserError`` naming every faulty field."""
    errors: dict[str, list[str]] = {}
    first = (data.get("first_name") or "").strip()
    last = (data.get("last_name") or "").strip() or person.last_name
    if not first:
        errors["first_name"] = ["Indiquez le prénom."]
    elif len(first) > 100:
        errors["first_name"] = ["100 caractères au plus."]
    if len(last) > 100:
        errors["last_name"] = ["100 caractères au plus."]
    born = None
    try:
        born = parse_date(data.get("birth_date"), "birth_date")
    except UserError as exc:
        errors["birth_date"] = [exc.message]
    today = local_today(tenant)
    if born is not None and born > today:
        errors["birth_date"] = ["La date de naissance ne peut pas être dans le futur."]
    try:
        relationship = Relationship(data.get("relationship") or "")
    except ValueError:
        errors["relationship"] = ["Choisissez le lien avec la personne."]
        relationship = None
    if relationship == Relationship.child and born is None and "birth_date" not in errors:
        errors["birth_date"] = ["Indiquez la date de naissance de l'enfant (son âge compte "
                                "dans le budget)."]
    if errors:
        first_field = next(iter(errors))
        raise UserError(errors[first_field][0], status=422, field=first_field,
                        errors=errors)
    return {"first_name": first, "last_name": last, "birth_date": born,
            "relationship": relationship}


def add_member(session, person: Person, data: dict, actor=None, tenant=None
               ) -> HouseholdMember:
    """Add a member from ``data`` (``first_name``, ``last_name``, ``birth_date``,
    ``relationship``); ``UserError`` naming every faulty field."""
    values = _member_values(person, data, tenant)
    member = HouseholdMember(person_id=person.id, **values)
    session.add(member)
    _sync(session, person, tenant)
    audit.record(session, "household.add", person, actor=actor, member=str(member.id),
                 relationship=values["relationship"].value)
    return member


def get_member(session, person: Person, member_id) -> HouseholdMember:
    """The member ``member_id`` of ``person``'s household; ``NotFound`` (404) for a
    malformed id, an unknown one or another household's."""
    try:
        key = member_id if isinstance(member_id, uuid.UUID) else uuid.UUID(str(member_id))
    except ValueError as exc:
        raise NotFound("Ce membre du foyer") from exc
    member = session.scalar(select(HouseholdMember).where(
        HouseholdMember.id == key, HouseholdMember.person_id == person.id))
    if member is None:
        raise NotFound("Ce membre du foyer")
    return member


def update_member(session, member: HouseholdMember, data: dict, actor=None, tenant=None
                  ) -> HouseholdMember:
    """Change a member: the fields given in ``data`` replace the current ones, the result
    is checked as a new member would be. Refused for the co-borrower of a case already
    with the lender (the lender was told who borrows), and when it would make a
    co-borrower a minor."""
    person = session.scalar(select(Person).where(Person.id == member.person_id))
    current = {"first_name": member.first_name, "last_name": member.last_name,
               "birth_date": member.birth_date, "relationship": member.relationship.value}
    values = _member_values(person, {**current, **{k: v for k, v in data.items()
                                                    if k in current}}, tenant)
    for case in session.scalars(select(Case).where(Case.co_borrower_id == member.id)):
        if not co_borrower_editable(case):
            raise UserError(f"Cette personne est co-emprunteuse du dossier {case.reference}, "
                            "transmis au prêteur : elle ne se modifie plus.", status=409)
        probe = HouseholdMember(birth_date=values["birth_date"],
                                relationship=values["relationship"])
        if not is_adult(probe, local_today(tenant)):
            raise UserError("Un co-emprunteur doit être majeur.", status=422,
                            field="birth_date", errors={
                                "birth_date": ["Un co-emprunteur doit être majeur."]})
    changed = sorted(k for k, v in values.items() if getattr(member, k) != v)
    for key, value in values.items():
        setattr(member, key, value)
    _sync(session, person, tenant)
    audit.record(session, "household.update", person, actor=actor, member=str(member.id),
                 fields=changed)
    return member


def remove_member(session, member: HouseholdMember, actor=None, tenant=None) -> None:
    """Remove a member; refused while they are the co-borrower of an open case."""
    used = session.scalar(select(Case).where(Case.co_borrower_id == member.id))
    if used is not None:
        raise UserError(f"Cette personne est co-emprunteuse du dossier {used.reference} : "
                        "retirez-la d'abord du dossier.", status=409)
    person = session.scalar(select(Person).where(Person.id == member.person_id))
    audit.record(session, "household.remove", person, actor=actor, member=str(member.id))
    session.delete(member)
    _sync(session, person, tenant)


def set_co_borrower(session, case: Case, member_id, actor=None, tenant=None) -> Case:
    """Mark an adult member of the household as the case's co-borrower (``None`` or
    ``""``: no co-borrower)."""
    if not co_borrower_editable(case):
        raise UserError("Le co-emprunteur se choisit avant la transmission au prêteur.",
                        status=422, field="co_borrower")
    member = None
    if member_id not in (None, ""):
        try:
            key = member_id if isinstance(member_id, uuid.UUID) else uuid.UUID(str(member_id))
        except ValueError:
            key = None
        member = session.scalar(select(HouseholdMember).where(
            HouseholdMember.id == key, HouseholdMember.person_id == case.person_id)) \
            if key else None
        if member is None:
            raise UserError("Choisissez un membre du foyer.", status=422, field="co_borrower")
        if not is_adult(member, local_today(tenant)):
            raise UserError("Un co-emprunteur doit être majeur.", status=422,
                            field="co_borrower")
    case.co_borrower_id = member.id if member else None
    audit.record(session, "case.co_borrower", case, actor=actor,
                 member=str(member.id) if member else None)
    return case


#: From the submission on, the borrowers are the lender's to know: no change.
LOCKED_STATES = frozenset({"submitted_to_lender", "granted", "signing", "withdrawal_period",
                           "disbursed", "repaying"})


def co_borrower_editable(case: Case) -> bool:
    return case.state not in LOCKED_STATES and not workflow.current().is_terminal(case.state)


@dataclass(frozen=True)
class Borrower:
    """A borrower as a lender names them on its documents."""

    first_name: str
    last_name: str
    birth_date: date | None
    role: str  # "borrower" or "co_borrower"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def co_borrower(session, case: Case) -> HouseholdMember | None:
    if case.co_borrower_id is None:
        return None
    return session.scalar(select(HouseholdMember).where(
        HouseholdMember.id == case.co_borrower_id))


def borrowers(session, case: Case) -> list[Borrower]:
    """The borrower, then the co-borrower when there is one."""
    person = case.person
    out = [Borrower(person.first_name, person.last_name, person.birth_date, "borrower")]
    member = co_borrower(session, case)
    if member is not None:
        out.append(Borrower(member.first_name, member.last_name, member.birth_date,
                            "co_borrower"))
    return out
