"""ADIE plugin: business projects are reoriented to ADIE (blocking), destination, report."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core import accounts, cases, plugins, workflow
from core.features import suggestions
from core.plugin_api import Organisation, Referral, State, hooks
from plugins.adie import business_signals
from plugins.adie.settings import AdieSettings

KEYWORDS = AdieSettings().load({})["business_keywords"]


@pytest.mark.parametrize("project", [
    "Je lance mon AUTO ENTREPRENEUR de coiffure",
    "Achat d'un véhicule pour ma micro-entreprise",
    "Création d’activité de traiteur",
    "Reprendre un commerce",
    "Constituer un stock de tissus",
])
def test_business_projects_are_detected_whatever_the_accents_case_and_hyphens(project):
    assert business_signals(project, "other", KEYWORDS)


@pytest.mark.parametrize("project", [
    "Voiture pour aller travailler en CDI",
    "Réparer le lave-linge",
    "Formation d'aide-soignante (entreprises partenaires du stage)",
])
def test_personal_projects_are_not_flagged(project):
    assert business_signals(project, "mobility", ["commerce", "siret", "stock"]) == []


def test_keywords_come_from_the_tenant_settings(app, tenant, enable_plugin, in_tenant,
                                                session, users):
    enable_plugin(tenant, "adie", business_keywords=["food truck"])
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Ali", "Ben", date(1990, 1, 1)))
        case = cases.open_case(session, person, "mobility", "2500", actor=users["secretary"],
                               project="Un Food-Truck pour les marchés")
        [[suggestion]] = hooks().ccas_suggest_alternatives(case=case)
        case.project = "Une entreprise de nettoyage"
        assert hooks().ccas_suggest_alternatives(case=case) == []
    assert suggestion.blocking and suggestion.code == "projet_professionnel"
    assert "« food truck »" in suggestion.why
    assert "12\u202f000,00\u00a0€" in suggestion.action  # French figures, never "12000"


def test_a_business_project_blocks_instruction_until_overridden(app, tenant, enable_plugin,
                                                                in_tenant, session, users):
    enable_plugin(tenant, "adie")
    worker = users["social_worker"]
    start = workflow.find(State.evaluation, State.instruction)
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Ali", "Ben", date(1990, 1, 1)))
        case = cases.open_case(session, person, "mobility", "2500", actor=users["secretary"],
                               project="Camionnette pour mon commerce ambulant")
        case.state = State.evaluation
        veto = suggestions.ccas_case_before_transition(case, start, session)
        assert "Projet professionnel : microcrédit de l'ADIE" in veto
        [row] = suggestions.for_case(session, case)
        suggestions.override(session, case, row, "Camionnette pour un emploi salarié.", worker)
        assert suggestions.ccas_case_before_transition(case, start, session) is None


def _destinations_of(plugin):
    answers = hooks().ccas_reorientation_destinations.answers()
    return [d for name, found in answers.results if name == plugin for d in found]


def test_settings_refuse_an_empty_keyword(app, tenant, in_tenant, session):
    with in_tenant(tenant), pytest.raises(plugins.PluginError):
        plugins.update_settings(session, "adie", {"business_keywords": [""]})


def test_adie_is_a_destination_and_its_mobility_referrals_are_reported(
        app, tenant, enable_plugin, in_tenant, session):
    enable_plugin(tenant, "adie")
    year = cases.local_today(tenant).year
    with in_tenant(tenant):
        [scheme] = _destinations_of("adie")
        adie = accounts.create_organisation(session, "ADIE Occitanie", "association",
                                            plugin_name="adie")
        [organisation] = _destinations_of("adie")
        ccas = session.scalar(select(Organisation).where(Organisation.kind == "ccas"))
        for purpose in ("mobility", "mobility", "housing"):
            session.add(Referral(from_organisation_id=adie.id, to_organisation_id=ccas.id,
                                 first_name="A", last_name="B", purpose=purpose, consent=True))
        session.commit()
        [section] = hooks().ccas_report_sections(tenant=tenant, year=year, session=session)
    assert (scheme.code, scheme.organisation_name) == ("adie", "ADIE")
    assert organisation.code == f"org:{adie.id}"
    assert section.data["referrals_in"] == 3 and section.data["mobility_referrals_in"] == 2
    assert section.data["referrals_in_by_purpose"] == {"housing": 1, "mobility": 2}
