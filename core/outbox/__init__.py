"""Writing to the outbox (same transaction as the change). Delivery: ``core.outbox.delivery``.

A message is written at once in the session's transaction (``core.adopted_rows.inserted``:
it commits or rolls back with the change) and returned as a loaded object: an outbox row
is append-only, and the unit of work's flush of it cost more than the row (a referral's
creation spent a third of its time flushing its notice).
"""

from __future__ import annotations

import base64

from .. import adopted_rows
from ..models.outbox import OutboxKind, OutboxMessage


def enqueue_email(session, to: str, subject: str, text: str, html: str | None = None,
                  attachments: list[tuple[str, str, bytes]] | None = None,
                  topic: str = "") -> OutboxMessage:
    """Queue an e-mail. ``attachments``: ``(filename, content_type, bytes)``."""
    return adopted_rows.inserted(session, OutboxMessage,
                                 _email(to, subject, text, html, attachments, topic))


def enqueue_emails(session, recipients: list[str], subject: str, text: str,
                   html: str | None = None,
                   attachments: list[tuple[str, str, bytes]] | None = None,
                   topic: str = "") -> None:
    """Queue the same e-mail to each of ``recipients`` (one message each, sent and
    retried apart), written in one statement; no message object is made (a notice is
    not read back in the request that queues it)."""
    adopted_rows.insert_rows(session, OutboxMessage, [
        _email(to, subject, text, html, attachments, topic) for to in recipients])


def _email(to: str, subject: str, text: str, html: str | None, attachments, topic: str
           ) -> dict:
    return dict(
        kind=OutboxKind.email, recipient=to, subject=subject[:300], topic=topic[:200],
        payload={"text": text, "html": html, "attachments": [
            {"filename": name, "content_type": ctype,
             "content_b64": base64.b64encode(content).decode("ascii")}
            for name, ctype, content in (attachments or [])]})


SMS_MAX_LENGTH = 480


def enqueue_sms(session, phone: str, text: str, topic: str = "") -> OutboxMessage:
    """Queue a text message to ``phone`` (sent by the drain through ``ccas_sms_send``)."""
    return adopted_rows.inserted(session, OutboxMessage, dict(
        kind=OutboxKind.sms, recipient=phone, subject="SMS", topic=topic[:200],
        payload={"text": text[:SMS_MAX_LENGTH]},
    ))


def enqueue_webhook(session, url: str, event: str, data: dict, organisation_id=None,
                    topic: str = "") -> OutboxMessage:
    """Queue a signed webhook call to a partner's system."""
    return adopted_rows.inserted(session, OutboxMessage, dict(
        kind=OutboxKind.webhook, recipient=url, subject=event, topic=topic[:200],
        payload={"event": event, "data": data,
                 "organisation_id": str(organisation_id) if organisation_id else None},
    ))
