"""Taking a request: the one intake service behind the intake page and ``POST
/api/v1/cases``.

:func:`intake` finds or creates the person (a possible duplicate is never created
silently), checks the referring organisation, opens the case in ``intake`` and applies
the intake options ticked (the tenant's plugins declare them, e.g. the lender's "send to
its check at once"), all in the caller's transaction. Nothing is committed here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select

from .. import audit, workflow
from ..errors import UserError
from ..models import Case, Organisation, Person
from . import PersonData, create_person, find_duplicates, open_case, validate_person


class PossibleDuplicates(UserError):
    """The person may already be known: the caller shows them (page) or answers 409
    (API) so that the user picks one or confirms a new person. The reads of the people
    shown are audited in the caller's transaction: commit it."""

    def __init__(self, duplicates: list[Person]):
        super().__init__(
            "Cette personne est peut-être déjà connue : renvoyez la demande avec son "
            "person_id, ou avec new_person à true.",
            status=409,
            message_en="A person with the same names and birth date exists.",
            kind="possible-duplicate",
        )
        self.duplicates = duplicates


@dataclass
class IntakeRequest:
    """What an intake sheet says. ``person`` (new or possibly known) or ``person_id`` (a
    person of the tenant; with ``person`` too, it must be one of its possible
    duplicates). ``options`` names the intake options ticked."""

    purpose: str
    amount_requested: object
    person: PersonData | None = None
    person_id: uuid.UUID | None = None
    new_person: bool = False
    project: str = ""
    source: str = "phone"
    referring_organisation_id: uuid.UUID | None = None
    options: set[str] = field(default_factory=set)


def intake(session, tenant, actor, req: IntakeRequest) -> Case:
    """Open a case from an intake sheet. Raises ``UserError`` (422 on a field,
    :class:`PossibleDuplicates` when the person may be known)."""
    flow = workflow.current()
    known = {o.name: o for o in flow.intake_options}
    unknown = sorted(set(req.options) - set(known))
    if unknown:
        raise UserError(f"Option inconnue pour ce territoire : {', '.join(unknown)}.",
                        status=422, field=unknown[0])
    person = _person(session, req)
    if req.referring_organisation_id is not None and session.scalar(
        select(Organisation.id).where(Organisation.id == req.referring_organisation_id)
    ) is None:
        raise UserError("Organisation inconnue.", status=422, field="referring_organisation_id")
    case = open_case(
        session, person, req.purpose, req.amount_requested, actor=actor, project=req.project,
        source=req.source, referring_organisation_id=req.referring_organisation_id,
        tenant=tenant,
    )
    for name in sorted(req.options):
        transition = flow.out_of_intake(known[name].transition)
        workflow.apply_transition(
            session, case, workflow.TransitionRequest(transition.target, case.version), actor)
    return case


def _person(session, req: IntakeRequest) -> Person:
    if req.person_id is not None:
        if req.person is not None:
            validate_person(req.person)
            candidates = find_duplicates(session, req.person.first_name,
                                         req.person.last_name, req.person.birth_date)
            person = next((p for p in candidates if p.id == req.person_id), None)
            if person is None:
                raise UserError("La personne choisie est introuvable.", status=422,
                                field="person_choice")
        else:
            person = session.scalar(select(Person).where(Person.id == req.person_id,
                                                         Person.anonymised_at.is_(None)))
            if person is None:
                raise UserError("Personne introuvable.", status=422, field="person_id")
        audit.record(session, "person.reuse", person)
        return person
    if req.person is None:
        raise UserError("Indiquez la personne (person) ou son identifiant (person_id).",
                        status=422, field="person")
    validate_person(req.person)
    if not req.new_person:
        duplicates = find_duplicates(session, req.person.first_name, req.person.last_name,
                                     req.person.birth_date)
        if duplicates:
            for p in duplicates:
                audit.record(session, "person.read", p, reason="duplicate_check")
            raise PossibleDuplicates(duplicates)
    return create_person(session, req.person)
