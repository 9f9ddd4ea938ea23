"""Other aids first: suggestions from plugins, their resolution, and the veto on instruction."""

from __future__ import annotations

import html
import types
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core import cases, plugins, workflow
from core.db import db
from core.errors import UserError
from core.features import suggestions
from core.models import CaseSuggestion, State, SuggestionStatus
from core.plugin_api import PluginInfo, Suggestion, hookimpl
from core.plugins.helpers import suggestions_resolved
from core.workflow import TransitionError, TransitionRequest
from core.workflow.definitions import merge

START_INSTRUCTION = merge([]).find(State.evaluation, State.instruction)


def _probe(name, suggest):
    module = types.ModuleType(name)
    module.ccas_plugin_info = hookimpl(
        lambda: PluginInfo(name=name, label=name.upper(), version="1"))
    module.ccas_suggest_alternatives = hookimpl(suggest)
    return module


@pytest.fixture
def with_plugin(app, tenant, enable_plugin):
    registered = []

    def add(module, for_tenant=None):
        plugins.registry().register(module, module.__name__)
        enable_plugin(for_tenant or tenant, module.__name__)
        registered.append(module.__name__)

    yield add
    for name in registered:
        plugins.registry().unregister(name)


def open_in_evaluation(session, in_tenant, tenant, actor, purpose="household_equipment",
                       project="Achat d'un lave-linge", amount="800", children=(4, 9)):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1990, 4, 2), children_ages=list(children)))
        case = cases.open_case(session, person, purpose, amount, actor=actor, project=project)
        case.state = State.evaluation
        session.commit()
    return case


@pytest.fixture
def case(session, in_tenant, tenant, users):
    return open_in_evaluation(session, in_tenant, tenant, users["secretary"])


def helper_suggestion(case):
    return [Suggestion("fsl", "Fonds de solidarité logement", why="Logement",
                       action="Demander au département")]


def check(case, actor):
    """The core's veto of evaluation → instruction (its ``ccas_case_before_transition``)."""
    return suggestions.ccas_case_before_transition(case, START_INSTRUCTION, db.session)


def stored(session, case):
    return suggestions.for_case(session, case)


def test_entering_evaluation_stores_the_enabled_plugins_suggestions(
        case, session, users, in_tenant, tenant, with_plugin):
    with_plugin(_probe("helper", helper_suggestion))
    assert plugins.registry().pm.get_plugin("core.features.suggestions") is suggestions
    with in_tenant(tenant):
        transition = workflow.find(State.documents_requested, State.evaluation)
        suggestions.ccas_case_after_transition(case, transition, users["social_worker"],
                                               session)
        session.commit()
        rows = stored(session, case)
    assert [(r.plugin, r.code, r.status) for r in rows] == [
        ("helper", "fsl", SuggestionStatus.open)]
    assert rows[0].why == "Logement" and rows[0].action == "Demander au département"


def test_an_unresolved_suggestion_vetoes_instruction_naming_it(
        case, session, users, in_tenant, tenant, with_plugin):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        with pytest.raises(TransitionError) as err:
            workflow.apply_transition(
                session, case, TransitionRequest(State.instruction, case.version),
                users["social_worker"])
        session.rollback()
        assert session.get(type(case), (case.tenant_id, case.id)).state == State.evaluation
    assert "Autres aides d'abord" in err.value.message
    assert "« Fonds de solidarité logement » (HELPER)" in err.value.message


def test_a_resolved_suggestion_no_longer_vetoes(case, session, users, in_tenant, tenant,
                                                with_plugin):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        row = stored(session, case)[0]
        suggestions.resolve(session, case, row, "requested", "", users["social_worker"])
        session.commit()
        assert check(case, users["social_worker"]) is None
        assert row.resolved_by_id == users["social_worker"].id and row.resolved_at


def test_not_applicable_requires_a_reason(case, session, users, in_tenant, tenant,
                                          with_plugin):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        row = stored(session, case)[0]
        with pytest.raises(UserError) as err:
            suggestions.resolve(session, case, row, "not_applicable", "  ", users["manager"])
        assert err.value.field == "reason" and err.value.status == 422
        suggestions.resolve(session, case, row, "not_applicable",
                            "Pas de logement social en vue.", users["manager"])
        assert row.status == SuggestionStatus.not_applicable


def test_only_the_social_worker_and_manager_resolve_and_only_during_evaluation(
        case, session, users, in_tenant, tenant, with_plugin):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        row = stored(session, case)[0]
        with pytest.raises(UserError) as err:
            suggestions.resolve(session, case, row, "mobilised", "", users["secretary"])
        assert err.value.status == 403
        with pytest.raises(UserError, match="Choisissez"):
            suggestions.resolve(session, case, row, "open", "", users["social_worker"])
        case.state = State.instruction
        with pytest.raises(UserError, match="pendant l'évaluation"):
            suggestions.resolve(session, case, row, "mobilised", "", users["social_worker"])


