"""At the lender's decision, an instalment above what the budget allows is flagged and
needs a written justification, recorded in the case's history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import cases
from core.models import CaseTransition
from core.plugin_api import Case, State, TransitionError, TransitionRequest, apply_transition
from plugins.credit_municipal import loans as service

from .loan_helpers import fresh, open_case_at

BASE = "/t/alpha/p/credit_municipal"
TERMS = {"action": "grant", "amount_granted": "3000", "months": "36", "annual_rate": "3.04",
         "method": "annuity"}


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


def tight_budget_case(session, tenant, in_tenant, users):
    """A submitted case whose budget leaves little each month."""
    case = open_case_at(session, tenant, in_tenant, State.instruction)
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        cases.save_budget(session, case, users["social_worker"],
                          {"salary": "1000", "rent": "750", "energy": "120"})
        case.state = State.submitted_to_lender
        session.commit()
        return case


def test_decision_form_shows_the_bearable_payment(client, login, session, tenant,
                                                  in_tenant, users):
    case = tight_budget_case(session, tenant, in_tenant, users)
    login(client, users["lender_agent"])
    page = client.get(f"{BASE}/loans/decision/{case.id}").get_data(as_text=True)
    assert "Mensualité supportable d'après le budget</dt><dd>0,00" in page
    assert 'for="affordability_justification"' in page


def test_an_instalment_above_the_budget_needs_a_written_justification(
        client, login, session, tenant, in_tenant, users):
    case = tight_budget_case(session, tenant, in_tenant, users)
    login(client, users["lender_agent"])
    response = client.post(f"{BASE}/loans/decision/{case.id}",
                           data={**TERMS, "version": case.version})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "dépasse la mensualité supportable" in body
    assert 'id="affordability_justification-erreur"' in body
    assert fresh(session, tenant, in_tenant, Case, case.id).state == State.submitted_to_lender

    response = client.post(f"{BASE}/loans/decision/{case.id}", data={
        **TERMS, "version": case.version,
        "affordability_justification": "Prime annuelle de 600 € en mars, aide CAF à venir."})
    assert response.status_code == 302
    assert fresh(session, tenant, in_tenant, Case, case.id).state == State.granted
    with in_tenant(tenant):
        move = session.scalar(select(CaseTransition).where(
            CaseTransition.case_id == case.id, CaseTransition.to_state == "granted"))
    assert "au-dessus de la mensualité supportable" in move.reason_text
    assert "Prime annuelle" in move.data["affordability_justification"]
    assert float(move.data["instalment"]) > float(move.data["bearable_instalment"])
    login(client, users["social_worker"])
    page = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert "Prime annuelle de 600" in page


def test_the_veto_holds_for_a_grant_that_skips_the_form(session, tenant, in_tenant, users):
    case = tight_budget_case(session, tenant, in_tenant, users)
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        terms = service.parse_terms(TERMS, service.settings())
        with pytest.raises(TransitionError) as err:
            apply_transition(session, case, TransitionRequest(
                State.granted, case.version, data=terms.as_data()), users["lender_agent"])
        session.rollback()
    assert "justifiez la décision par écrit" in err.value.message


def test_an_affordable_instalment_needs_no_justification(session, tenant, in_tenant, users):
    case = open_case_at(session, tenant, in_tenant, State.instruction)
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        cases.save_budget(session, case, users["social_worker"], {"salary": "2500",
                                                                   "rent": "600"})
        case.state = State.submitted_to_lender
        loan = service.grant(session, case, TERMS, users["lender_agent"])
        session.commit()
        move = session.scalar(select(CaseTransition).where(
            CaseTransition.case_id == case.id, CaseTransition.to_state == "granted"))
    assert loan is not None and "instalment" not in move.data and move.reason_text == ""
