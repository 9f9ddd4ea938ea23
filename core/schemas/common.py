from __future__ import annotations

from marshmallow import Schema, fields


class ProblemSchema(Schema):
    """RFC 9457 problem details, with a French title and per-field errors."""

    type = fields.String()
    title = fields.String()
    title_fr = fields.String()
    status = fields.Integer()
    detail = fields.String()
    detail_en = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())


class OrganisationRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    kind = fields.String()


class TenantRefSchema(Schema):
    slug = fields.String()
    name = fields.String()
    city = fields.String()
    timezone = fields.String()


class MeSchema(Schema):
    id = fields.UUID()
    email = fields.String()
    full_name = fields.String()
    role = fields.String()
    organisation = fields.Nested(OrganisationRefSchema)
    tenant = fields.Nested(TenantRefSchema)
