"""The CAF's richer rules: allowances the household may not be claiming and aids read from
the case's household, employment and budget, each saying why from the rule's conditions
(never the case's values)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core import cases
from core.features import suggestions
from core.plugin_api import HouseholdFacts, State, household_facts
from plugins.caf.rules import aids_for
from plugins.caf.settings import CafSettings

DEFAULTS = CafSettings().load({})


def facts(purpose="mobility", **kw) -> HouseholdFacts:
    return HouseholdFacts(purpose=purpose, **kw)


def codes(found) -> list[str]:
    return [s.code for s in found]


def suggest(purpose="mobility", quotient=None, allocataire=False, **kw):
    f = facts(purpose, **kw)
    return aids_for(DEFAULTS, purpose, f.family, quotient, allocataire, facts=f)


def test_a_tenant_paying_rent_without_housing_benefit_is_told_to_check_the_apl():
    [aid] = [s for s in suggest(budget_resources=frozenset({"salary"}),
                                budget_charges=frozenset({"rent", "energy"}))
             if s.code == "aide_au_logement"]
    assert aid.why == ("Foyer, le budget ne montre pas « Aide au logement (APL, ALS) », "
                       "« Loyer ou remboursement immobilier » au budget : aide probablement "
                       "applicable.")
    # already paid, no rent, or no budget sheet yet: nothing to suggest
    assert "aide_au_logement" not in codes(suggest(
        budget_resources=frozenset({"salary", "housing_benefit"}),
        budget_charges=frozenset({"rent"})))
    assert "aide_au_logement" not in codes(suggest(
        budget_resources=frozenset({"salary"}), budget_charges=frozenset({"energy"})))
    assert "aide_au_logement" not in codes(suggest())


def test_the_prime_d_activite_for_a_worker_under_the_resources_ceiling():
    [aid] = [s for s in suggest(employment="interim", monthly_resources=Decimal("1350"))
             if s.code == "prime_activite"]
    assert aid.why.startswith("Foyer, situation d'emploi concernée par l'aide (CDI, CDD, "
                              "Intérim, Temps partiel ou Indépendant), ressources du foyer "
                              "sous le plafond de 2")
    assert aid.why.endswith(" par mois : aide probablement applicable.")
    assert "1 350" not in aid.why and "1350" not in aid.why  # no personal data
    # resources unknown: to check; above the ceiling or not working: left out
    [to_check] = [s for s in suggest(employment="cdi") if s.code == "prime_activite"]
    assert "si ses ressources ne dépassent pas 2" in to_check.why
    assert "(à vérifier)" in to_check.why
    assert "prime_activite" not in codes(suggest(employment="cdi",
                                                 monthly_resources=Decimal("2500")))
    assert "prime_activite" not in codes(suggest(employment="retired",
                                                 monthly_resources=Decimal("900")))
    assert "prime_activite" not in codes(suggest(monthly_resources=Decimal("900")))


def test_the_rsa_for_a_job_seeker_whose_budget_shows_no_minimum_benefit():
    found = suggest(employment="unemployed", monthly_resources=Decimal("400"),
                    budget_resources=frozenset({"unemployment"}),
                    budget_charges=frozenset({"rent"}))
    [rsa] = [s for s in found if s.code == "rsa"]
    assert "Demandeur d'emploi" in rsa.why and "« Minima sociaux (RSA, AAH, ASS…) »" in rsa.why
    assert "rsa" not in codes(suggest(employment="unemployed",
                                      monthly_resources=Decimal("400"),
                                      budget_resources=frozenset({"minimum_benefits"}),
                                      budget_charges=frozenset()))


def test_family_benefits_by_the_children_of_the_household():
    budget = {"budget_resources": frozenset({"salary"}), "budget_charges": frozenset()}
    two = suggest(children_ages=(1, 7), **budget)
    assert {"prestations_familiales", "paje"} <= set(codes(two))
    [paje] = [s for s in two if s.code == "paje"]
    assert paje.why == ("Famille avec enfants, un enfant de moins de 3 ans, le budget ne "
                        "montre pas « Prestations familiales » : aide probablement "
                        "applicable.")
    [allowances] = [s for s in two if s.code == "prestations_familiales"]
    assert "au moins 2 enfants" in allowances.why
    one_older = codes(suggest(children_ages=(9,), **budget))
    assert "paje" not in one_older and "prestations_familiales" not in one_older


def test_the_mobility_aid_for_a_family_in_precarious_work_keeps_the_quotient_check():
    [aid] = [s for s in suggest("mobility", children_ages=(4,), employment="cdd")
             if s.code == "aide_mobilite_insertion"]
    assert aid.why == (
        "Famille avec enfants, situation d'emploi concernée par l'aide (CDD, Intérim, "
        "Temps partiel, Demandeur d'emploi ou Minima sociaux) : aide possible si le foyer "
        "est allocataire et si son quotient familial ne dépasse pas 800 € (à vérifier).")
    assert "aide_mobilite_insertion" not in codes(
        suggest("mobility", children_ages=(4,), employment="cdd", quotient=900))
    assert "aide_mobilite_insertion" not in codes(suggest("mobility", children_ages=(4,)))


def test_an_empty_purpose_list_means_any_request():
    settings = CafSettings().load({"aid_rules": [
        {"code": "bilan", "label": "Bilan de droits", "purposes": [],
         "check_family_quotient": False, "families_only": False}]})
    for purpose in ("debts", "health", "other"):
        [aid] = aids_for(settings, purpose, False, None, facts=facts(purpose))
        assert aid.why == "Foyer : aide probablement applicable."


def test_household_facts_read_the_person_the_household_and_the_budget(
        tenant, users, session, in_tenant, enable_plugin):
    enable_plugin(tenant, "caf")
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Inès", "Roche", date(1990, 5, 1), postal_code="31000", adults=2,
            children_ages=[2, 15], employment="part_time",
            monthly_resources=Decimal("1100")))
        case = cases.open_case(session, person, "mobility", "1500",
                               actor=users["secretary"])
        found = household_facts(session, case)
        assert found.employment == "part_time" and found.children_ages == (2, 15)
        assert found.monthly_resources == Decimal("1100") and found.budget_resources is None
        assert found.consumption_units == Decimal("2.3")
        assert found.postal_code == "31000" and found.family
        case.state = State.evaluation
        cases.save_budget(session, case, users["social_worker"],
                          {"salary": "1250", "rent": "520", "energy": "0"})
        found = household_facts(session, case)
        assert found.monthly_resources == Decimal("1250")
        assert found.budget_resources == {"salary"} and found.budget_charges == {"rent"}
        suggestions.refresh(session, case)
        stored = {r.code: r for r in suggestions.for_case(session, case) if r.plugin == "caf"}
    assert {"aide_au_logement", "prime_activite", "prestations_familiales", "paje",
            "aide_mobilite_insertion"} <= set(stored)
    for row in stored.values():
        assert "1250" not in row.why and "1 250" not in row.why and "Inès" not in row.why
