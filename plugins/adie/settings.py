from __future__ import annotations

from marshmallow import Schema

from core.plugin_api import settings_fields as f


class AdieSettings(Schema):
    business_keywords = f.words(
        ("entreprise", "auto-entrepreneur", "micro-entreprise", "création d'activité",
         "commerce", "artisan", "siret", "local commercial", "stock"),
        "Mots qui signalent un projet professionnel",
        "Une demande qui contient l'un d'eux suggère l'Adie.",
    )
    professional_loan_max = f.money("12000", "Plafond du microcrédit professionnel")
    contact_email = f.email()