def business(case):
    return [Suggestion("pro", "Projet professionnel", why="Entreprise", blocking=True)]


def test_a_blocking_suggestion_vetoes_until_overridden_with_a_reason(
        case, session, users, in_tenant, tenant, with_plugin):
    with_plugin(_probe("pro", business))
    worker = users["social_worker"]
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        row = stored(session, case)[0]
        suggestions.resolve(session, case, row, "requested", "", worker)
        message = check(case, worker)
        assert "« Projet professionnel » (PRO) bloque l'instruction" in message
        assert "passez outre en indiquant un motif" in message
        with pytest.raises(UserError) as err:
            suggestions.override(session, case, row, "", worker)
        assert err.value.field == "override_reason"
        suggestions.override(session, case, row, "Voiture pour un emploi salarié.", worker)
        session.commit()
        assert check(case, worker) is None
        assert row.overridden_by_id == worker.id
        assert row.override_reason == "Voiture pour un emploi salarié."


def test_an_open_blocking_suggestion_overridden_becomes_not_applicable(
        case, session, users, in_tenant, tenant, with_plugin):
    with_plugin(_probe("pro", business))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        row = stored(session, case)[0]
        suggestions.override(session, case, row, "Projet personnel.", users["manager"])
        assert row.status == SuggestionStatus.not_applicable and row.reason == "Projet personnel."


def test_only_a_blocking_suggestion_can_be_overridden(case, session, users, in_tenant,
                                                      tenant, with_plugin):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        with pytest.raises(UserError, match="bloquante"):
            suggestions.override(session, case, stored(session, case)[0], "Raison longue.",
                                 users["manager"])


def test_refresh_keeps_resolutions_and_drops_open_suggestions_no_longer_made(
        case, session, users, in_tenant, tenant, with_plugin):
    answer = {"codes": ["a", "b"]}
    with_plugin(_probe("flex", lambda case: [
        Suggestion(c, f"Aide {c}", why="x") for c in answer["codes"]]))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        a = next(r for r in stored(session, case) if r.code == "a")
        suggestions.resolve(session, case, a, "mobilised", "", users["social_worker"])
        answer["codes"] = ["c"]
        suggestions.refresh(session, case)
        session.commit()
        rows = {r.code: r.status for r in stored(session, case)}
    assert rows == {"a": SuggestionStatus.mobilised, "c": SuggestionStatus.open}


def test_suggestions_of_a_disabled_plugin_stop_vetoing(case, session, users, in_tenant,
                                                       tenant, with_plugin):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        session.commit()
        plugins.set_enabled(session, "helper", False)
        session.commit()
        plugins.forget_enabled_cache()
        assert check(case, users["social_worker"]) is None
        assert stored(session, case) == []


def test_a_raising_plugin_vetoes_instruction_naming_it(case, session, users, in_tenant,
                                                       tenant, with_plugin, caplog):
    def boom(case):
        raise RuntimeError("kaput")

    with_plugin(_probe("crashy", boom))
    with in_tenant(tenant):
        message = check(case, users["social_worker"])
    assert "Suggestions de l'extension CRASHY indisponibles" in message
    assert "plugin crashy failed in ccas_suggest_alternatives" in caplog.text


def test_the_check_only_guards_evaluation_to_instruction(case, users, in_tenant, tenant,
                                                         with_plugin, session):
    with_plugin(_probe("helper", helper_suggestion))
    other = workflow.find(State.instruction, State.submitted_to_lender)
    with in_tenant(tenant):
        assert suggestions.ccas_case_before_transition(case, other, session) is None


# -- per-tenant behaviour with the shipped plugins ----------------------------------------


def test_tenants_with_and_without_caf_and_adie_get_different_suggestions_and_vetoes(
        session, users, in_tenant, tenant, make_tenant, make_user, enable_plugin):
    beta = make_tenant("beta")
    worker_b = make_user(beta, "social_worker")
    enable_plugin(tenant, "caf")
    enable_plugin(tenant, "adie")
    data = dict(purpose="household_equipment", amount="900", children=(3,),
                project="Équipement pour mon auto-entreprise de couture")
    case_a = open_in_evaluation(session, in_tenant, tenant, users["secretary"], **data)
    case_b = open_in_evaluation(session, in_tenant, beta, worker_b, **data)

    with in_tenant(tenant):
        suggestions.refresh(session, case_a)
        session.commit()
        codes_a = {(r.plugin, r.code, r.blocking) for r in stored(session, case_a)}
        veto_a = check(case_a, users["social_worker"])
    with in_tenant(beta):
        suggestions.refresh(session, case_b)
        session.commit()
        codes_b = stored(session, case_b)
        veto_b = check(case_b, worker_b)

    assert codes_a == {("caf", "pret_equipement_menager", False),
                       ("adie", "projet_professionnel", True)}
    assert "Prêt d'équipement ménager de la CAF" in veto_a
    assert "bloque l'instruction" in veto_a
    assert codes_b == [] and veto_b is None


