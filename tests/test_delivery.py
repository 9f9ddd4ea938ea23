"""The outbox drain: real SMTP server, real HTTP receiver checking the HMAC signature,
retries with backoff, dead letters, and parallel drains that never send twice."""

from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core import accounts, clock
from core.models import Organisation, OutboxMessage, OutboxStatus
from core.outbox import delivery, enqueue_email, enqueue_webhook

SECRET = "s3cret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "CCAS_SMTP_HOST": "127.0.0.1", "CCAS_SMTP_PORT": smtp.port,
            "CCAS_SMTP_TLS": "none", "CCAS_OUTBOX_MAX_ATTEMPTS": 3}


class Receiver:
    """An HTTP endpoint that checks the signature; ``failures`` first answers are 500."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.calls = 0
        self.accepted = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                ok = delivery.verify(SECRET, self.headers["X-CCAS-Timestamp"], raw,
                                     self.headers["X-CCAS-Signature"])
                with receiver.lock:
                    receiver.calls += 1
                    if not ok:
                        receiver.bad_signatures += 1
                        status = 401
                    elif receiver.failures > 0:
                        receiver.failures -= 1
                        status = 500
                    else:
                        receiver.accepted.append((dict(self.headers), json.loads(raw)))
                        status = 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ccas"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(failures=0):
        r = Receiver(failures)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def partner(tenant, session, in_tenant):
    with in_tenant(tenant):
        org = Organisation(name="Partenaire webhook", kind="association",
                           webhook_secret=SECRET)
        session.add(org)
        session.commit()
        return org


def queue_webhook(session, in_tenant, tenant, org, url, event="referral.status_changed"):
    with in_tenant(tenant):
        msg = enqueue_webhook(session, url, event, {"id": "r1", "status": "accepted"},
                              organisation_id=org.id, topic="t")
        session.commit()
        return msg.id


def status_of(session, in_tenant, tenant, message_id):
    with in_tenant(tenant):
        session.expire_all()
        return session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id))


def test_email_reaches_a_real_smtp_server_as_text_and_html(app, smtp, session, in_tenant,
                                                           tenant):
    with in_tenant(tenant):
        msg = enqueue_email(session, "referent@asso.test", "Orientation acceptée",
                            "Bonjour,\nTexte.", "<p>Bonjour,</p>",
                            attachments=[("a.pdf", "application/pdf", b"%PDF-1.4")])
        session.commit()
    stats = delivery.drain(app)
    assert stats.sent == 1
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "referent@asso.test" and mail["Subject"] == "Orientation acceptée"
    assert mail.get_body(("plain",)).get_content().startswith("Bonjour,")
    assert "<p>Bonjour,</p>" in mail.get_body(("html",)).get_content()
    assert [p.get_filename() for p in mail.iter_attachments()] == ["a.pdf"]
    row = status_of(session, in_tenant, tenant, msg.id)
    assert row.status == OutboxStatus.sent and row.sent_at is not None


def test_webhook_is_signed_with_the_organisation_secret(app, receiver, partner, session,
                                                        in_tenant, tenant):
    r = receiver()
    mid = queue_webhook(session, in_tenant, tenant, partner, r.url)
    assert delivery.drain(app).sent == 1
    assert r.bad_signatures == 0 and len(r.accepted) == 1
    headers, document = r.accepted[0]
    assert headers["X-CCAS-Delivery"] == str(mid)
    assert headers["X-CCAS-Event"] == "referral.status_changed"
    assert document["event"] == "referral.status_changed" and document["data"]["id"] == "r1"


def test_a_wrong_secret_is_rejected_by_the_receiver(app, receiver, partner, session, in_tenant,
                                                    tenant):
    r = receiver()
    with in_tenant(tenant):
        partner.webhook_secret = "another-secret"
        session.commit()
    mid = queue_webhook(session, in_tenant, tenant, partner, r.url)
    stats = delivery.drain(app)
    assert stats.sent == 0 and stats.retried == 1 and r.bad_signatures == 1
    assert status_of(session, in_tenant, tenant, mid).status == OutboxStatus.pending


def test_receiver_failing_twice_gets_the_webhook_exactly_once_after_backoff(
        app, receiver, partner, session, in_tenant, tenant):
    r = receiver(failures=2)
    mid = queue_webhook(session, in_tenant, tenant, partner, r.url)
    t0 = clock.now()
    assert delivery.drain(app, now=t0).retried == 1
    first = status_of(session, in_tenant, tenant, mid)
    assert first.status == OutboxStatus.pending and first.attempts == 1
    assert first.next_attempt_at == t0 + delivery.backoff(1)
    assert "500" in first.last_error
    # Not due yet: nothing is sent before the backoff has passed.
    assert delivery.drain(app, now=t0 + timedelta(seconds=1)).retried == 0
    assert r.calls == 1
    t1 = t0 + delivery.backoff(1)
    assert delivery.drain(app, now=t1).retried == 1
    second = status_of(session, in_tenant, tenant, mid)
    assert second.next_attempt_at == t1 + delivery.backoff(2) > t1 + delivery.backoff(1)
    t2 = t1 + delivery.backoff(2)
    assert delivery.drain(app, now=t2).sent == 1
    assert delivery.drain(app, now=t2 + timedelta(days=1)).sent == 0
    assert r.calls == 3 and len(r.accepted) == 1
    assert status_of(session, in_tenant, tenant, mid).status == OutboxStatus.sent


def test_backoff_grows_exponentially_and_is_capped():
    assert [delivery.backoff(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert delivery.backoff(40, 60) == delivery.MAX_BACKOFF


def test_after_max_attempts_the_message_is_a_dead_letter(app, receiver, partner, session,
                                                         in_tenant, tenant):
    r = receiver(failures=100)
    mid = queue_webhook(session, in_tenant, tenant, partner, r.url)
    now = clock.now()
    for _ in range(3):  # CCAS_OUTBOX_MAX_ATTEMPTS = 3 in this module
        delivery.drain(app, now=now)
        now += delivery.MAX_BACKOFF
    row = status_of(session, in_tenant, tenant, mid)
    assert row.status == OutboxStatus.dead and row.attempts == 3
    assert delivery.drain(app, now=now + timedelta(days=30)).sent == 0 and r.calls == 3
    with in_tenant(tenant):
        assert [m.id for m in delivery.dead_letters(session)] == [mid]
        assert delivery.requeue(session, mid)
        session.commit()
    assert status_of(session, in_tenant, tenant, mid).status == OutboxStatus.pending


def test_unreachable_smtp_server_is_retried_not_lost(app, session, in_tenant, tenant):
    app.config["CCAS_SMTP_PORT"] = free_port()
    with in_tenant(tenant):
        msg = enqueue_email(session, "x@asso.test", "Sujet", "Texte")
        session.commit()
    stats = delivery.drain(app)
    assert stats.retried == 1 and stats.sent == 0
    row = status_of(session, in_tenant, tenant, msg.id)
    assert row.status == OutboxStatus.pending and "SMTP" in row.last_error


def test_a_dead_worker_s_claim_is_taken_over_when_its_lease_ends(app, smtp, session, in_tenant,
                                                                 tenant):
    with in_tenant(tenant):
        msg = enqueue_email(session, "x@asso.test", "Sujet", "Texte")
        session.commit()
        now = clock.now()
        assert delivery.claim(session, now, 10, 300) == [(msg.id, 1)]
    # The worker died: nothing due until the lease ends, then another worker sends it.
    assert delivery.drain(app, now=now + timedelta(seconds=10)).sent == 0
    assert delivery.drain(app, now=now + timedelta(seconds=301)).sent == 1
    assert len(smtp.messages) == 1


def test_each_tenant_is_drained_in_its_own_scope(app, smtp, session, in_tenant, tenant,
                                                 other_tenant):
    for t in (tenant, other_tenant):
        with in_tenant(t):
            enqueue_email(session, f"contact@{t.slug}.test", f"Pour {t.slug}", "Texte")
            session.commit()
    assert delivery.drain(app).sent == 2
    assert sorted(m["To"] for m in smtp.messages) == ["contact@alpha.test", "contact@beta.test"]


def test_a_suspended_tenants_mail_waits_for_it_to_be_resumed(app, smtp, session, in_tenant,
                                                             tenant, other_tenant):
    for t in (tenant, other_tenant):
        with in_tenant(t):
            enqueue_email(session, f"contact@{t.slug}.test", f"Pour {t.slug}", "Texte")
            session.commit()
    accounts.set_suspended(session, other_tenant, True)
    session.commit()
    assert delivery.drain(app).sent == 1
    assert [m["To"] for m in smtp.messages] == ["contact@alpha.test"]
    accounts.set_suspended(session, other_tenant, False)
    session.commit()
    assert delivery.drain(app).sent == 1
    assert smtp.messages[-1]["To"] == "contact@beta.test"


def test_two_drains_in_parallel_send_each_message_once(app, smtp, receiver, partner, session,
                                                       in_tenant, tenant):
    r = receiver()
    with in_tenant(tenant):
        for i in range(20):
            enqueue_email(session, f"p{i}@asso.test", f"Message {i}", "Texte")
        session.commit()
    for _ in range(6):
        queue_webhook(session, in_tenant, tenant, partner, r.url)
    errors = []
    barrier = threading.Barrier(2)

    def work():
        try:
            barrier.wait()
            with app.app_context():
                delivery.drain(app, batch=1)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects == sorted(f"Message {i}" for i in range(20))
    deliveries = [h["X-CCAS-Delivery"] for h, _ in r.accepted]
    assert len(deliveries) == len(set(deliveries)) == 6
    with in_tenant(tenant):
        session.expire_all()
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {OutboxStatus.sent}
