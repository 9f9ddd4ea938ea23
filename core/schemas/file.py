"""API schemas of the applicant's file: stored documents, household, synthesis.

The outputs are built by the ``dump_*`` functions (JSON-ready); the schemas document them
in the OpenAPI document and read the JSON inputs. What a role reads follows the pages:
the lender's agents see a member's age, not the birth date (as the household panel)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from ..cases import household, synthesis
from ..features import stored_documents
from ..models import RELATIONSHIP_LABELS, Relationship
from ..policy import CCAS_STAFF

_RELATIONSHIPS = [r.value for r in Relationship]


class StoredDocumentSchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"description": "Document code (`identity`, `other`…)."})
    kind_label = fields.String()
    filename = fields.String()
    content_type = fields.String(validate=validate.OneOf(list(stored_documents.EXTENSIONS)))
    size = fields.Integer(metadata={"description": "Bytes."})
    issued_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    valid = fields.Boolean(metadata={"description": "Not expired today."})
    uploaded_at = fields.DateTime()
    sha256 = fields.String()


class StoredDocumentListSchema(Schema):
    items = fields.List(fields.Nested(StoredDocumentSchema))
    kinds = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "The types one may attach to this case: code → French label."})


class HouseholdMemberSchema(Schema):
    id = fields.UUID()
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.Date(allow_none=True, metadata={
        "description": "CCAS staff only (the lender's agents get `age`)."})
    age = fields.Integer(allow_none=True)
    adult = fields.Boolean()
    relationship = fields.String(validate=validate.OneOf(_RELATIONSHIPS))
    relationship_label = fields.String()
    co_borrower = fields.Boolean(metadata={"description": "Co-borrower of this case."})


class HouseholdSchema(Schema):
    adults = fields.Integer()
    children_ages = fields.List(fields.Integer())
    members = fields.List(fields.Nested(HouseholdMemberSchema))
    co_borrower_id = fields.UUID(allow_none=True)
    co_borrower_editable = fields.Boolean()


#: A first name that is not only spaces (anchored: read the same by marshmallow and JSON Schema).
_FIRST_NAME = validate.Regexp(r"^[\s\S]*\S", error="Indiquez le prénom.")


class HouseholdMemberPatchSchema(Schema):
    """A change of a household member: the fields left out keep their value."""

    class Meta:
        unknown = EXCLUDE

    first_name = fields.String(validate=[validate.Length(max=100), _FIRST_NAME])
    last_name = fields.String(allow_none=True, validate=validate.Length(max=100),
                              metadata={"description": "Empty: the person's."})
    birth_date = fields.Date(allow_none=True, metadata={
        "description": "Required for a child (its age counts in the budget)."})
    relationship = fields.String(validate=validate.OneOf(_RELATIONSHIPS))


class HouseholdMemberInSchema(HouseholdMemberPatchSchema):
    """A member of the person's household (shared by every case of the person)."""

    first_name = fields.String(required=True,
                               validate=[validate.Length(max=100), _FIRST_NAME])
    relationship = fields.String(required=True, validate=validate.OneOf(_RELATIONSHIPS))


class CoBorrowerInSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.UUID(required=True, allow_none=True, metadata={
        "description": "An adult member of the household; null: no co-borrower."})


class SynthesisSchema(Schema):
    number = fields.Integer(metadata={"description": "1, 2, 3… per case."})
    request = fields.String()
    project = fields.String()
    resources = fields.String()
    prospects = fields.String()
    written_at = fields.DateTime()
    written_by = fields.String()


class SynthesisListSchema(Schema):
    current = fields.Nested(SynthesisSchema, allow_none=True)
    versions = fields.List(fields.Nested(SynthesisSchema),
                           metadata={"description": "Newest first."})


class SynthesisInSchema(Schema):
    """A new version: the four subjects (at least one written)."""

    class Meta:
        unknown = EXCLUDE

    request = fields.String(load_default="", validate=validate.Length(max=synthesis.MAX_LENGTH))
    project = fields.String(load_default="", validate=validate.Length(max=synthesis.MAX_LENGTH))
    resources = fields.String(load_default="",
                              validate=validate.Length(max=synthesis.MAX_LENGTH))
    prospects = fields.String(load_default="",
                              validate=validate.Length(max=synthesis.MAX_LENGTH))


# -- outputs -------------------------------------------------------------------------------


def _day(value):
    return value.isoformat() if value is not None else None


def dump_document(doc, kind_labels: dict, today) -> dict:
    return {"id": str(doc.id), "kind": doc.kind, "kind_label": kind_labels.get(doc.kind, doc.kind),
            "filename": doc.filename, "content_type": doc.content_type, "size": doc.size,
            "issued_on": _day(doc.issued_on), "expires_on": _day(doc.expires_on),
            "valid": doc.valid_on(today), "uploaded_at": doc.uploaded_at.isoformat(),
            "sha256": doc.sha256}


def dump_member(member, case, role: str, today) -> dict:
    out = {"id": str(member.id), "first_name": member.first_name,
           "last_name": member.last_name, "age": member.age_on(today),
           "adult": household.is_adult(member, today),
           "relationship": member.relationship.value,
           "relationship_label": RELATIONSHIP_LABELS[member.relationship],
           "co_borrower": case.co_borrower_id == member.id}
    if role in CCAS_STAFF:
        out["birth_date"] = _day(member.birth_date)
    return out


def dump_household(session, case, role: str, today) -> dict:
    person = case.person
    return {"adults": person.adults, "children_ages": list(person.children_ages or []),
            "members": [dump_member(m, case, role, today)
                        for m in household.members(session, person)],
            "co_borrower_id": str(case.co_borrower_id) if case.co_borrower_id else None,
            "co_borrower_editable": household.co_borrower_editable(case)}


def dump_synthesis(row) -> dict:
    return {"number": row.number, "request": row.request, "project": row.project,
            "resources": row.resources, "prospects": row.prospects,
            "written_at": row.written_at.isoformat(), "written_by": row.written_by_label}
