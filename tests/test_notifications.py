"""Which e-mails and webhooks each referral event queues, to whom, and what they say."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core import referrals, workflow
from core.models import Organisation, OutboxKind, OutboxMessage
from core.workflow import TransitionRequest


@pytest.fixture
def partner_org(tenant, session, in_tenant):
    with in_tenant(tenant):
        return session.scalar(select(Organisation).where(
            Organisation.name == "Association partenaire"))


def submit(session, users, tenant, **over):
    values = dict(first_name="Léa", last_name="Martin", birth_date=date(1990, 4, 2),
                  purpose="mobility", amount_requested="1500", consent=True, phone="06",
                  email="lea@example.test")
    values.update(over)
    r = referrals.submit(session, users["referrer"], referrals.ReferralInput(**values),
                         tenant=tenant)
    session.commit()
    return r


def outbox(session, **where):
    stmt = select(OutboxMessage).order_by(OutboxMessage.created_at)
    for name, value in where.items():
        stmt = stmt.where(getattr(OutboxMessage, name) == value)
    return session.scalars(stmt).all()


def test_new_referral_emails_the_ccas_managers_and_secretaries(app, tenant, users, session,
                                                               in_tenant):
    with in_tenant(tenant):
        r = submit(session, users, tenant)
        mails = outbox(session, kind=OutboxKind.email)
        assert {m.recipient for m in mails} == {users["manager"].email,
                                                users["secretary"].email}
        assert all("Nouvelle orientation" in m.subject for m in mails)
        assert f"http://localhost/t/alpha/orientations/{r.id}" in mails[0].payload["text"]
        # the sum in French figures ("1 500,00 €"), never "1500.00 €"
        assert "pour 1\u202f500,00\u00a0€" in mails[0].payload["text"]


def test_status_change_emails_the_referrer_in_french_text_and_html(app, tenant, users,
                                                                   session, in_tenant):
    with in_tenant(tenant):
        r = submit(session, users, tenant)
        referrals.decline(session, r, users["secretary"], "out_of_territory", "Voir mairie",
                          tenant=tenant)
        session.commit()
        mails = outbox(session, topic=f"referral:{r.id}:declined")
        assert [m.recipient for m in mails] == [users["referrer"].email]
        text, html = mails[0].payload["text"], mails[0].payload["html"]
        assert "a été déclinée" in text and "Hors du territoire" in text
        assert "Voir mairie" in text
        assert f'href="http://localhost/t/alpha/orientations/{r.id}"' in html
        assert "<p>Bonjour,</p>" in html
        assert "Martin" not in mails[0].subject and "L. M." in text


def test_organisation_address_is_preferred_to_its_users(app, tenant, users, session,
                                                        in_tenant, partner_org):
    with in_tenant(tenant):
        partner_org.email = "orientations@asso.test"
        session.commit()
        r = submit(session, users, tenant)
        referrals.mark_received(session, r, users["secretary"], tenant=tenant)
        session.commit()
        mails = outbox(session, topic=f"referral:{r.id}:received")
        assert [m.recipient for m in mails] == ["orientations@asso.test"]


def test_webhook_is_queued_only_for_an_organisation_with_an_endpoint(app, tenant, users,
                                                                     session, in_tenant,
                                                                     partner_org):
    with in_tenant(tenant):
        r = submit(session, users, tenant)
        referrals.mark_received(session, r, users["secretary"], tenant=tenant)
        session.commit()
        assert outbox(session, kind=OutboxKind.webhook) == []
        partner_org.webhook_url = "https://asso.test/hooks"
        partner_org.webhook_secret = "x"
        referrals.accept(session, r, users["secretary"], tenant=tenant)
        session.commit()
        hooks = outbox(session, kind=OutboxKind.webhook)
        assert len(hooks) == 1
        assert hooks[0].recipient == "https://asso.test/hooks"
        assert hooks[0].payload["event"] == "referral.status_changed"
        assert hooks[0].payload["organisation_id"] == str(partner_org.id)
        assert hooks[0].payload["data"]["status"] == "accepted"
        assert hooks[0].payload["data"]["old_status"] == "received"


def test_acceptance_also_emails_the_person(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        r = submit(session, users, tenant)
        referrals.accept(session, r, users["secretary"], tenant=tenant)
        session.commit()
        mails = outbox(session, recipient="lea@example.test")
        assert len(mails) == 1 and "prendre contact" in mails[0].payload["text"]


def test_mirrored_milestones_never_carry_case_notes(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        r = submit(session, users, tenant)
        case = referrals.accept(session, r, users["secretary"], tenant=tenant)
        session.commit()
        workflow.apply_transition(session, case, TransitionRequest(
            "abandoned", case.version, reason="situation_changed",
            reason_text="Note confidentielle du travailleur social"), users["secretary"])
        session.commit()
        mails = outbox(session, topic=f"referral:{r.id}:abandoned")
        assert mails and "a été abandonnée" in mails[0].payload["text"]
        for m in outbox(session):
            assert "confidentielle" not in (m.payload.get("text") or "")
            assert "confidentielle" not in str(m.payload.get("data") or "")


def test_reminder_goes_to_the_receiving_organisation(app, tenant, users, session, in_tenant):
    from datetime import timedelta

    with in_tenant(tenant):
        r = submit(session, users, tenant)
        referrals.remind_and_expire(session, tenant, r.created_at + timedelta(days=10))
        session.commit()
        mails = outbox(session, topic=f"referral:{r.id}:reminder")
        assert {m.recipient for m in mails} == {users["manager"].email,
                                                users["secretary"].email}
        assert "attend toujours votre réponse" in mails[0].payload["text"]