# -- figures --------------------------------------------------------------------------------


def test_mobilised_suggestions_are_counted_by_year_of_resolution(
        case, session, users, in_tenant, tenant, with_plugin):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        row = stored(session, case)[0]
        suggestions.resolve(session, case, row, "mobilised", "", users["social_worker"],
                            at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC))  # 2026 in Paris
        session.commit()
        assert suggestions_resolved(session, tenant, 2026, "helper") == {"fsl": 1}
        assert suggestions_resolved(session, tenant, 2025, "helper") == {}


# -- pages ------------------------------------------------------------------------------------


def _url(tenant, case, tail=""):
    return f"/t/{tenant.slug}/cases/{case.id}/suggestions/{tail}"


def test_the_social_worker_resolves_a_suggestion_from_the_page(
        case, session, users, in_tenant, tenant, with_plugin, client, login):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        session.commit()
        row = stored(session, case)[0]
    login(client, users["social_worker"])
    page = client.get(_url(tenant, case))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Fonds de solidarité logement" in html and html.count("<h1") == 1
    assert f'for="reason-{row.id}"' in html
    response = client.post(_url(tenant, case, f"{row.id}/resolve"),
                           data={"status": "mobilised", "reason": "Accordé le 3/2."})
    assert response.status_code == 302
    session.expire_all()
    with in_tenant(tenant):
        assert session.get(CaseSuggestion, (tenant.id, row.id)).status == "mobilised"


def test_the_page_shows_a_missing_reason_accessibly(case, session, users, in_tenant, tenant,
                                                    with_plugin, client, login):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        session.commit()
        row = stored(session, case)[0]
    login(client, users["manager"])
    response = client.post(_url(tenant, case, f"{row.id}/resolve"),
                           data={"status": "not_applicable", "reason": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in html and f'href="#reason-{row.id}"' in html
    assert 'aria-invalid="true"' in html and f'aria-describedby="reason-{row.id}-erreur"' in html


def test_the_secretary_may_not_resolve_and_another_tenant_sees_nothing(
        case, session, users, in_tenant, tenant, with_plugin, client, login, make_tenant,
        make_user):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        session.commit()
        row = stored(session, case)[0]
    login(client, users["secretary"])
    assert client.post(_url(tenant, case, f"{row.id}/resolve"),
                       data={"status": "mobilised"}).status_code == 403
    beta = make_tenant("beta")
    other_client = client.application.test_client()
    login(other_client, make_user(beta, "social_worker"))
    assert other_client.get(_url(beta, case)).status_code == 404
    with in_tenant(tenant):
        assert session.scalar(select(CaseSuggestion.status)) == SuggestionStatus.open


def test_the_case_page_shows_the_block_to_the_social_worker_not_the_secretary(
        case, session, in_tenant, tenant, users, with_plugin, client, login, app):
    with_plugin(_probe("helper", helper_suggestion))
    with in_tenant(tenant):
        suggestions.refresh(session, case)
        session.commit()
    login(client, users["social_worker"])
    html = client.get(f"/t/{tenant.slug}/cases/{case.id}").get_data(as_text=True)
    assert "Autres aides d'abord" in html and "Fonds de solidarité logement" in html
    secretary = app.test_client()
    login(secretary, users["secretary"])
    page = secretary.get(f"/t/{tenant.slug}/cases/{case.id}")
    assert page.status_code == 200
    assert "Fonds de solidarité logement" not in page.get_data(as_text=True)


def test_an_aid_suggested_only_at_the_move_is_kept_and_shown_though_the_move_is_refused(
        case, session, in_tenant, tenant, users, with_plugin, client, login):
    """The budget entered after the case reached evaluation makes a plugin suggest an aid
    it did not suggest then: the refused move names it, and the page that says so shows
    it to be handled (the check's refresh is not rolled back with the move)."""
    with_plugin(_probe("helper", helper_suggestion))
    login(client, users["social_worker"])
    with in_tenant(tenant):
        assert stored(session, case) == []  # nothing stored when it entered evaluation
        version = case.version
    response = client.post(f"/t/{tenant.slug}/cases/{case.id}/transition",
                           data={"to": "instruction", "version": version})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Autres aides d'abord : traitez ces suggestions" in page
    assert 'for="reason-' in page and "Fonds de solidarité logement" in page
    session.expire_all()
    with in_tenant(tenant):
        [row] = stored(session, case)
        assert row.status == SuggestionStatus.open and case.state == State.evaluation
