"""Delivering the outbox: ``ccas outbox drain``.

Each tenant is drained in its own tenant scope and its own session (the tenant walls stay
up: ORM criteria and, on PostgreSQL, row-level security). A message is delivered in three
steps, each its own short transaction:

1. **Claim.** Due messages (``pending`` whose ``next_attempt_at`` has come, or
   ``sending`` whose lease has run out because a worker died) are moved to ``sending``,
   ``attempts`` + 1, ``next_attempt_at`` = now + lease.

   * PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` then the update, in one transaction:
     a row another worker is claiming is skipped, never waited for nor taken twice.
   * SQLite (no row locks): a conditional update per candidate,
     ``UPDATE … SET status='sending', attempts=attempts+1 WHERE id=? AND status=<seen>
     AND attempts=<seen>``; SQLite serialises writers, so only the first worker's update
     matches (rowcount 1) and the others see rowcount 0 and skip the message.
2. **Send** outside any transaction: SMTP for e-mails, HTTP POST for webhooks.
3. **Finish**, again conditional on ``status='sending' AND attempts=<claimed>``: ``sent``;
   or back to ``pending`` after an exponential backoff (``CCAS_OUTBOX_BACKOFF_SECONDS`` ×
   2^(attempts−1), at most 6 hours); or ``dead`` after ``CCAS_OUTBOX_MAX_ATTEMPTS``
   attempts (default 8), shown to the manager on the "Envois en échec" page.

Delivery is at-least-once: a worker that dies after sending but before step 3 makes the
message due again when its lease (``CCAS_OUTBOX_LEASE_SECONDS``, default 300) ends.
Webhook receivers de-duplicate on ``X-CCAS-Delivery`` (the message id, stable across
retries).

Webhooks are signed: ``X-CCAS-Signature: sha256=<hex>`` is HMAC-SHA256, keyed with the
receiving organisation's ``webhook_secret``, of ``"<X-CCAS-Timestamp>.<raw body>"``
(timestamp in Unix seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import os
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import or_, select, update

from .. import clock, plugins, tenancy
from ..accounts import password_reset
from ..models import Organisation, OutboxKind, OutboxMessage, OutboxStatus, Tenant
from ..plugins.calling import PluginFailure

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BACKOFF_SECONDS = 60
DEFAULT_LEASE_SECONDS = 300
MAX_BACKOFF = timedelta(hours=6)
HTTP_TIMEOUT = 10
SMTP_TIMEOUT = 30


class DeliveryError(Exception):
    """A delivery attempt failed (the message will be retried or given up)."""


@dataclass
class DrainStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def __add__(self, other: DrainStats) -> DrainStats:
        return DrainStats(self.sent + other.sent, self.retried + other.retried,
                          self.dead + other.dead, self.errors + other.errors)


def _conf(app, name: str, default: int) -> int:
    """``app.config[name]``, else the environment variable, else ``default``."""
    return int(app.config.get(name) or os.environ.get(name) or default)


def backoff(attempts: int, base_seconds: int = DEFAULT_BACKOFF_SECONDS) -> timedelta:
    """Delay before the next try after ``attempts`` failed attempts."""
    delay = timedelta(seconds=base_seconds * (2 ** max(attempts - 1, 0)))
    return min(delay, MAX_BACKOFF)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with ``secret``."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                    hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature_header: str) -> bool:
    """What a receiver does (documented for partners; used by the tests)."""
    expected = "sha256=" + sign(secret, timestamp, body)
    return hmac.compare_digest(expected, signature_header or "")


# -- claim / finish ------------------------------------------------------------------------


def _due(now: datetime):
    return (
        or_(OutboxMessage.status == OutboxStatus.pending,
            OutboxMessage.status == OutboxStatus.sending),
        OutboxMessage.next_attempt_at <= now,
    )


def claim(session, now: datetime, limit: int, lease_seconds: int) -> list[tuple]:
    """Claim up to ``limit`` due messages of the current tenant; commits. Returns
    ``(id, attempts_after_claim)`` pairs."""
    lease_until = now + timedelta(seconds=lease_seconds)
    stmt = (select(OutboxMessage).where(*_due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    claimed: list[tuple] = []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.scalars(stmt.with_for_update(skip_locked=True)
                               .execution_options(populate_existing=True)).all()
        for row in rows:
            row.status = OutboxStatus.sending
            row.attempts += 1
            row.next_attempt_at = lease_until
            claimed.append((row.id, row.attempts))
        session.commit()
        return claimed
    seen = session.execute(
        select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts)
        .where(*_due(now)).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    session.commit()
    for message_id, status, attempts in seen:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == status,
                   OutboxMessage.attempts == attempts)
            .values(status=OutboxStatus.sending, attempts=attempts + 1,
                    next_attempt_at=lease_until)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append((message_id, attempts + 1))
        session.commit()
    return claimed


def _finish(session, message_id, attempts: int, values: dict) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.sending,
               OutboxMessage.attempts == attempts)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


# -- sending -------------------------------------------------------------------------------


def build_email(app, message: OutboxMessage) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = app.config["CCAS_MAIL_FROM"]
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Message-ID"] = f"<{message.id}@ccas-network>"
    payload = message.payload or {}
    # a reset link's token is derived now: the queued text holds only a placeholder
    mail.set_content(password_reset.fill_link(app.config["SECRET_KEY"], payload,
                                              payload.get("text") or ""))
    if payload.get("html"):
        mail.add_alternative(payload["html"], subtype="html")
    for item in payload.get("attachments") or []:
        maintype, _, subtype = (item.get("content_type") or "application/octet-stream") \
            .partition("/")
        mail.add_attachment(base64.b64decode(item["content_b64"]), maintype=maintype,
                            subtype=subtype or "octet-stream", filename=item["filename"])
    return mail


def send_email(app, message: OutboxMessage) -> None:
    cfg = app.config
    host, port = cfg["CCAS_SMTP_HOST"], int(cfg["CCAS_SMTP_PORT"])
    mode = (cfg.get("CCAS_SMTP_TLS") or "none").lower()
    try:
        if mode == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
        with smtp:
            if mode == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if cfg.get("CCAS_SMTP_USER"):
                smtp.login(cfg["CCAS_SMTP_USER"], cfg.get("CCAS_SMTP_PASSWORD") or "")
            smtp.send_message(build_email(app, message))
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP : {exc}") from exc


def webhook_body(message: OutboxMessage) -> bytes:
    payload = message.payload or {}
    document = {
        "id": str(message.id),
        "event": payload.get("event") or message.subject,
        "created_at": message.created_at.isoformat(),
        "data": payload.get("data") or {},
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def send_webhook(session, message: OutboxMessage, now: datetime) -> None:
    payload = message.payload or {}
    org = None
    if payload.get("organisation_id"):
        org = session.scalar(select(Organisation).where(
            Organisation.id == uuid.UUID(payload["organisation_id"])))
    if org is None or not org.webhook_secret:
        raise DeliveryError("secret de signature introuvable pour cette organisation")
    parts = urlsplit(message.recipient)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"adresse de webhook invalide : {message.recipient!r}")
    body = webhook_body(message)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "ccas-network-webhooks",
        "X-CCAS-Event": payload.get("event") or message.subject,
        "X-CCAS-Delivery": str(message.id),
        "X-CCAS-Timestamp": timestamp,
        "X-CCAS-Signature": "sha256=" + sign(org.webhook_secret, timestamp, body),
    }
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    conn = connection_class(parts.hostname, parts.port, timeout=HTTP_TIMEOUT)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(4096)
    except OSError as exc:
        raise DeliveryError(f"HTTP : {exc}") from exc
    finally:
        conn.close()
    if not 200 <= response.status < 300:
        raise DeliveryError(f"HTTP {response.status} {response.reason}")


def send_sms(session, message: OutboxMessage) -> None:
    """Hand a text message to the tenant's SMS provider plugin (``ccas_sms_send``)."""
    tenant = session.scalar(select(Tenant).where(Tenant.id == message.tenant_id))
    try:
        sent = plugins.hooks().ccas_sms_send(phone=message.recipient,
                                             text=(message.payload or {}).get("text", ""),
                                             tenant=tenant, session=session)
    except PluginFailure as exc:
        raise DeliveryError(f"fournisseur de SMS en échec ({exc.plugin})") from exc
    if sent is None:
        raise DeliveryError("aucun fournisseur de SMS n'est activé pour ce territoire")


