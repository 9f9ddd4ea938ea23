"""Settings of the MDPH plugin."""

from __future__ import annotations

from marshmallow import Schema

from core.plugin_api import settings_fields as f


class MdphSettings(Schema):
    disability_keywords = f.words(
        ("handicap", "fauteuil", "aah", "pch", "rqth", "prothèse", "appareil auditif",
         "véhicule adapté", "aménagement du logement", "accessibilité", "invalidité"),
        "Mots qui signalent un besoin lié au handicap",
    )
    contact_email = f.email()
