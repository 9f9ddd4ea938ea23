"""Case API schemas: intake input, transition input, case output (minimised by role)."""

from __future__ import annotations

import functools

from marshmallow import EXCLUDE, Schema, fields, validate

from .. import cases, workflow
from ..models import Employment, Purpose, Source
from .common import Money
from .plain import plain

_PURPOSES = [p.value for p in Purpose]
_SOURCES = [s.value for s in Source if s != Source.import_]
_EMPLOYMENTS = [e.value for e in Employment]


class PersonInSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    first_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    birth_date = fields.Date(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    email = fields.Email(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=300))
    postal_code = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=10))
    city = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=120))
    adults = fields.Integer(load_default=1, validate=validate.Range(1, 20))
    children_ages = fields.List(fields.Integer(validate=validate.Range(0, 25)),
                                load_default=list)
    employment = fields.String(load_default=None, allow_none=True,
                               validate=validate.OneOf(_EMPLOYMENTS))
    monthly_resources = fields.Decimal(load_default=None, allow_none=True, as_string=True,
                                       metadata={"description": "Monthly euros, >= 0."})


class CaseInSchema(Schema):
    """An intake sheet. Give ``person`` (a new or possibly known person) or ``person_id``
    (a person of the tenant). With ``person`` matching someone already known (same names
    and birth date) the API answers 409 with the ``duplicates``: resend with their
    ``person_id``, or with ``"new_person": true`` to create another person anyway."""

    class Meta:
        unknown = EXCLUDE

    person = fields.Nested(PersonInSchema, allow_none=True)
    person_id = fields.UUID(load_default=None)
    new_person = fields.Boolean(load_default=False)
    purpose = fields.String(required=True, validate=validate.OneOf(_PURPOSES))
    amount_requested = Money(required=True, maximum=cases.MAX_REQUEST)
    project = fields.String(load_default="", validate=validate.Length(max=5000))
    source = fields.String(load_default="phone", validate=validate.OneOf(_SOURCES))
    referring_organisation_id = fields.UUID(load_default=None, allow_none=True)


@functools.cache
def intake_schema(options: tuple[str, ...]) -> type[Schema]:
    """``CaseInSchema`` plus a boolean per intake option of the tenant's plugins
    (``core.workflow.IntakeOption``), e.g. the lender's option to send the case to its
    check at once."""
    if not options:
        return CaseInSchema
    return type("CaseInWithOptionsSchema", (CaseInSchema,),
                {name: fields.Boolean(load_default=False) for name in options})


class TransitionInSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    to = fields.String(required=True, metadata={"description": "Target state."})
    version = fields.Integer(required=True, metadata={"description": "The case's version."})
    reason = fields.String(load_default=None, allow_none=True)
    reason_text = fields.String(load_default="", validate=validate.Length(max=5000))
    destination = fields.String(load_default=None, allow_none=True)
    consent = fields.Boolean(load_default=False, metadata={
        "description": "Reorientation to a partner: the person agreed (asked explicitly)."})
    consent_method = fields.String(load_default=None, allow_none=True, metadata={
        "description": "How the person agreed: in_person, phone or written."})


