"""Subject access (RGPD article 15): the export holds every table's rows linked to the
person and nothing of another person, reads as a French PDF, and every export is audited.
The same for a person known only through partners' referrals."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import date

import pypdf
import pytest
from sqlalchemy import select

from core import clock
from core.models import AuditEvent
from core.privacy import export
from tests.test_privacy_pages import refer_only
from tests.test_privacy_purge import CAF, LONG_AGO, populate


@pytest.fixture
def people(app, session, tenant, users, in_tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        one = populate(session, users["social_worker"], "ONE", birth=date(1961, 11, 17),
                       intake=date(2022, 3, 8), last_contact=LONG_AGO)
        two = populate(session, users["social_worker"], "TWO", birth=date(1979, 6, 21),
                       intake=date(2022, 5, 4), last_contact=clock.now())
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


# -- a person known only through partners' referrals ---------------------------------------


@pytest.fixture
def referred_only(app, session, tenant, users, make_user, enable_plugin, in_tenant):
    return refer_only(session, tenant, users, make_user, enable_plugin, in_tenant)


def _pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", "", text)  # a PDF may wrap a word anywhere


def test_export_of_a_person_only_ever_referred_holds_their_referrals_and_nothing_else(
        referred_only, session, tenant, in_tenant):
    (refs, texts), (_other_refs, other_texts) = referred_only
    with in_tenant(tenant):
        data = export.referred_data(session, refs, tenant)
    assert data["subject"] == "referrals"
    assert sorted(data["referral_ids"]) == sorted(str(r.id) for r in refs)
    tables = data["tables"]
    assert {"referrals", "referral_status_changes", "referral_attachments",
            "outbox_messages", "audit_events"} <= set(tables)
    assert len(tables["referrals"]["rows"]) == 3
    assert {row["to_organisation"] for row in tables["referrals"]["rows"]} == \
        {CAF, "CCAS de Alpha"}
    text = export.to_json(data).decode()
    for value in texts - {"04/10/1987"}:  # dates are ISO in the JSON
        assert value in text, value
    parsed = json.loads(text)
    attachment = parsed["tables"]["referral_attachments"]["rows"][0]
    assert b"AnatoliePRV" in base64.b64decode(attachment["content"])
    # The referral.created webhook, the CAF's e-mail to the person, the audit of each
    # status change: all there.
    topics = {m["topic"] for m in parsed["tables"]["outbox_messages"]["rows"]}
    assert any(t.startswith(f"referral:{refs[0].id}") for t in topics)
    assert "anatolie.prv@exemple.test" in {
        m["recipient"] for m in parsed["tables"]["outbox_messages"]["rows"]}
    assert "referral.status" in {e["action"] for e in parsed["tables"]["audit_events"]["rows"]}
    for value in other_texts:
        assert value not in text, value


def test_referred_persons_exports_give_their_values_as_json_and_pdf_and_are_audited(
        referred_only, client, login, users, session, tenant, in_tenant):
    (refs, texts), (_other_refs, other_texts) = referred_only
    login(client, users["manager"])
    base = f"/t/alpha/admin/privacy/referrals/{refs[2].id}"
    answer = client.get(f"{base}/export.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert "attachment" in answer.headers["Content-Disposition"]
    body = answer.get_data(as_text=True)
    for value in texts - {"04/10/1987"}:
        assert value in body, value
    pdf = client.get(f"{base}/export.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.get_data())
    for value in ("AnatoliePRV", "BrisemichePRV", "07PRV5544", "anatolie.prv@exemple.test",
                  "04/10/1987", "2468013", "noteorientationsecrètePRV",
                  "messagerefussecretPRV", CAF.replace(" ", ""), "Orientéepar"):
        assert value in text, value
    for value in other_texts:
        assert re.sub(r"\s+", "", value) not in text, value
    with in_tenant(tenant):
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "referral.export")).all()
    assert sorted((e.object_id, e.detail["format"]) for e in events) == sorted(
        (str(r.id), fmt) for r in refs for fmt in ("json", "pdf"))
