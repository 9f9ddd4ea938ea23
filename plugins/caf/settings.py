"""Settings of the CAF plugin. The aid rules are examples to adjust per tenant, not
national truth: each CAF sets its own optional aids and thresholds."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.plugin_api import settings_fields as f

PURPOSE = validate.OneOf(f.PURPOSES, error="Objet inconnu : {input}.")


class AidRule(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9_]{2,40}$", error="De 2 à 40 caractères : "
                                 "minuscules sans accent, chiffres et « _ »."),
        metadata={"label": "Code", "description": "Ex. pret_equipement_menager."})
    label = fields.String(required=True, validate=validate.Length(
        1, 120, error="Indiquez le nom de l'aide (120 caractères au plus)."),
        metadata={"label": "Nom de l'aide"})
    purposes = fields.List(fields.String(validate=PURPOSE), required=True,
                           metadata={"label": "Objets concernés", "vocabulary": "purpose"})
    max_family_quotient = fields.Integer(
        load_default=None, allow_none=True,
        validate=validate.Range(0, 5000, error="Doit être entre 0\u00a0€ et 5\u202f000\u00a0€."),
        metadata={"label": "Plafond de quotient familial", "unit": "€",
                  "description": "Vide : sans plafond."})
    families_only = fields.Boolean(load_default=True,
                                   metadata={"label": "Réservée aux familles"})
    action = fields.String(load_default="", validate=validate.Length(
        0, 300, error="300 caractères au plus."),
        metadata={"label": "Ce que le CCAS doit faire"})


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
        800, "Plafond de quotient familial", 0, 5000,
        "Exemple à ajuster selon le règlement d'action sociale de votre CAF.", unit="€",
    )
    aid_rules = fields.List(
        fields.Nested(AidRule), load_default=DEFAULT_RULES,
        metadata={"label": "Aides à proposer", "row_label": "Aide",
                  "description": "Les aides de votre CAF que le CCAS doit envisager avant "
                                 "un microcrédit, selon l'objet de la demande."},
    )
    contact_email = f.email()
