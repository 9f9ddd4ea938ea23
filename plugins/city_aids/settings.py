"""Settings of the city's own aids: the postal codes of the city and the aids its CCAS
grants (optional aids: an emergency grant, a mobility aid…), each with its conditions.
The examples are not anyone's rules: each city writes its own."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.plugin_api import settings_fields as f

PURPOSE = validate.OneOf(f.PURPOSES, error="Objet inconnu : {input}.")


class CityAid(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9_]{2,40}$", error="De 2 à 40 caractères : "
                                 "minuscules sans accent, chiffres et « _ »."),
        metadata={"label": "Code", "description": "Ex. aide_urgence."})
    label = fields.String(required=True, validate=validate.Length(
        1, 120, error="Indiquez le nom de l'aide (120 caractères au plus)."),
        metadata={"label": "Nom de l'aide"})
    purposes = fields.List(fields.String(validate=PURPOSE), load_default=list,
                           metadata={"label": "Objets concernés", "vocabulary": "purpose",
                                     "description": "Aucun coché : quel que soit l'objet "
                                                    "de la demande."})
    min_age = f.optional_whole("Âge minimum du demandeur", 16, 120, "Vide : sans minimum.",
                               unit="ans")
    max_age = f.optional_whole("Âge maximum du demandeur (inclus)", 16, 120,
                               "Vide : sans maximum.", unit="ans")
    families_only = fields.Boolean(load_default=False,
                                   metadata={"label": "Réservée aux familles avec enfants"})
    max_monthly_resources = f.optional_money(
        "Plafond de ressources mensuelles du foyer", "Vide : sans plafond.")
    max_resources_per_unit = f.optional_money(
        "Plafond de ressources mensuelles par unité de consommation",
        "Le quotient du CCAS : ressources divisées par les unités de consommation du foyer "
        "(1 pour le premier adulte, 0,5 par personne de 14 ans ou plus, 0,3 par enfant plus "
        "jeune). Vide : sans plafond.")
    residents_only = fields.Boolean(
        load_default=True, metadata={"label": "Réservée aux habitants de la commune"})
    action = fields.String(load_default="", validate=validate.Length(
        0, 300, error="300 caractères au plus."),
        metadata={"label": "Ce que le CCAS doit faire"})


class CityAidsSettings(Schema):
    postal_codes = fields.List(
        fields.String(validate=validate.Regexp(
            r"^(?:[0-9]{5}|2[AB][0-9]{3})$",
            error="Code postal invalide : cinq chiffres (ex. 31000).")),
        load_default=list,
        metadata={"label": "Codes postaux de la commune", "widget": "words",
                  "description": "Un dossier dont l'adresse porte un autre code postal n'est "
                                 "pas proposé pour les aides réservées aux habitants. Vide : "
                                 "la résidence est à vérifier."})
    aids = fields.List(
        fields.Nested(CityAid), load_default=list,
        metadata={"label": "Aides de la ville", "row_label": "Aide",
                  "description": "Les aides facultatives de votre CCAS ou de votre ville à "
                                 "envisager avant un microcrédit : une aide est proposée "
                                 "quand le dossier remplit toutes ses conditions (les "
                                 "conditions vides ne comptent pas)."})
