"""Which CAF aids to suggest: the tenant's rules (settings ``aid_rules``) applied to a case.

Pure: data in, suggestions out. A family is a household with at least one child. A rule
applies when the case meets every condition the rule sets (an empty condition does not
count):

* the purpose of the request (no purpose ticked: any request);
* a family only, at least so many children, a child of at most so many years;
* the applicant's employment situation among the rule's;
* the household's monthly resources under the rule's ceiling;
* a resource the budget sheet does not show (a right perhaps not claimed: no housing
  benefit, no family benefits) and a charge it shows (the rent);
* the family quotient under the ceiling (rules "soumise au quotient familial").

The family quotient is often unknown at evaluation: the aid is then suggested "to check"
against the ceiling rather than left out; so are the resources when nothing says them.
The situation a rule is about (employment, children's ages, the budget sheet) must be
known: a rule whose premise the case does not show is not suggested. When the CAF
referred the household it may have given the quotient (and the allocataire number): an
aid under its ceiling is then said likely applicable, one above it is left out.

The explanation (``why``) names the conditions met with the rule's own thresholds and
labels, never the case's values (the quotient, the resources, an age, an employment
situation): ``case_suggestions.why`` is not personal data in the RGPD registry (the
values stay on the person, the budget sheet and the referral, which are).
"""

from __future__ import annotations

from decimal import Decimal

from core.plugin_api import HouseholdFacts, Suggestion, format_money, label


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    return Decimal(str(value))


def _labels(vocabulary: str, codes) -> str:
    names = [label(vocabulary, c) for c in codes]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " ou " + names[-1]


def _situation(rule: dict, facts: HouseholdFacts | None) -> list[str] | None:
    """The phrases of the conditions on the household's situation, or ``None`` when the
    case does not meet one (or does not show it)."""
    phrases: list[str] = []
    children = facts.children_ages if facts is not None else ()
    min_children = rule.get("min_children")
    if min_children:
        if facts is None or len(children) < min_children:
            return None
        phrases.append(f"au moins {min_children} enfant{'s' if min_children > 1 else ''}")
    child_max_age = rule.get("child_max_age")
    if child_max_age is not None:
        if not any(age <= child_max_age for age in children):
            return None
        phrases.append(f"un enfant de moins de {child_max_age + 1} ans")
    employment = rule.get("employment") or []
    if employment:
        if facts is None or facts.employment not in employment:
            return None
        phrases.append("situation d'emploi concernée par l'aide "
                       f"({_labels('employment', employment)})")
    unclaimed = rule.get("unclaimed_resource")
    if unclaimed:
        shown = facts.budget_resources if facts is not None else None
        if shown is None or unclaimed in shown:
            return None
        phrases.append(f"le budget ne montre pas « {label('budget_resource', unclaimed)} »")
    charge = rule.get("required_charge")
    if charge:
        shown = facts.budget_charges if facts is not None else None
        if shown is None or charge not in shown:
            return None
        phrases.append(f"« {label('budget_charge', charge)} » au budget")
    return phrases


def aids_for(settings: dict, purpose: str, family: bool,
             family_quotient: int | None, allocataire: bool = False,
             facts: HouseholdFacts | None = None) -> list[Suggestion]:
    """The CAF aids ``settings["aid_rules"]`` suggest for this purpose and household;
    ``allocataire``: the CAF gave the household's allocataire number; ``facts``: the
    case's household, employment and budget (``core.plugin_api.household_facts``)."""
    out = []
    for rule in settings["aid_rules"]:
        purposes = rule.get("purposes") or []
        if purposes and purpose not in purposes:
            continue
        if rule.get("families_only", True) and not family:
            continue
        situation = _situation(rule, facts)
        if situation is None:
            continue
        to_check: list[str] = []
        ceiling_resources = _amount(rule.get("max_monthly_resources"))
        if ceiling_resources is not None:
            resources = facts.monthly_resources if facts is not None else None
            if resources is not None and resources > ceiling_resources:
                continue
            shown = format_money(ceiling_resources)
            if resources is None:
                to_check.append(f"ses ressources ne dépassent pas {shown} par mois")
            else:
                situation.append(f"ressources du foyer sous le plafond de {shown} par mois")
        who = "Famille avec enfants" if family else "Foyer"
        quotient_phrase = ""
        condition = ""
        if rule.get("check_family_quotient", True):
            ceiling = rule.get("max_family_quotient")
            if ceiling is None:
                ceiling = settings["family_quotient_threshold"]
            if family_quotient is not None and family_quotient > ceiling:
                continue
            if allocataire:
                who += " allocataire de la CAF"
            elif family_quotient is None:
                to_check.insert(0, "le foyer est allocataire")
            else:
                condition = " si le foyer est allocataire"
            if family_quotient is None:
                to_check.insert(1 if not allocataire else 0,
                                f"son quotient familial ne dépasse pas {ceiling} €")
            else:
                quotient_phrase = (" au quotient familial transmis par la CAF sous le "
                                   f"plafond de {ceiling} €")
        facts_text = "".join(f", {p}" for p in situation)
        if to_check:
            conclusion = "aide possible si " + " et si ".join(to_check) + " (à vérifier)."
        else:
            conclusion = f"aide probablement applicable{condition}."
        why = f"{who}{quotient_phrase}{facts_text} : {conclusion}"
        out.append(Suggestion(rule["code"], rule["label"], why=why,
                              action=rule.get("action") or ""))
    return out
