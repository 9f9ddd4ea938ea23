"""The evaluation enforced before the lender: an interview held and a budget, named when
missing; documents a purpose needs; the instalment compared with the budget."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core import cases, workflow
from core.features import evaluation
from core.features.documents import required_documents
from core.models import Case, State
from core.workflow import TransitionError, TransitionRequest


@pytest.fixture
def instructing(app, tenant, users, session, in_tenant):
    """A case in instruction with no interview and no budget yet."""
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Léa", "Martin",
                                                               date(1995, 4, 2)))
        case = cases.open_case(session, person, "mobility", "1500", tenant=tenant)
        for target in (State.documents_requested, State.evaluation, State.instruction):
            workflow.apply_transition(session, case, TransitionRequest(target, case.version),
                                      users["manager"])
        session.commit()
        return case


def submit(session, case, actor):
    return workflow.apply_transition(
        session, case, TransitionRequest(State.submitted_to_lender, case.version), actor)


def test_submission_without_interview_nor_budget_is_refused_naming_both(
        instructing, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, instructing.id))
        with pytest.raises(TransitionError) as err:
            submit(session, case, users["social_worker"])
        session.rollback()
    message = err.value.message
    assert "Transmission au prêteur impossible" in message
    assert "un entretien d'évaluation tenu, avec sa date" in message
    assert "le budget du foyer" in message


def test_submission_with_an_interview_but_no_budget_names_the_budget_only(
        instructing, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, instructing.id))
        cases.add_interview(session, case, users["social_worker"], "2026-11-02", 45, "Vu.")
        with pytest.raises(TransitionError) as err:
            submit(session, case, users["social_worker"])
        session.rollback()
    assert "budget du foyer" in err.value.message and "entretien" not in err.value.message


def test_submission_with_interview_and_budget_goes_to_the_lender(
        instructing, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, instructing.id))
        cases.add_interview(session, case, users["social_worker"], "2026-11-02", 45, "Vu.")
        cases.save_budget(session, case, users["social_worker"], {"salary": "1300"})
        submit(session, case, users["social_worker"])
        session.commit()
        assert case.state == State.submitted_to_lender


def test_the_tenant_may_ask_for_more_interviews(instructing, session, tenant, in_tenant,
                                                users):
    with in_tenant(tenant):
        tenant.settings = {**(tenant.settings or {}), "evaluation": {"min_interviews": 2}}
        case = session.get(Case, (tenant.id, instructing.id))
        cases.add_interview(session, case, users["social_worker"], "2026-11-02", 45, "Vu.")
        cases.save_budget(session, case, users["social_worker"], {"salary": "1300"})
        with pytest.raises(TransitionError) as err:
            submit(session, case, users["social_worker"])
        session.rollback()
    assert "2 entretiens d'évaluation tenus" in err.value.message
    assert "(1 enregistré)" in err.value.message


def test_the_refusal_is_shown_on_the_case_page(client, login, users, instructing):
    login(client, users["social_worker"])
    response = client.post(f"/t/alpha/cases/{instructing.id}/transition", data={
        "to": "submitted_to_lender", "version": instructing.version})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "un entretien d&#39;évaluation tenu" in body and "budget du foyer" in body


def test_a_housing_project_asks_for_the_lease(app, tenant, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Paul", "Loge"))
        case = cases.open_case(session, person, "housing", "900", tenant=tenant)
        codes = [r.code for r in required_documents(tenant, case)]
    assert "lease" in codes and codes.index("lease") > codes.index("identity")


def test_affordability_compares_the_instalment_with_the_budget(
        instructing, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, instructing.id))
        assert evaluation.affordability(session, case, tenant, "100").bearable is None
        cases.save_budget(session, case, users["social_worker"],
                          {"salary": "1300", "rent": "500", "energy": "80"})
        bearable = cases.budget_figures(session, case, tenant).max_instalment
        under = evaluation.affordability(session, case, tenant, bearable)
        over = evaluation.affordability(session, case, tenant, bearable + Decimal("0.01"))
    assert not under.over and over.over and over.excess == Decimal("0.01")
