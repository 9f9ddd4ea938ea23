"""Subject access (RGPD article 15): the export holds every table's rows linked to the
person and nothing of another person, reads as a French PDF, and every export is audited."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core.models import AuditEvent
from core.privacy import export
from tests.test_privacy_purge import LONG_AGO, populate


@pytest.fixture
def people(app, session, tenant, users, in_tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        one = populate(session, users["social_worker"], "ONE", birth=date(1961, 11, 17),
                       intake=date(2022, 3, 8), last_contact=LONG_AGO)
        two = populate(session, users["social_worker"], "TWO", birth=date(1979, 6, 21),
                       intake=date(2022, 5, 4), last_contact=datetime.now(UTC))
        session.commit()
    return one, two


def test_export_holds_every_linked_table_and_no_other_person(people, session, tenant,
                                                              in_tenant):
    (person, _case, texts), (_other, _ocase, other_texts) = people
    with in_tenant(tenant):
        data = export.subject_data(session, person, tenant)
    assert {
        "persons", "cases", "case_transitions", "interviews", "budget_lines", "case_documents",
        "appointments", "case_suggestions", "referrals", "referral_status_changes",
        "referral_attachments", "accompaniment_plans", "follow_ups", "accompaniment_tasks",
        "workshop_invitations", "time_entries", "outbox_messages", "audit_events",
        "credit_municipal_ficp_checks", "credit_municipal_loans",
        "credit_municipal_installments", "credit_municipal_repayments",
    } <= set(data["tables"])
    text = export.to_json(data).decode()
    for value in texts - {"17/11/1961"}:  # dates are ISO in the JSON
        assert value in text, value
    assert json.loads(text)["tables"]["persons"]["rows"][0]["phone"] == "06ONE7788"
    for value in other_texts:
        assert value not in text


def test_pdf_is_readable_french(people, session, tenant, in_tenant):
    (person, _case, _texts), _ = people
    with in_tenant(tenant):
        data = export.subject_data(session, person, tenant)
    pdf = export.to_pdf(data, person.full_name, tenant.name)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_every_export_is_audited(people, client, login, users, session, tenant, in_tenant):
    (person, _case, texts), _ = people
    login(client, users["manager"])
    base = f"/t/alpha/admin/privacy/persons/{person.id}"
    answer = client.get(f"{base}/export.json")
    assert answer.status_code == 200
    assert "ZéphyrineONE" in answer.get_data(as_text=True)
    pdf = client.get(f"{base}/export.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    with in_tenant(tenant):
        formats = session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "person.export", AuditEvent.object_id == str(person.id))).all()
    assert sorted(d["format"] for d in formats) == ["json", "pdf"]


@pytest.mark.parametrize("role", ["secretary", "social_worker", "lender_agent", "referrer",
                                  "funder"])
def test_only_the_manager_exports(people, client, login, users, role):
    (person, _case, _texts), _ = people
    login(client, users[role])
    answer = client.get(f"/t/alpha/admin/privacy/persons/{person.id}/export.json")
    assert answer.status_code in (403, 404)
