"""Settings of the lender plugin (defaults from the seed document's scheme; each city
sets its own)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, validates_schema

from core.plugin_api import settings_fields as f


class CreditMunicipalSettings(Schema):
    annual_rate = f.percent("3.04", "Taux annuel fixe", maximum="30")
    amount_min = f.money("300", "Montant minimum")
    amount_max = f.money("3000", "Montant maximum")
    max_months = f.whole(36, "Durée maximale", 1, 120, unit="mois")
    schedule_method = f.choice(
        "annuity", "Méthode d'amortissement",
        {"annuity": "Échéances constantes (le plus courant)",
         "linear": "Amortissement constant (échéances dégressives)"},
    )
    interest_paid_by_city = f.percent(
        "100", "Part des intérêts payée par la commune",
        "0 % : l'emprunteur paie tous les intérêts ; 100 % : prêt sans intérêt pour lui.",
    )
    city_guarantee = f.percent(
        "15", "Garantie de la commune contre le non-recouvrement",
        "Part du capital restant dû que la commune rembourse au prêteur en cas de défaut.",
    )
    fcs_guarantee = f.percent(
        "50", "Garantie du Fonds de cohésion sociale (part de l'encours)",
        "Couramment 50 % de l'encours des microcrédits personnels.",
    )
    default_after_days = f.whole(
        90, "Défaillance proposée après (jours de retard)", 1, 3650,
    )
    allowed_purposes = f.purposes(
        ("mobility", "housing", "household_equipment", "health", "training", "employment",
         "debts", "other"),
        "Objets finançables",
    )
    contact_email = f.email()

    @validates_schema
    def _bounds(self, data, **_kw):
        if data["amount_min"] > data["amount_max"]:
            raise ValidationError(
                "Le minimum dépasse le maximum.", field_name="amount_min"
            )
