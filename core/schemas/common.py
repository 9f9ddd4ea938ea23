from __future__ import annotations

from marshmallow import Schema, ValidationError, fields

from .. import cases
from ..errors import UserError


class ProblemSchema(Schema):
    """RFC 9457 problem details: ``type`` names the kind of problem
    (``/api/v1/problems/<kind>``, described there), ``title`` and ``detail`` in French,
    per-field ``errors``."""

    type = fields.String(metadata={"description": "/api/v1/problems/<kind>"})
    title = fields.String(metadata={"description": "French."})
    title_fr = fields.String(metadata={"deprecated": True,
                                       "description": "Deprecated (goes in 0.3): see title."})
    status = fields.Integer()
    detail = fields.String(metadata={"description": "French."})
    detail_en = fields.String(metadata={"deprecated": True,
                                        "description": "Deprecated (goes in 0.3)."})
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


class Money(fields.Field):
    """An amount in euros as people type it (``"1 200,50"``, ``"1200.5"``, ``1200``), read
    by ``core.cases.parse_amount`` (the rule broken is named: not in figures, zero or
    negative, too large, more than two decimals); written as ``"1200.50"``."""

    def __init__(self, maximum=cases.MAX_AMOUNT, **kwargs):
        super().__init__(**kwargs)
        self.maximum = maximum
        self.metadata.setdefault("type", "string")
        self.metadata.setdefault("example", "1 200,50")
        self.metadata.setdefault(
            "description", f"Euros, at most two decimals, at most {maximum:.0f}: "
            "\"1 200,50\", \"1200.5\" or 1200.")

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            value = repr(value)
        try:
            return cases.parse_amount(value, attr or "amount", maximum=self.maximum)
        except UserError as exc:
            raise ValidationError(exc.message) from exc

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{value:.2f}"
