"""CAF plugin: aid rules as settings, referral fields, destination, report section."""

from __future__ import annotations

from datetime import date

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from core import accounts, cases, plugins
from core.features import suggestions
from core.models import CaseTransition
from core.plugin_api import Organisation, Referral, State, hooks
from plugins.caf import DESTINATION, family_quotient
from plugins.caf.referral_fields import CafReferralFields
from plugins.caf.rules import aids_for
from plugins.caf.settings import CafSettings

DEFAULTS = CafSettings().load({})


def test_a_family_with_an_unknown_quotient_gets_the_aid_to_check():
    [aid] = aids_for(DEFAULTS, "household_equipment", family=True, family_quotient=None)
    assert aid.code == "pret_equipement_menager" and not aid.blocking
    assert "(à vérifier)" in aid.why and "800 €" in aid.why
    assert aid.action.startswith("Vérifier l'ouverture de droits")


def test_a_known_quotient_under_the_ceiling_makes_the_aid_likely_and_above_it_no_aid():
    [aid] = aids_for(DEFAULTS, "housing", family=True, family_quotient=650)
    assert aid.why == ("Famille avec enfants au quotient familial transmis par la CAF sous "
                       "le plafond de 800 € : aide probablement applicable si le foyer est "
                       "allocataire.")
    assert "650" not in aid.why  # case_suggestions.why is not personal data (RGPD registry)
    assert aids_for(DEFAULTS, "housing", family=True, family_quotient=800)
    assert aids_for(DEFAULTS, "housing", family=True, family_quotient=801) == []


def test_a_known_allocataire_drops_the_allocataire_condition():
    [likely] = aids_for(DEFAULTS, "housing", family=True, family_quotient=650,
                        allocataire=True)
    assert likely.why == ("Famille avec enfants allocataire de la CAF au quotient familial "
                          "transmis par la CAF sous le plafond de 800 € : aide probablement "
                          "applicable.")
    [to_check] = aids_for(DEFAULTS, "housing", family=True, family_quotient=None,
                          allocataire=True)
    assert to_check.why == ("Famille avec enfants allocataire de la CAF : aide possible si "
                            "son quotient familial ne dépasse pas 800 € (à vérifier).")


def test_family_rules_skip_households_without_children_and_other_purposes():
    assert aids_for(DEFAULTS, "household_equipment", family=False, family_quotient=None) == []
    assert aids_for(DEFAULTS, "mobility", family=True, family_quotient=None) == []


def test_a_rule_without_its_own_ceiling_uses_the_threshold_setting():
    settings = CafSettings().load({"family_quotient_threshold": 600, "aid_rules": [
        {"code": "aide_sante", "label": "Aide santé", "purposes": ["health"],
         "families_only": False}]})
    [aid] = aids_for(settings, "health", family=False, family_quotient=None)
    assert aid.why.startswith("Foyer") and "600 €" in aid.why
    assert aids_for(settings, "health", family=False, family_quotient=650) == []


def test_settings_refuse_an_unknown_purpose_with_the_field_message(app, tenant, in_tenant,
                                                                   session):
    with in_tenant(tenant), pytest.raises(plugins.PluginError) as err:
        plugins.update_settings(session, "caf", {"aid_rules": [
            {"code": "x1", "label": "X", "purposes": ["yachting"]}]})
    assert "Objet inconnu : yachting." in err.value.message


def test_referral_fields_accept_an_optional_seven_digit_allocataire_number():
    schema = CafReferralFields()
    assert schema.load({}) == {"allocataire_number": None, "family_quotient": None}
    assert schema.load({"allocataire_number": "123 45 67"})["allocataire_number"] == "1234567"
    with pytest.raises(ValidationError) as err:
        schema.load({"allocataire_number": "12AB"})
    assert err.value.messages == {
        "allocataire_number": ["Numéro d'allocataire CAF : 7 chiffres attendus."]}
    with pytest.raises(ValidationError):
        schema.load({"family_quotient": 9000})


