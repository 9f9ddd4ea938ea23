"""Fields the CAF social service may add to a referral (``Referral.extra``)."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, pre_load, validate


class CafReferralFields(Schema):
    """Both optional. The allocataire number is 7 digits (spaces tolerated)."""

    allocataire_number = fields.String(
        load_default=None, allow_none=True,
        validate=validate.Regexp(r"^\d{7}$",
                                 error="Numéro d'allocataire CAF : 7 chiffres attendus."),
        metadata={"label": "Numéro d'allocataire CAF (facultatif)"},
    )
    family_quotient = fields.Integer(
        load_default=None, allow_none=True, strict=False,
        validate=validate.Range(0, 5000, error="Quotient familial entre 0 et 5 000 €."),
        metadata={"label": "Quotient familial (€, facultatif)"},
    )

    @pre_load
    def _clean(self, data, **_kw):
        if not isinstance(data, dict):
            raise ValidationError("Objet attendu.")
        data = dict(data)
        number = data.get("allocataire_number")
        if isinstance(number, str):
            data["allocataire_number"] = re.sub(r"\s", "", number) or None
        if data.get("family_quotient") == "":
            data["family_quotient"] = None
        return data
