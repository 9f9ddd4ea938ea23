"""Settings of the CAF plugin. The aid rules are examples to adjust per tenant, not
national truth: each CAF sets its own optional aids and thresholds."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.plugin_api import settings_fields as f

PURPOSE = validate.OneOf(f.PURPOSES, error="Objet inconnu : {input}.")


class AidRule(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{2,40}$"))
    label = fields.String(required=True, validate=validate.Length(1, 120))
    purposes = fields.List(fields.String(validate=PURPOSE), required=True)
    max_family_quotient = fields.Integer(load_default=None, allow_none=True,
                                         validate=validate.Range(0, 5000))
    families_only = fields.Boolean(load_default=True)
    action = fields.String(load_default="", validate=validate.Length(0, 300))


DEFAULT_RULES = [
    {"code": "pret_equipement_menager", "label": "Prêt d'équipement ménager de la CAF",
     "purposes": ["household_equipment"], "max_family_quotient": 800, "families_only": True,
     "action": "Vérifier l'ouverture de droits auprès de la CAF avant le microcrédit."},
    {"code": "aide_installation_logement",
     "label": "Aide ou prêt à l'installation dans un logement",
     "purposes": ["housing"], "max_family_quotient": 800, "families_only": True,
     "action": "Orienter vers le travailleur social de la CAF."},
]


class CafSettings(Schema):
    family_quotient_threshold = f.whole(
        800, "Plafond de quotient familial (€)", 0, 5000,
        "Exemple à ajuster selon le règlement d'action sociale de votre CAF.",
    )
    aid_rules = fields.List(
        fields.Nested(AidRule), load_default=DEFAULT_RULES,
        metadata={"label": "Aides à proposer (JSON)",
                  "description": "code, label, purposes, max_family_quotient, "
                                 "families_only, action"},
    )
    contact_email = f.email()
