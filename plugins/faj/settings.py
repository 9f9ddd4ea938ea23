"""Settings of the FAJ plugin (defaults from the departmental fund's usual rules: 18 to 25
years old, projects of insertion)."""

from __future__ import annotations

from marshmallow import Schema

from core.plugin_api import settings_fields as f


class FajSettings(Schema):
    min_age = f.whole(18, "Âge minimum pour proposer le FAJ", 16, 30)
    max_age = f.whole(25, "Âge maximum pour proposer le FAJ (inclus)", 18, 30)
    purposes = f.purposes(("mobility", "housing", "training", "employment"),
                          "Objets pour lesquels proposer le Fonds d'aide aux jeunes")
    contact_email = f.email()
