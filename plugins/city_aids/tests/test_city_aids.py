"""Aides de la ville: a city declares its own aids in its settings (rows, French
messages), and each is suggested when the case meets its conditions, saying why from the
aid's own bounds, never the case's values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core import cases, plugins
from core.features import suggestions
from core.plugin_api import HouseholdFacts, State, hooks
from core.testing import answer_of
from plugins.city_aids.rules import city_aid, city_aids_for

URGENCE = {"code": "aide_urgence", "label": "Aide facultative d'urgence", "purposes": [],
           "min_age": None, "max_age": None, "families_only": False,
           "max_monthly_resources": None, "max_resources_per_unit": Decimal("700"),
           "residents_only": True, "action": "Présenter la demande à la commission."}
MOBILITE = {"code": "aide_mobilite_ville", "label": "Aide à la mobilité de la ville",
            "purposes": ["mobility"], "min_age": 18, "max_age": 30, "families_only": False,
            "max_monthly_resources": Decimal("1500"), "max_resources_per_unit": None,
            "residents_only": True, "action": ""}
CODES = ["31000", "31100", "31200", "31300", "31400", "31500"]


def facts(**kw) -> HouseholdFacts:
    base = {"purpose": "mobility", "age": 24, "monthly_resources": Decimal("1200"),
            "postal_code": "31400"}
    return HouseholdFacts(**{**base, **kw})


def test_every_condition_met_says_why_with_the_aid_s_bounds_only():
    found = city_aid(MOBILITE, facts(), CODES)
    assert found.code == "aide_mobilite_ville"
    assert found.why.startswith("Demande « mobilité », demandeur âgé de 18 à 30 ans le jour "
                                "de la demande, ressources sous le plafond de 1")
    assert "domicile dans la commune" in found.why
    assert found.why.endswith(": aide probablement applicable.")
    for personal in ("24", "1 200", "1200", "31400"):
        assert personal not in found.why


@pytest.mark.parametrize("change", [
    {"purpose": "debts"}, {"age": 17}, {"age": 31}, {"monthly_resources": Decimal("1600")},
    {"postal_code": "75011"},
], ids=["purpose", "too-young", "too-old", "resources", "elsewhere"])
def test_a_condition_the_case_fails_leaves_the_aid_out(change):
    assert city_aid(MOBILITE, facts(**change), CODES) is None


def test_what_the_case_cannot_tell_leaves_the_aid_to_check():
    found = city_aid(MOBILITE, facts(age=None, monthly_resources=None, postal_code=None),
                     CODES)
    assert found.why == (
        "Demande « mobilité » : aide possible si le demandeur est âgé de 18 à 30 ans et si ses "
        "ressources ne dépassent pas 1\u202f500,00\u00a0€ par mois et si le demandeur habite "
        "la commune (à vérifier).")
    # no postal codes in the settings: residence is always to check
    assert "habite la commune (à vérifier)" in city_aid(MOBILITE, facts(), []).why


def test_the_quotient_is_resources_per_consumption_unit_and_family_only_needs_children():
    # 1,200 € for two adults and a child of 4: 1.8 units, 666.67 € per unit (under 700)
    family = facts(purpose="debts", adults=2, children_ages=(4,))
    found = city_aid(URGENCE, family, CODES)
    assert "par mois et par unité de consommation" in found.why
    assert city_aid(URGENCE, facts(purpose="debts"), CODES) is None  # 1,200 € for 1 unit
    only_families = {**URGENCE, "families_only": True, "max_resources_per_unit": None}
    assert city_aid(only_families, facts(), CODES) is None
    assert city_aid(only_families, family, CODES).why.startswith("Famille avec enfants")
    assert [s.code for s in city_aids_for(
        {"postal_codes": CODES, "aids": [URGENCE, MOBILITE]}, family)] == ["aide_urgence"]


def test_the_city_s_aids_are_suggested_at_evaluation(tenant, users, session, enable_plugin,
                                                     in_tenant):
    enable_plugin(tenant, "city_aids", postal_codes=CODES, aids=[
        {**MOBILITE, "max_monthly_resources": "1500.00"}])
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Sami", "Nour", date(2001, 2, 3), postal_code="31200",
            monthly_resources=Decimal("1100")))
        case = cases.open_case(session, person, "mobility", "1200", actor=users["secretary"])
        [suggestion] = answer_of("city_aids", hooks().ccas_suggest_alternatives, case=case)
        case.state = State.evaluation
        suggestions.refresh(session, case)
        [row] = [r for r in suggestions.for_case(session, case) if r.plugin == "city_aids"]
    assert suggestion.label == "Aide à la mobilité de la ville"
    assert row.why == suggestion.why and "aide probablement applicable" in row.why


def test_a_city_without_aids_suggests_nothing(tenant, users, session, enable_plugin,
                                              in_tenant):
    enable_plugin(tenant, "city_aids")
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Léo", "Blanc"))
        case = cases.open_case(session, person, "mobility", "900", actor=users["secretary"])
        assert answer_of("city_aids", hooks().ccas_suggest_alternatives, case=case) is None


def test_settings_refuse_bad_rows_with_french_messages(tenant, session, in_tenant):
    with in_tenant(tenant), pytest.raises(plugins.PluginError) as err:
        plugins.update_settings(session, "city_aids", {
            "postal_codes": ["3100"],
            "aids": [{"code": "Aide Urgence", "label": "", "min_age": 10}]})
    text = str(err.value)
    assert "Code postal invalide" in text
    assert "minuscules sans accent" in text and "Indiquez le nom de l'aide" in text
    assert "Doit être entre 16" in text


def test_the_settings_page_has_rows_and_no_json_box(tenant, client, login, users,
                                                    enable_plugin):
    enable_plugin(tenant, "city_aids")
    login(client, users["manager"])
    page = client.get("/t/alpha/admin/plugins/city_aids").get_data(as_text=True)
    assert "<legend>Aides de la ville</legend>" in page
    assert "<legend>Ajouter : Aide</legend>" in page
    assert "Plafond de ressources mensuelles par unité de consommation" in page
    assert "Réservée aux habitants de la commune" in page and "JSON" not in page


def test_the_case_page_shows_the_city_aid_with_its_why(tenant, users, session, client,
                                                       login, enable_plugin, in_tenant):
    enable_plugin(tenant, "city_aids", postal_codes=CODES, aids=[
        {**MOBILITE, "max_monthly_resources": "1500.00"}])
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Sami", "Nour", date(2001, 2, 3), postal_code="31200",
            monthly_resources=Decimal("1100")))
        case = cases.open_case(session, person, "mobility", "1200", actor=users["secretary"])
        case.state = State.evaluation
        suggestions.refresh(session, case)
        session.commit()
        case_id = case.id
    login(client, users["social_worker"])
    for url in (f"/t/alpha/cases/{case_id}", f"/t/alpha/cases/{case_id}/suggestions/"):
        page = client.get(url).get_data(as_text=True)
        assert "Aide à la mobilité de la ville" in page, url
        assert "demandeur âgé de 18 à 30 ans le jour de la demande" in page, url