# -- the drain -----------------------------------------------------------------------------


def drain_tenant(app, session, now: datetime, batch: int = 50) -> DrainStats:
    """Deliver the current tenant's due messages (call inside ``tenant_scope``)."""
    stats = DrainStats()
    max_attempts = _conf(app, "CCAS_OUTBOX_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)
    base = _conf(app, "CCAS_OUTBOX_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS)
    lease = _conf(app, "CCAS_OUTBOX_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
    while True:
        claimed = claim(session, now, batch, lease)
        for message_id, attempts in claimed:
            message = session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id)
                                     .execution_options(populate_existing=True))
            session.commit()
            try:
                if message.kind == OutboxKind.email:
                    send_email(app, message)
                elif message.kind == OutboxKind.sms:
                    send_sms(session, message)
                    session.commit()
                else:
                    send_webhook(session, message, now)
                    session.commit()
            except DeliveryError as exc:
                error = str(exc)[:2000]
                if attempts >= max_attempts:
                    values = {"status": OutboxStatus.dead, "last_error": error}
                    stats.dead += 1
                    log.warning("outbox message %s given up after %s attempts: %s",
                                message_id, attempts, error)
                else:
                    values = {"status": OutboxStatus.pending, "last_error": error,
                              "next_attempt_at": now + backoff(attempts, base)}
                    stats.retried += 1
                stats.errors.append(error)
                _finish(session, message_id, attempts, values)
                continue
            if _finish(session, message_id, attempts,
                       {"status": OutboxStatus.sent, "sent_at": now, "last_error": ""}):
                stats.sent += 1
        if len(claimed) < batch:
            return stats


def drain(app=None, now: datetime | None = None, batch: int = 50,
          tenant_slugs: list[str] | None = None) -> DrainStats:
    """Deliver every tenant's due messages once (a suspended tenant's wait for it to be
    resumed, as in the worker). ``now`` lets tests move time forward."""
    app = app or current_app._get_current_object()
    now = now or clock.now()
    maker = app.extensions["ccas_sessionmaker"]
    with maker() as session:
        stmt = select(Tenant.id).where(Tenant.suspended_at.is_(None)).order_by(Tenant.id)
        if tenant_slugs:
            stmt = stmt.where(Tenant.slug.in_(tenant_slugs))
        tenant_ids = list(session.scalars(stmt))
    total = DrainStats()
    for tenant_id in tenant_ids:
        with tenancy.tenant_scope(tenant_id), maker() as session:
            total = total + drain_tenant(app, session, now, batch)
    return total


def loop(app, interval: float = 10.0, stop=None, on_round=None) -> None:
    """Drain, sleep ``interval`` seconds, again until ``stop`` (an Event) is set."""
    while stop is None or not stop.is_set():
        stats = drain(app)
        if on_round is not None:
            on_round(stats)
        if stop is not None:
            stop.wait(interval)
        else:
            time.sleep(interval)


# -- dead letters ----------------------------------------------------------------------------


def dead_letters(session, limit: int = 200) -> list[OutboxMessage]:
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.dead)
        .order_by(OutboxMessage.created_at.desc()).limit(limit)
    ))


def requeue(session, message_id, now: datetime | None = None) -> bool:
    """Give a dead message a new series of attempts (manager's action)."""
    message = session.scalar(select(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.dead))
    if message is None:
        return False
    message.status = OutboxStatus.pending
    message.attempts = 0
    message.next_attempt_at = now or clock.now()
    return True
