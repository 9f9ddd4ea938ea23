"""core.web.documents: the checklist on the case page, marking, letter, PDF, e-mail, roles."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core import cases, workflow
from core.features import documents
from core.models import Case, CaseDocument, DocumentStatus, OutboxMessage
from core.workflow import TransitionRequest


@pytest.fixture
def case(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1995, 4, 2), email="lea@example.org",
            address="3 rue des Lilas", postal_code="31000", city="Toulouse"))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"])
        for target in ("documents_requested",):
            workflow.apply_transition(session, c, TransitionRequest(target, c.version),
                                      users["secretary"])
        session.commit()
        return c


def url(case, suffix=""):
    return f"/t/alpha/cases/{case.id}/documents{suffix}"


def checklist(session, tenant, in_tenant, case) -> list[CaseDocument]:
    """The case's checklist as the database has it now (after requests changed it)."""
    case_id = case.id
    session.expire_all()
    with in_tenant(tenant):
        return list(session.scalars(
            select(CaseDocument).where(CaseDocument.case_id == case_id)
            .order_by(CaseDocument.position)))


def first_doc(session, tenant, in_tenant, case) -> CaseDocument:
    return checklist(session, tenant, in_tenant, case)[0]


def test_case_page_shows_the_checklist_to_the_secretary(client, login, users, case):
    login(client, users["secretary"])
    html = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert "Pièces à fournir" in html
    assert "Justificatif de domicile de moins de 3 mois" in html
    assert f'action="{url(case, "/email")}"' in html


def test_checklist_page_lists_every_document_with_a_labelled_status(client, login, users,
                                                                    case):
    login(client, users["secretary"])
    r = client.get(url(case, "/"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.count("<h1") == 1
    assert "<caption>" in html
    assert html.count('name="status"') == 7
    assert 'class="visually-hidden">État de la pièce' in html


def test_secretary_marks_a_document_received(client, login, users, case, session, tenant,
                                             in_tenant):
    doc = first_doc(session, tenant, in_tenant, case)
    login(client, users["secretary"])
    r = client.post(url(case, f"/{doc.id}"),
                    data={"status": "received", "note": "original vu",
                          "next": f"/t/alpha/cases/{case.id}"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/cases/{case.id}")
    doc = first_doc(session, tenant, in_tenant, case)
    assert doc.status == DocumentStatus.received and doc.note == "original vu"
    assert doc.updated_by_id == users["secretary"].id


def test_unknown_status_shows_the_error_on_the_field(client, login, users, case, session,
                                                     tenant, in_tenant):
    doc = first_doc(session, tenant, in_tenant, case)
    login(client, users["social_worker"])
    r = client.post(url(case, f"/{doc.id}"), data={"status": "lost"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'class="error-summary"' in html and "Statut de pièce inconnu" in html
    assert f'aria-describedby="doc-status-{doc.id}-erreur"' in html
    assert first_doc(session, tenant, in_tenant, case).status == DocumentStatus.requested


def test_extra_document_is_added_and_an_empty_label_is_refused(client, login, users, case,
                                                               session, tenant, in_tenant):
    login(client, users["manager"])
    r = client.post(url(case, "/add"), data={"label": ""})
    assert r.status_code == 422 and 'id="doc-label-erreur"' in r.get_data(as_text=True)
    r = client.post(url(case, "/add"), data={"label": "Attestation CAF"})
    assert r.status_code == 302
    assert "Attestation CAF" in [d.label for d in checklist(session, tenant, in_tenant, case)]


def test_letter_page_is_printable_and_lists_what_is_missing(client, login, users, case,
                                                           session, tenant, in_tenant):
    doc = first_doc(session, tenant, in_tenant, case)
    with in_tenant(tenant):
        documents.mark(session, doc, "received", users["secretary"])
        session.commit()
    login(client, users["secretary"])
    r = client.get(url(case, "/letter"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.count("<h1") == 1
    assert 'class="letter"' in html and 'class="no-print"' in html
    assert "Devis ou facture du projet" in html
    assert "identité en cours de validité" not in html
    assert "31000 Toulouse" in html and case.reference in html
    assert "style=" not in html and "<script" not in html


def test_letter_pdf_is_served_as_pdf(client, login, users, case):
    login(client, users["social_worker"])
    r = client.get(url(case, "/letter.pdf"))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF-")
    assert f"pieces-{case.reference}.pdf" in r.headers["Content-Disposition"]


def test_email_button_enqueues_the_list_in_the_outbox(client, login, users, case, session,
                                                      tenant, in_tenant):
    login(client, users["secretary"])
    r = client.post(url(case, "/email"), data={})
    assert r.status_code == 302
    with in_tenant(tenant):
        message = session.scalar(select(OutboxMessage))
    assert message.recipient == "lea@example.org"
    assert "- Relevé d'identité bancaire (RIB)" in message.payload["text"]
    follow = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "envoyée par e-mail à lea@example.org" in follow


@pytest.mark.parametrize("role", ["lender_agent", "referrer", "funder"])
def test_partners_see_no_documents(client, login, users, case, role, session, tenant,
                                   in_tenant):
    doc = first_doc(session, tenant, in_tenant, case)
    login(client, users[role])
    for path in ("/", "/letter", "/letter.pdf"):
        assert client.get(url(case, path)).status_code == 403
    assert client.post(url(case, f"/{doc.id}"), data={"status": "received"}).status_code == 403
    assert client.post(url(case, "/email")).status_code == 403


def test_lender_case_page_has_no_checklist(client, login, users, case):
    login(client, users["lender_agent"])
    r = client.get(f"/t/alpha/cases/{case.id}")
    assert "Pièces à fournir" not in r.get_data(as_text=True)


def test_another_tenants_case_is_not_found(client, login, case, other_tenant, make_user):
    intruder = make_user(other_tenant, "secretary")
    login(client, intruder)
    assert client.get(f"/t/beta/cases/{case.id}/documents/").status_code == 404
    assert client.get(f"/t/beta/cases/{case.id}/documents/letter.pdf").status_code == 404
    assert client.post(f"/t/beta/cases/{case.id}/documents/email").status_code == 404


def test_secretary_dashboard_lists_cases_missing_documents(client, login, users, case):
    login(client, users["secretary"])
    html = client.get("/t/alpha/").get_data(as_text=True)
    assert "Pièces manquantes" in html and case.reference in html


def test_cases_missing_documents_keep_one_order_when_moved_in_the_same_instant(
        app, tenant, users, session, in_tenant):
    """Files that entered "documents requested" at the same instant are listed by
    reference, on every reading (the database alone may return ties in any order)."""
    from core.web.dashboards import _cases
    from core.web.documents import missing_by_case

    with in_tenant(tenant):
        opened = []
        for first in ("Zoé", "Ali", "Marc", "Inès"):
            person = cases.create_person(session, cases.PersonData(
                first, "Durand", date(1990, 1, 1)))
            c = cases.open_case(session, person, "mobility", "900", actor=users["secretary"])
            workflow.apply_transition(session, c, TransitionRequest("documents_requested",
                                                                    c.version),
                                      users["secretary"])
            opened.append(c)
        same = opened[0].state_changed_at
        for c in opened:
            c.state_changed_at = same
        session.commit()
        by_reference = sorted(c.reference for c in opened)
        assert [c.reference for c, _n in missing_by_case(session)] == by_reference
        listed = _cases(Case.state == "documents_requested")  # light rows, not entities
        ids = {c.id for c in opened}
        assert [c.reference for c in listed if c.id in ids] == by_reference
