"""The FAJ plugin: the rule says why from the case's data, the age bounds and purposes
are settings, the destination and the report section."""

from __future__ import annotations

from datetime import date

from core import accounts, cases
from core.features import suggestions
from core.plugin_api import State, hooks
from core.testing import answer_of
from plugins.faj import faj_suggestion

SETTINGS = {"min_age": 18, "max_age": 25,
            "purposes": ["mobility", "training", "employment", "housing"]}


def open_case(session, users, born, purpose="mobility"):
    person = cases.create_person(session, cases.PersonData("Yanis", "Roux", born))
    return cases.open_case(session, person, purpose, "900", actor=users["secretary"])


def test_the_rule_is_pure_and_says_why():
    found = faj_suggestion(SETTINGS, date(2004, 6, 1), date(2026, 11, 16), "mobility")
    assert found.code == "faj_aid"
    assert "Entre 18 et 25 ans le jour de la demande" in found.why
    assert "22" not in found.why and "2026" not in found.why  # no personal data in why
    assert "« mobilité »" in found.why
    assert faj_suggestion(SETTINGS, date(2000, 11, 16), date(2026, 11, 16), "mobility") is None
    assert faj_suggestion(SETTINGS, date(2001, 11, 17), date(2026, 11, 16), "mobility")
    assert faj_suggestion(SETTINGS, date(2004, 6, 1), date(2026, 11, 16), "debts") is None
    assert faj_suggestion(SETTINGS, None, date(2026, 11, 16), "mobility") is None


def test_a_young_applicant_is_offered_the_faj(tenant, users, session, enable_plugin,
                                              in_tenant):
    enable_plugin(tenant, "faj")
    with in_tenant(tenant):
        young = open_case(session, users, date(2005, 3, 1))
        [suggestion] = answer_of("faj", hooks().ccas_suggest_alternatives, case=young)
        assert suggestion.label == "Fonds d'aide aux jeunes (FAJ)"
        older = open_case(session, users, date(1980, 3, 1))
        assert answer_of("faj", hooks().ccas_suggest_alternatives, case=older) is None


def test_the_age_bounds_are_settings_of_the_tenant(tenant, users, session, enable_plugin,
                                                   in_tenant):
    enable_plugin(tenant, "faj", max_age=30)
    with in_tenant(tenant):
        case = open_case(session, users, date(1998, 3, 1))
        assert answer_of("faj", hooks().ccas_suggest_alternatives, case=case)


def test_destination_and_report(tenant, users, session, enable_plugin, in_tenant):
    enable_plugin(tenant, "faj")
    with in_tenant(tenant):
        accounts.create_organisation(session, "FAJ de la Haute-Garonne", "aid_fund",
                                     plugin_name="faj")
        [destination] = answer_of("faj", hooks().ccas_reorientation_destinations)
        case = open_case(session, users, date(2004, 3, 1))
        case.state = State.evaluation
        suggestions.refresh(session, case)
        [row] = [r for r in suggestions.for_case(session, case) if r.plugin == "faj"]
        suggestions.resolve(session, case, row, "mobilised", "", users["social_worker"])
        session.commit()
        section = answer_of("faj", hooks().ccas_report_sections,
                            year=cases.local_today(tenant).year)
    assert destination.organisation_name == "FAJ de la Haute-Garonne"
    assert section.data["aids_mobilised"] == 1