class PersonOutSchema(Schema):
    id = fields.UUID()
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.Date(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    adults = fields.Integer()
    children_ages = fields.List(fields.Integer())
    employment = fields.String(allow_none=True)


class TransitionOutSchema(Schema):
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    at = fields.DateTime()
    actor = fields.String()
    reason = fields.String(allow_none=True)
    reason_text = fields.String()


class InterviewOutSchema(Schema):
    id = fields.UUID()
    held_on = fields.Date()
    duration_minutes = fields.Integer(allow_none=True)
    shared_note = fields.String()
    private_note = fields.String(metadata={
        "description": "Only for social workers and the manager; absent otherwise."})


class BudgetOutSchema(Schema):
    lines = fields.Dict(keys=fields.String(), values=fields.Decimal(as_string=True))
    consumption_units = fields.Decimal(as_string=True)
    resources = fields.Decimal(as_string=True)
    charges = fields.Decimal(as_string=True)
    remaining = fields.Decimal(as_string=True)
    remaining_per_unit_month = fields.Decimal(as_string=True)
    remaining_per_unit_day = fields.Decimal(as_string=True)
    max_instalment = fields.Decimal(as_string=True)


class CaseSchema(Schema):
    id = fields.UUID()
    reference = fields.String()
    state = fields.String()
    state_label = fields.String()
    version = fields.Integer()
    purpose = fields.String()
    amount_requested = fields.Decimal(as_string=True)
    project = fields.String()
    source = fields.String()
    intake_date = fields.Date()
    state_changed_at = fields.DateTime()
    social_worker_id = fields.UUID(allow_none=True)
    reoriented_to = fields.String(allow_none=True)
    notices = fields.List(fields.String(), metadata={
        "description": "Remarks for the CCAS (French), e.g. an amount outside what the "
                       "enabled lenders lend: flagged, not refused."})
    person = fields.Nested(PersonOutSchema)
    available_transitions = fields.List(fields.String())
    transitions = fields.List(fields.Nested(TransitionOutSchema))
    interviews = fields.List(fields.Nested(InterviewOutSchema))
    budget = fields.Nested(BudgetOutSchema, allow_none=True)


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))
    total = fields.Integer(allow_none=True, metadata={
        "description": "Number of matching cases with `count=true`; null otherwise."})
    has_more = fields.Boolean(metadata={"description": "A next page exists."})
    page = fields.Integer()
    per_page = fields.Integer()


def dump_case(session, case, role: str, detail: bool = True, flow=None) -> dict:
    """The case as ``role`` may see it (JSON-ready), shaped as ``CaseSchema`` documents.

    Built directly rather than through ``CaseSchema().dump``: marshmallow's per-field
    dispatch cost more than the rest of a list page. ``tests/test_case_api.py`` checks
    that both give the same document. ``flow``: the tenant's workflow, when the caller
    dumps many cases."""
    return plain(case_data(session, case, role, detail, flow))


def case_data(session, case, role: str, detail: bool = True, flow=None,
              bounds: list | None = None) -> dict:
    """The case as ``role`` may see it, as Python values (``CaseSchema``'s input): the
    lender's agents see only the identity until the file is submitted to them, and nobody
    but social workers and the manager sees a private note. ``flow`` and ``bounds``
    (``core.cases.lending_bounds``): given by a caller that writes many cases."""
    flow = flow if flow is not None else workflow.current()
    sees_file = cases.lender_sees_file(session, case, role)
    person = case.person
    person_data = {"id": person.id, "first_name": person.first_name,
                   "last_name": person.last_name, "birth_date": person.birth_date}
    if sees_file:
        person_data.update(
            phone=person.phone, email=person.email, address=person.address,
            postal_code=person.postal_code, city=person.city, adults=person.adults,
            children_ages=list(person.children_ages or []),
            employment=person.employment.value if person.employment else None,
        )
    data = {
        "id": case.id, "reference": case.reference, "state": str(case.state),
        "state_label": flow.label(case.state), "version": case.version,
        "purpose": case.purpose.value, "amount_requested": case.amount_requested,
        "source": case.source.value, "intake_date": case.intake_date,
        "state_changed_at": case.state_changed_at, "social_worker_id": case.social_worker_id,
        "reoriented_to": case.reoriented_to, "person": person_data,
        "available_transitions": [t.target for t in flow.available(str(case.state), role)],
        "notices": cases.lending_notices(session, case.purpose, case.amount_requested,
                                         bounds),
    }
    if sees_file:
        data["project"] = case.project
    if detail:
        data["transitions"] = [
            {"from_state": t.from_state, "to_state": t.to_state, "at": t.at,
             "actor": t.actor_label.split(":")[-1], "reason": t.reason_code,
             "reason_text": t.reason_text}
            for t in cases.transitions(session, case)
        ]
        if sees_file:
            private = cases.may_read_private_notes(role)
            data["interviews"] = [
                {"id": i.id, "held_on": i.held_on, "duration_minutes": i.duration_minutes,
                 "shared_note": i.shared_note,
                 **({"private_note": i.private_note} if private else {})}
                for i in cases.interviews(session, case)
            ]
            lines = cases.budget_lines(session, case)
            figures = cases.budget_figures(session, case, lines=lines)
            data["budget"] = None if figures is None else {
                "lines": lines,
                **{k: getattr(figures, k) for k in (
                    "consumption_units", "resources", "charges", "remaining",
                    "remaining_per_unit_month", "remaining_per_unit_day", "max_instalment")},
            }
    return data