@pytest.fixture
def caf_org(app, tenant, in_tenant, session, enable_plugin):
    enable_plugin(tenant, "caf")
    with in_tenant(tenant):
        org = accounts.create_organisation(session, "CAF de la Haute-Garonne", "aid_fund",
                                           plugin_name="caf")
        session.commit()
    return org


def test_the_fields_schema_answers_for_the_caf_organisation_only(caf_org, tenant, in_tenant,
                                                                 session):
    with in_tenant(tenant):
        other = accounts.create_organisation(session, "Association X", "association")
        ccas = _ccas(session)
        ask = hooks().ccas_referral_fields_schema
        assert ask(organisation=caf_org, sender=ccas) == [CafReferralFields]  # received
        assert ask(organisation=ccas, sender=caf_org) == [CafReferralFields]  # sent
        assert ask(organisation=other, sender=ccas) == []
        assert ask(organisation=ccas, sender=other) == []
        assert ask(organisation=ccas, sender=None) == []


def _case(session, users, children=(5,), purpose="household_equipment"):
    person = cases.create_person(session, cases.PersonData(
        "Awa", "Diallo", date(1988, 1, 1), children_ages=list(children)))
    return cases.open_case(session, person, purpose, "700", actor=users["secretary"])


def _ccas(session):
    return session.scalar(select(Organisation).where(Organisation.kind == "ccas"))


def _referral(session, case, from_org, to_org, extra=None, purpose="household_equipment"):
    referral = Referral(from_organisation_id=from_org.id, to_organisation_id=to_org.id,
                        first_name="Awa", last_name="Diallo", purpose=purpose,
                        consent=True, extra=extra or {}, case_id=case.id if case else None)
    session.add(referral)
    session.flush()
    return referral


def test_the_quotient_given_by_a_caf_referral_is_used(caf_org, tenant, in_tenant, session,
                                                      users):
    with in_tenant(tenant):
        case = _case(session, users)
        ccas = _ccas(session)
        _referral(session, case, caf_org, ccas, {"family_quotient": 540})
        assert family_quotient(session, case) == 540
        [suggestion] = [s for r in hooks().ccas_suggest_alternatives(case=case) for s in r]
    assert "aide probablement applicable" in suggestion.why
    assert "à vérifier" not in suggestion.why


def test_the_destination_is_the_tenants_caf_organisation(caf_org, tenant, in_tenant):
    with in_tenant(tenant):
        answers = hooks().ccas_reorientation_destinations.answers()
        [destination] = [d for name, found in answers.results if name == "caf" for d in found]
    assert destination.code == f"org:{caf_org.id}"
    assert destination.organisation_name == "CAF de la Haute-Garonne"


def test_the_report_counts_referrals_both_ways_reorientations_and_mobilised_aids(
        caf_org, tenant, in_tenant, session, users):
    year = cases.local_today(tenant).year
    with in_tenant(tenant):
        ccas = _ccas(session)
        _referral(session, None, caf_org, ccas)
        sent = _referral(session, None, ccas, caf_org)
        sent.status = "accepted"
        case = _case(session, users)
        case.state = State.evaluation
        suggestions.refresh(session, case)
        [row] = suggestions.for_case(session, case)
        suggestions.resolve(session, case, row, "mobilised", "", users["social_worker"])
        reoriented = _case(session, users)
        reoriented.state = State.reoriented
        reoriented.reoriented_to = DESTINATION
        session.add(CaseTransition(case_id=reoriented.id, from_state="evaluation",
                                   to_state="reoriented"))
        session.commit()
        [section] = hooks().ccas_report_sections(tenant=tenant, year=year, session=session)
        [empty] = hooks().ccas_report_sections(tenant=tenant, year=year - 1, session=session)
    assert section.name == "caf"
    assert section.data["referrals_in"] == 1 and section.data["referrals_out"] == 1
    assert section.data["referrals_out_by_status"] == {"accepted": 1}
    assert section.data["reoriented_out"] == 1
    assert section.data["aids_mobilised"] == 1
    assert section.data["aids_mobilised_by_aid"] == {"pret_equipement_menager": 1}
    assert empty.data["referrals_in"] == 0 and empty.data["aids_mobilised"] == 0
