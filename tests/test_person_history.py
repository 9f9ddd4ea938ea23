"""One person across their requests: every case, referral, loan decision and appointment
on the person page, newest first, for the CCAS team only."""

from __future__ import annotations

from datetime import date

import pytest

from core import cases
from core.cases import person_history
from core.models import CaseTransition, Person


@pytest.fixture
def person_with_two_requests(app, tenant, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Léa", "Martin",
                                                               date(1990, 4, 2)))
        first = cases.open_case(session, person, "mobility", "1500", tenant=tenant,
                                intake_date=date(2024, 3, 1))
        second = cases.open_case(session, person, "housing", "800", tenant=tenant)
        session.add(CaseTransition(case_id=first.id, from_state="submitted_to_lender",
                                   to_state="granted",
                                   data={"amount_granted": "1500.00", "months": 24}))
        session.commit()
        return person, first, second


def test_history_lists_every_request_and_the_loan(person_with_two_requests, session,
                                                  tenant, in_tenant):
    person, first, second = person_with_two_requests
    with in_tenant(tenant):
        events = person_history.history(session, session.get(Person, (tenant.id, person.id)))
    titles = [e.title for e in events]
    assert f"Demande {first.reference}" in titles and f"Demande {second.reference}" in titles
    loan = next(e for e in events if e.kind == "loan")
    assert loan.title == f"Prêt accordé ({first.reference})"
    assert "sur 24 mois" in loan.detail
    assert events[-1].title == f"Demande {first.reference}"  # the oldest last


def test_person_page_for_staff_and_404_for_others(client, login, users,
                                                  person_with_two_requests, other_tenant,
                                                  make_user):
    person, first, second = person_with_two_requests
    login(client, users["secretary"])
    page = client.get(f"/t/alpha/persons/{person.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<h1") == 1
    assert first.reference in html and second.reference in html and "Parcours" in html
    case_page = client.get(f"/t/alpha/cases/{first.id}").get_data(as_text=True)
    assert f"/t/alpha/persons/{person.id}" in case_page
    login(client, users["lender_agent"])
    assert client.get(f"/t/alpha/persons/{person.id}").status_code == 403
    login(client, make_user(other_tenant, "secretary"))
    assert client.get(f"/t/beta/persons/{person.id}").status_code == 404
