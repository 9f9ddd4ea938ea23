"""Settings of the CAF plugin. The aid rules are examples to adjust per tenant, not
national truth: each CAF sets its own optional aids and thresholds, and the legal
allowances' ceilings move every year (the rules only say when to check a right, the
CAF's simulator decides it)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.plugin_api import settings_fields as f

PURPOSE = validate.OneOf(f.PURPOSES, error="Objet inconnu : {input}.")
IN_WORK = ["cdi", "cdd", "interim", "part_time", "self_employed"]


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
                           metadata={"label": "Objets concernés", "vocabulary": "purpose",
                                     "description": "Aucun coché : quel que soit l'objet "
                                                    "de la demande."})
    check_family_quotient = fields.Boolean(
        load_default=True, metadata={"label": "Soumise au quotient familial"})
    max_family_quotient = fields.Integer(
        load_default=None, allow_none=True,
        validate=validate.Range(0, 5000, error="Doit être entre 0\u00a0€ et 5\u202f000\u00a0€."),
        metadata={"label": "Plafond de quotient familial", "unit": "€",
                  "description": "Vide : le plafond général de l'extension."})
    families_only = fields.Boolean(load_default=True,
                                   metadata={"label": "Réservée aux familles"})
    min_children = f.optional_whole("Nombre d'enfants au foyer, au moins", 1, 12)
    child_max_age = f.optional_whole(
        "Un enfant de cet âge au plus", 0, 25,
        "Ex. 2 pour un enfant de moins de 3 ans. Vide : sans condition d'âge.", unit="ans")
    employment = f.employments("Situations d'emploi concernées",
                               "Aucune cochée : quelle que soit la situation.")
    max_monthly_resources = f.optional_money(
        "Plafond de ressources mensuelles du foyer",
        "Vide : sans plafond. Ressources du budget, ou à défaut celles notées à l'accueil.")
    unclaimed_resource = f.budget_category(
        "resource", "Ressource absente du budget",
        "L'aide est proposée quand le budget ne montre pas cette ressource (un droit "
        "peut-être non demandé).")
    required_charge = f.budget_category(
        "charge", "Charge présente au budget", "Ex. le loyer pour une aide au logement.")
    action = fields.String(load_default="", validate=validate.Length(
        0, 300, error="300 caractères au plus."),
        metadata={"label": "Ce que le CCAS doit faire"})


_DEFAULT_RULES = [
    {"code": "pret_equipement_menager", "label": "Prêt d'équipement ménager de la CAF",
     "purposes": ["household_equipment"], "max_family_quotient": 800, "families_only": True,
     "action": "Vérifier l'ouverture de droits auprès de la CAF avant le microcrédit."},
    {"code": "aide_installation_logement",
     "label": "Aide ou prêt à l'installation dans un logement",
     "purposes": ["housing"], "max_family_quotient": 800, "families_only": True,
     "action": "Orienter vers le travailleur social de la CAF."},
    {"code": "aide_mobilite_insertion", "label": "Aide à la mobilité pour l'insertion",
     "purposes": ["mobility", "training", "employment"], "max_family_quotient": 800,
     "families_only": True,
     "employment": ["cdd", "interim", "part_time", "unemployed", "minimum_benefits"],
     "action": "Demander au travailleur social de la CAF si une aide à la mobilité "
               "(permis, véhicule, réparation) peut couvrir le projet."},
    {"code": "aide_au_logement", "label": "Aide au logement (APL ou ALS)", "purposes": [],
     "check_family_quotient": False, "families_only": False,
     "unclaimed_resource": "housing_benefit", "required_charge": "rent",
     "action": "Faire la simulation d'aide au logement sur caf.fr avec la personne."},
    {"code": "prime_activite", "label": "Prime d'activité", "purposes": [],
     "check_family_quotient": False, "families_only": False, "employment": IN_WORK,
     "max_monthly_resources": "2000.00",
     "action": "Faire la simulation de prime d'activité sur caf.fr avec la personne."},
    {"code": "rsa", "label": "Revenu de solidarité active (RSA)", "purposes": [],
     "check_family_quotient": False, "families_only": False,
     "employment": ["unemployed"], "max_monthly_resources": "1000.00",
     "unclaimed_resource": "minimum_benefits",
     "action": "Vérifier le droit au RSA (simulateur de la CAF) et accompagner la demande."},
    {"code": "prestations_familiales", "label": "Allocations familiales",
     "purposes": [], "check_family_quotient": False, "families_only": True,
     "min_children": 2, "unclaimed_resource": "family_benefits",
     "action": "Vérifier auprès de la CAF que les prestations familiales sont versées."},
    {"code": "paje", "label": "Prestation d'accueil du jeune enfant (PAJE)",
     "purposes": [], "check_family_quotient": False, "families_only": True,
     "child_max_age": 2, "unclaimed_resource": "family_benefits",
     "action": "Vérifier les droits à la PAJE auprès de la CAF."},
]
#: The default rules with every field (as the settings page stores them).
DEFAULT_RULES = [AidRule().load(rule) for rule in _DEFAULT_RULES]


class CafSettings(Schema):
    family_quotient_threshold = f.whole(
        800, "Plafond de quotient familial", 0, 5000,
        "Exemple à ajuster selon le règlement d'action sociale de votre CAF.", unit="€",
    )
    aid_rules = fields.List(
        fields.Nested(AidRule), load_default=lambda: [dict(r) for r in DEFAULT_RULES],
        metadata={"label": "Aides à proposer", "row_label": "Aide",
                  "description": "Les aides de votre CAF et les droits à vérifier que le "
                                 "CCAS doit envisager avant un microcrédit : une aide est "
                                 "proposée quand le dossier remplit toutes ses conditions "
                                 "(les conditions vides ne comptent pas)."},
    )
    contact_email = f.email()
