"""Which CAF aids to suggest: the tenant's rules (settings ``aid_rules``) applied to a case.

Pure: data in, suggestions out. A family is a household with at least one child. The
family quotient is often unknown at evaluation: the aid is then suggested "to check"
against the ceiling rather than left out.
"""

from __future__ import annotations

from core.plugin_api import Suggestion


def aids_for(settings: dict, purpose: str, family: bool,
             family_quotient: int | None) -> list[Suggestion]:
    """The CAF aids ``settings["aid_rules"]`` suggest for this purpose and household."""
    out = []
    for rule in settings["aid_rules"]:
        if purpose not in rule["purposes"] or (rule["families_only"] and not family):
            continue
        ceiling = rule.get("max_family_quotient")
        if ceiling is None:
            ceiling = settings["family_quotient_threshold"]
        if family_quotient is not None and family_quotient > ceiling:
            continue
        who = "Famille avec enfant(s)" if family else "Foyer"
        if family_quotient is None:
            why = (f"{who} : aide possible si le foyer est allocataire et que son quotient "
                   f"familial ne dépasse pas {ceiling} € (à vérifier).")
        else:
            why = (f"{who} au quotient familial de {family_quotient} €, sous le plafond "
                   f"de {ceiling} € : aide possible si le foyer est allocataire.")
        out.append(Suggestion(rule["code"], rule["label"], why=why, action=rule["action"]))
    return out
