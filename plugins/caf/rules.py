"""Which CAF aids to suggest: the tenant's rules (settings ``aid_rules``) applied to a case.

Pure: data in, suggestions out. A family is a household with at least one child. The
family quotient is often unknown at evaluation: the aid is then suggested "to check"
against the ceiling rather than left out. When the CAF referred the household it may have
given the quotient (and the allocataire number): an aid under its ceiling is then said
likely applicable, one above it is left out.

The explanation never states the quotient itself: ``case_suggestions.why`` is not personal
data in the RGPD registry (the value stays on the referral, whose ``extra`` is).
"""

from __future__ import annotations

from core.plugin_api import Suggestion


def aids_for(settings: dict, purpose: str, family: bool,
             family_quotient: int | None, allocataire: bool = False) -> list[Suggestion]:
    """The CAF aids ``settings["aid_rules"]`` suggest for this purpose and household;
    ``allocataire``: the CAF gave the household's allocataire number."""
    out = []
    for rule in settings["aid_rules"]:
        if purpose not in rule["purposes"] or (rule["families_only"] and not family):
            continue
        ceiling = rule.get("max_family_quotient")
        if ceiling is None:
            ceiling = settings["family_quotient_threshold"]
        if family_quotient is not None and family_quotient > ceiling:
            continue
        who = "Famille avec enfants" if family else "Foyer"
        if allocataire:
            who += " allocataire de la CAF"
        if family_quotient is None:
            condition = "" if allocataire else "si le foyer est allocataire et "
            why = (f"{who} : aide possible {condition}si son quotient familial ne dépasse "
                   f"pas {ceiling} € (à vérifier).")
        else:
            condition = "" if allocataire else " si le foyer est allocataire"
            why = (f"{who} au quotient familial transmis par la CAF sous le plafond de "
                   f"{ceiling} € : aide probablement applicable{condition}.")
        out.append(Suggestion(rule["code"], rule["label"], why=why, action=rule["action"]))
    return out
