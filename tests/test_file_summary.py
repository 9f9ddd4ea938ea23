"""The instruction file summary: what the lender needs, never the private notes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core import cases, workflow
from core.cases import file_summary
from core.models import State
from core.workflow import TransitionRequest


@pytest.fixture
def instructed(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1995, 4, 2), phone="0600000000", address="1 rue Haute",
            postal_code="31000", city="Toulouse", adults=1, children_ages=[5],
            employment="cdd"))
        case = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"],
                               project="Voiture d'occasion", tenant=tenant)
        for target in (State.documents_requested, State.evaluation):
            workflow.apply_transition(session, case, TransitionRequest(target, case.version),
                                      users["manager"])
        cases.add_interview(session, case, users["social_worker"], "2026-01-05", 50,
                            "Projet cohérent, CDD renouvelé.", "Tensions familiales.")
        cases.save_budget(session, case, users["social_worker"],
                          {"salary": "1300", "rent": "500", "energy": "80"})
        workflow.apply_transition(session, case, TransitionRequest(State.instruction,
                                                                   case.version),
                                  users["social_worker"])
        session.commit()
        yield case


def test_summary_has_identity_request_budget_and_shared_notes(instructed, session, tenant,
                                                              in_tenant):
    with in_tenant(tenant):
        s = file_summary.build(session, instructed, tenant)
    assert (s.last_name, s.first_name, s.birth_date) == ("Martin", "Léa", date(1995, 4, 2))
    assert s.address_lines == ["1 rue Haute", "31000 Toulouse"]
    assert s.purpose == "Mobilité" and s.amount_requested == Decimal("1500.00")
    assert s.employment == "CDD"
    assert [i.shared_note for i in s.interviews] == ["Projet cohérent, CDD renouvelé."]
    assert s.figures.remaining == Decimal("720.00")
    assert s.figures.consumption_units == Decimal("1.3")
    assert ("Salaires et revenus d'activité", Decimal("1300.00")) in s.resources


def test_summary_never_carries_a_private_note(instructed, session, tenant, in_tenant):
    with in_tenant(tenant):
        s = file_summary.build(session, instructed, tenant)
    assert "Tensions" not in repr(s)
    assert not hasattr(s.interviews[0], "private_note")


def test_pdf_is_a_pdf_without_the_private_note(instructed, session, tenant, in_tenant):
    with in_tenant(tenant):
        s = file_summary.build(session, instructed, tenant)
    pdf = file_summary.render_pdf(s)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    assert b"Tensions" not in pdf


def test_pdf_survives_characters_outside_latin1(instructed, session, tenant, in_tenant):
    with in_tenant(tenant):
        s = file_summary.build(session, instructed, tenant)
    s.project = "Cœur d’activité – 1 000 € ✓"
    assert file_summary.render_pdf(s).startswith(b"%PDF")


def test_summary_page_is_404_before_instruction(client, users, login, session, tenant,
                                                in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Al", "Tôt"))
        case = cases.open_case(session, person, "health", "300", tenant=tenant)
        session.commit()
    login(client, users["social_worker"])
    assert client.get(f"/t/alpha/cases/{case.id}/summary").status_code == 404
    assert client.get(f"/t/alpha/cases/{case.id}/summary.pdf").status_code == 404


def test_lender_gets_the_summary_only_once_submitted(client, users, login, instructed,
                                                     session, tenant, in_tenant):
    login(client, users["lender_agent"])
    assert client.get(f"/t/alpha/cases/{instructed.id}/summary").status_code == 404
    with in_tenant(tenant):
        workflow.apply_transition(session, instructed,
                                  TransitionRequest(State.submitted_to_lender,
                                                    instructed.version), users["manager"])
        session.commit()
    page = client.get(f"/t/alpha/cases/{instructed.id}/summary")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Projet cohérent" in html and "Tensions" not in html
