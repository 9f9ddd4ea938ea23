from __future__ import annotations

from marshmallow import Schema

from core.plugin_api import settings_fields as f


class SecoursCatholiqueSettings(Schema):
    own_microcredit_max = f.money(
        "5000", "Plafond de son propre microcrédit",
        "Indication pour l'orientation ; à ajuster avec la délégation locale.",
    )
    suggest_above = f.money(
        "3000", "Le proposer au-delà de ce montant demandé",
        "Le plafond du microcrédit du CCAS : au-delà, le Secours Catholique est suggéré.",
    )
    accepted_purposes = f.purposes(
        ("mobility", "housing", "household_equipment", "health", "training", "employment",
         "other"),
        "Objets qu'il accompagne",
    )
    contact_email = f.email()
