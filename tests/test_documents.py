"""core.features.documents: the tenant's list, plugin additions, the checklist, marking,
letter, e-mail."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from sqlalchemy import select

from core import cases, plugins, workflow
from core.errors import UserError
from core.features import documents
from core.models import AuditEvent, CaseDocument, DocumentStatus, OutboxMessage
from core.plugin_api import DocumentRequirement
from core.testing.pytest_plugin import probe_plugin
from core.workflow import TransitionError, TransitionRequest

DEFAULT_CODES = ["identity", "address", "resources", "tax_notice", "bank_statements",
                 "bank_details", "project_quote"]


def move(session, case, target, actor):
    workflow.apply_transition(session, case, TransitionRequest(target, case.version), actor)
    session.commit()


@pytest.fixture
def case(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1995, 4, 2), email="lea@example.org",
            address="3 rue des Lilas", postal_code="31000", city="Toulouse"))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"])
        session.commit()
        yield c





def codes(session, case):
    return [d.code for d in documents.checklist(session, case)]


def test_default_list_has_the_seven_usual_documents(tenant):
    assert [d.code for d in documents.tenant_documents(tenant)] == DEFAULT_CODES


def test_tenant_setting_replaces_the_default_list(tenant):
    tenant.settings = {"documents": [{"code": "identity", "label": "Carte d'identité"},
                                     ["rib", "RIB"]]}
    assert [(d.code, d.label) for d in documents.tenant_documents(tenant)] == [
        ("identity", "Carte d'identité"), ("rib", "RIB")]


def test_malformed_tenant_setting_is_refused_with_the_faulty_entry(tenant):
    tenant.settings = {"documents": [{"code": "identity", "label": "Identité"},
                                     {"code": "Bad Code", "label": "x"}]}
    with pytest.raises(UserError, match="élément 2"):
        documents.tenant_documents(tenant)


def test_entering_documents_requested_creates_the_checklist_from_defaults(case, users,
                                                                          session):
    assert codes(session, case) == []
    move(session, case, "documents_requested", users["secretary"])
    docs = documents.checklist(session, case)
    assert [d.code for d in docs] == DEFAULT_CODES
    assert all(d.status == DocumentStatus.requested and d.source == "tenant" for d in docs)
    assert docs[0].updated_by_id == users["secretary"].id
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "documents.checklist"))


def test_plugin_additions_follow_the_tenant_list(case, users, session, with_plugin):
    def required(case):
        if case.purpose == "mobility":
            return [DocumentRequirement("driving_licence", "Permis de conduire"),
                    DocumentRequirement("identity", "Doublon ignoré")]
        return None

    with_plugin(probe_plugin("garage", ccas_required_documents=required))
    move(session, case, "documents_requested", users["secretary"])
    docs = documents.checklist(session, case)
    assert [d.code for d in docs] == [*DEFAULT_CODES, "driving_licence"]
    assert docs[-1].source == "garage" and docs[-1].label == "Permis de conduire"
    assert docs[0].label == "Pièce d'identité en cours de validité"


def test_disabled_plugin_adds_nothing(case, users, session, with_plugin, tenant, in_tenant):
    with_plugin(probe_plugin("garage2", ccas_required_documents=lambda: [
        DocumentRequirement("driving_licence", "Permis de conduire")]))
    with in_tenant(tenant):
        plugins.set_enabled(session, "garage2", False)
        session.commit()
    plugins.forget_enabled_cache()
    move(session, case, "documents_requested", users["secretary"])
    assert "driving_licence" not in codes(session, case)


def test_raising_plugin_refuses_the_transition_and_leaves_no_checklist(case, users, session,
                                                                       with_plugin):
    def boom():
        raise RuntimeError("kaput")

    with_plugin(probe_plugin("brokendocs", ccas_required_documents=boom))
    with pytest.raises(TransitionError, match="BROKENDOCS"):
        move(session, case, "documents_requested", users["secretary"])
    session.rollback()
    assert case.state == "intake"
    assert codes(session, case) == []


def test_creating_the_checklist_again_only_adds_what_is_missing(case, users, session,
                                                                tenant):
    move(session, case, "documents_requested", users["secretary"])
    tenant.settings = {"documents": [{"code": "identity", "label": "Identité"},
                                     {"code": "rent", "label": "Quittance de loyer"}]}
    added = documents.create_checklist(session, case, tenant, users["secretary"])
    session.commit()
    assert [d.code for d in added] == ["rent"]
    assert codes(session, case) == [*DEFAULT_CODES, "rent"]


def test_marking_received_and_waived_records_who_and_when(case, users, session):
    move(session, case, "documents_requested", users["secretary"])
    doc = documents.checklist(session, case)[0]
    documents.mark(session, doc, "received", users["social_worker"], note="copie")
    session.commit()
    assert doc.status == DocumentStatus.received and doc.received_at is not None
    assert doc.updated_by_id == users["social_worker"].id and doc.note == "copie"
    documents.mark(session, doc, "waived", users["secretary"])
    session.commit()
    assert doc.status == DocumentStatus.waived and doc.received_at is None
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "documents.mark")
        .order_by(AuditEvent.at)).all()
    assert [(e.detail["old"], e.detail["new"]) for e in events] == [
        ("requested", "received"), ("received", "waived")]


def test_unknown_status_is_refused(case, users, session):
    move(session, case, "documents_requested", users["secretary"])
    doc = documents.checklist(session, case)[0]
    with pytest.raises(UserError, match="inconnu"):
        documents.mark(session, doc, "lost", users["secretary"])


def test_checklist_is_frozen_once_the_case_has_ended(case, users, session):
    move(session, case, "documents_requested", users["secretary"])
    doc = documents.checklist(session, case)[0]
    workflow.apply_transition(session, case, TransitionRequest(
        "abandoned", case.version, reason="no_response"), users["secretary"])
    session.commit()
    with pytest.raises(UserError, match="ne se modifie plus"):
        documents.mark(session, doc, "received", users["secretary"])


def test_staff_may_ask_for_an_extra_document_once(case, users, session):
    move(session, case, "documents_requested", users["secretary"])
    doc = documents.add_document(session, case, "Attestation CAF", users["secretary"])
    session.commit()
    assert doc.code == "staff_1" and doc.source == "staff"
    with pytest.raises(UserError, match="déjà"):
        documents.add_document(session, case, "attestation caf", users["secretary"])


def test_letter_lists_only_the_documents_still_requested(case, users, session, tenant):
    move(session, case, "documents_requested", users["secretary"])
    docs = documents.checklist(session, case)
    documents.mark(session, docs[0], "received", users["secretary"])
    data = documents.letter(tenant, case, documents.checklist(session, case), date(2027, 1, 5))
    assert docs[0].label not in data.documents and len(data.documents) == 6
    assert data.date_text == "05/01/2027"
    assert data.address_lines == ["3 rue des Lilas", "31000 Toulouse"]
    text = documents.letter_text(data)
    assert "Relevé d'identité bancaire (RIB)" in text and case.reference in text


def test_letter_pdf_is_a_pdf(case, users, session, tenant):
    move(session, case, "documents_requested", users["secretary"])
    data = documents.letter(tenant, case, documents.checklist(session, case), date(2027, 1, 5))
    pdf = documents.letter_pdf(data)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 1000


def test_email_with_the_list_is_enqueued_with_the_pdf(case, users, session, tenant):
    move(session, case, "documents_requested", users["secretary"])
    documents.email_list(session, tenant, case, users["secretary"])
    session.commit()
    message = session.scalar(select(OutboxMessage))
    assert message.recipient == "lea@example.org"
    assert message.topic == f"case:{case.id}:documents"
    assert case.reference in message.subject
    for label in ("Pièce d'identité en cours de validité", "Devis ou facture du projet"):
        assert f"- {label}" in message.payload["text"]
    attachment = message.payload["attachments"][0]
    assert attachment["content_type"] == "application/pdf"
    assert base64.b64decode(attachment["content_b64"]).startswith(b"%PDF-")


def test_email_needs_an_address(case, users, session, tenant):
    move(session, case, "documents_requested", users["secretary"])
    case.person.email = None
    with pytest.raises(UserError, match="adresse e-mail"):
        documents.email_list(session, tenant, case, users["secretary"])


def test_email_with_nothing_requested_is_refused(case, users, session, tenant):
    move(session, case, "documents_requested", users["secretary"])
    for d in documents.checklist(session, case):
        documents.mark(session, d, "received", users["secretary"])
    with pytest.raises(UserError, match="rien à envoyer"):
        documents.email_list(session, tenant, case, users["secretary"])


def test_checklist_rows_belong_to_their_tenant(case, users, session, other_tenant, in_tenant):
    move(session, case, "documents_requested", users["secretary"])
    with in_tenant(other_tenant):
        assert session.scalars(select(CaseDocument)).all() == []
