"""Which of the city's own aids to suggest for a case: pure, data in, suggestions out.

An aid applies when the case meets every condition it sets (an empty one does not
count): the purpose, the applicant's age on the day of the request, a family, the
household's monthly resources and its resources per consumption unit (the CCAS's
quotient) under their ceilings, residence in the city (the address's postal code among
the city's). A condition the case cannot tell (no birth date, no resources noted, no
address) leaves the aid suggested "to check" rather than out; a condition it fails leaves
the aid out.

The explanation (``why``) names the conditions met with the aid's own bounds, never the
case's values (an age, an amount, an address): ``case_suggestions.why`` is not personal
data in the RGPD registry.
"""

from __future__ import annotations

from decimal import Decimal

from core.plugin_api import HouseholdFacts, Suggestion, format_money, label


def _amount(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _age_bounds(aid: dict) -> str:
    low, high = aid.get("min_age"), aid.get("max_age")
    if low is not None and high is not None:
        return f"âgé de {low} à {high} ans"
    if low is not None:
        return f"âgé de {low} ans ou plus"
    return f"âgé de {high} ans au plus"


def city_aid(aid: dict, facts: HouseholdFacts, postal_codes) -> Suggestion | None:
    """The suggestion of ``aid`` for the case ``facts`` describes, or ``None``."""
    purposes = aid.get("purposes") or []
    met: list[str] = []
    to_check: list[str] = []
    if purposes:
        if facts.purpose not in purposes:
            return None
        met.append(f"demande « {label('purpose', facts.purpose).lower()} »")
    if aid.get("min_age") is not None or aid.get("max_age") is not None:
        bounds = _age_bounds(aid)
        if facts.age is None:
            to_check.append(f"le demandeur est {bounds}")
        elif ((aid.get("min_age") is not None and facts.age < aid["min_age"])
              or (aid.get("max_age") is not None and facts.age > aid["max_age"])):
            return None
        else:
            met.append(f"demandeur {bounds} le jour de la demande")
    if aid.get("families_only"):
        if not facts.family:
            return None
        met.append("famille avec enfants")
    for key, value, text in (
            ("max_monthly_resources", facts.monthly_resources, "par mois"),
            ("max_resources_per_unit", facts.resources_per_unit,
             "par mois et par unité de consommation")):
        ceiling = _amount(aid.get(key))
        if ceiling is None:
            continue
        if value is None:
            to_check.append(f"ses ressources ne dépassent pas {format_money(ceiling)} {text}")
        elif value > ceiling:
            return None
        else:
            met.append(f"ressources sous le plafond de {format_money(ceiling)} {text}")
    if aid.get("residents_only", True):
        codes = set(postal_codes or [])
        if not codes or facts.postal_code is None:
            to_check.append("le demandeur habite la commune")
        elif facts.postal_code not in codes:
            return None
        else:
            met.append("domicile dans la commune")
    head = ", ".join(met)
    head = (head[0].upper() + head[1:]) if head else "Aide de la ville"
    if to_check:
        conclusion = "aide possible si " + " et si ".join(to_check) + " (à vérifier)."
    else:
        conclusion = "aide probablement applicable."
    return Suggestion(aid["code"], aid["label"], why=f"{head} : {conclusion}",
                      action=aid.get("action") or "")


def city_aids_for(settings: dict, facts: HouseholdFacts) -> list[Suggestion]:
    """Every aid of ``settings["aids"]`` that applies to the case."""
    found = (city_aid(aid, facts, settings.get("postal_codes")) for aid in settings["aids"])
    return [s for s in found if s is not None]
