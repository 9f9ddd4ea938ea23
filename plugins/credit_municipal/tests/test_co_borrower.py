"""A co-borrower: named on the offer and the contract, and checked in the FICP register
before the loan may be granted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.cases import household
from core.plugin_api import Case, State
from plugins.credit_municipal import documents
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.ficp_models import CoBorrowerFicpCheck

from .loan_helpers import fresh, open_case_at
from .test_documents import data, text_of

BASE = "/t/alpha/p/credit_municipal"
TERMS = {"action": "grant", "amount_granted": "1500", "months": "24", "annual_rate": "3.04",
         "method": "annuity"}


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


@pytest.fixture
def couple_case(session, tenant, in_tenant, users):
    case = open_case_at(session, tenant, in_tenant, State.instruction, amount="1500")
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        ali = household.add_member(session, case.person, {
            "first_name": "Ali", "last_name": "Benali", "relationship": "partner",
            "birth_date": "1986-01-20"}, users["social_worker"], tenant)
        household.set_co_borrower(session, case, ali.id, users["social_worker"], tenant)
        case.state = State.submitted_to_lender
        session.commit()
        return case


def test_both_borrowers_are_named_on_the_offer_and_the_contract():
    offer = text_of(documents.offer_pdf(data(co_borrower_name="Ali Benali")))
    contract = text_of(documents.accompaniment_contract_pdf(data(co_borrower_name="Ali Benali")))
    assert "Co-emprunteur : Ali Benali" in offer and "Le co-emprunteur" in offer
    assert "Léa Martin et Ali Benali (co-emprunteur), bénéficiaires" in contract.replace(
        "\n", " ")


def test_the_loan_waits_for_the_co_borrowers_ficp_check(client, login, session, tenant,
                                                        in_tenant, users, couple_case):
    login(client, users["lender_agent"])
    page = client.get(f"{BASE}/loans/decision/{couple_case.id}").get_data(as_text=True)
    assert "Co-emprunteur : Ali Benali" in page and "à faire avant d'accorder le prêt" in page
    refused = client.post(f"{BASE}/loans/decision/{couple_case.id}",
                          data={**TERMS, "version": couple_case.version})
    assert refused.status_code == 422
    assert "Consultez le FICP pour le co-emprunteur (Ali Benali)" in refused.get_data(
        as_text=True)

    recorded = client.post(f"{BASE}/loans/decision/{couple_case.id}", data={
        "action": "co_ficp", "co_result": "clear", "co_checked_on": "2026-11-16",
        "version": couple_case.version})
    assert recorded.status_code == 302
    with in_tenant(tenant):
        assert session.scalar(select(CoBorrowerFicpCheck)).result == "clear"
    granted = client.post(f"{BASE}/loans/decision/{couple_case.id}",
                          data={**TERMS, "version": couple_case.version})
    assert granted.status_code == 302
    assert fresh(session, tenant, in_tenant, Case, couple_case.id).state == State.granted
    with in_tenant(tenant):
        loan = service.loan_of(session, session.get(Case, (tenant.id, couple_case.id)))
    contract = client.get(f"{BASE}/loans/{loan.id}/contrat-accompagnement.pdf")
    assert contract.status_code == 200
    assert "Ali Benali" in text_of(contract.data)


def test_a_registered_co_borrower_blocks_the_grant(session, tenant, in_tenant, users,
                                                   couple_case):
    from plugins.credit_municipal import ficp

    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, couple_case.id))
        ficp.record_co_borrower_result(session, case, "registered",
                                       service.today(), users["lender_agent"])
        assert "inscrit au FICP" in ficp.co_borrower_problem(session, case)
