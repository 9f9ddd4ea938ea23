"""``ccas outbox drain`` and ``ccas referrals remind|webhook``."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core import clock, referrals
from core.models import Organisation, OutboxMessage, OutboxStatus, Referral, ReferralStatus
from core.outbox import enqueue_email


def test_drain_once_reports_what_it_did(ccas, session, in_tenant, tenant, monkeypatch):
    import socket

    with socket.socket() as s:  # a port where nobody listens: the e-mail is retried
        s.bind(("127.0.0.1", 0))
        monkeypatch.setenv("CCAS_SMTP_PORT", str(s.getsockname()[1]))
    with in_tenant(tenant):
        enqueue_email(session, "x@asso.test", "Sujet", "Texte")
        session.commit()
    result = ccas("outbox", "drain", "--once")
    assert result.exit_code == 0, result.output
    assert "Envoyés : 0, à retenter : 1" in result.output
    with in_tenant(tenant):
        session.expire_all()
        assert session.scalar(select(OutboxMessage.status)) == OutboxStatus.pending


def test_remind_expires_referrals_older_than_the_tenant_delay(ccas, session, in_tenant, tenant,
                                                              users):
    with in_tenant(tenant):
        r = referrals.submit(session, users["referrer"], referrals.ReferralInput(
            "Léa", "Martin", date(1990, 4, 2), "mobility", "1500", True, phone="06"),
            tenant=tenant, at=clock.now() - timedelta(days=31))
        session.commit()
    result = ccas("referrals", "remind")
    assert result.exit_code == 0, result.output
    assert "alpha : 0 relance, 1 expiration" in result.output
    with in_tenant(tenant):
        session.expire_all()
        assert session.get(Referral, (tenant.id, r.id)).status == ReferralStatus.expired


def test_webhook_command_sets_the_url_and_a_secret_shown_once(ccas, session, in_tenant,
                                                              tenant, users):
    result = ccas("referrals", "webhook", "--tenant", "alpha", "--org",
                  "Association partenaire", "--url", "https://asso.test/hooks")
    assert result.exit_code == 0, result.output
    assert "Secret de signature" in result.output
    with in_tenant(tenant):
        session.expire_all()
        org = session.scalar(select(Organisation).where(
            Organisation.name == "Association partenaire"))
        assert org.webhook_url == "https://asso.test/hooks"
        assert org.webhook_secret and org.webhook_secret in result.output
    again = ccas("referrals", "webhook", "--tenant", "alpha", "--org",
                 "Association partenaire", "--url", "https://asso.test/v2")
    assert "Secret de signature" not in again.output
    bad = ccas("referrals", "webhook", "--tenant", "alpha", "--org",
               "Association partenaire", "--url", "ftp://x")
    assert bad.exit_code == 1 and "invalide" in bad.output
