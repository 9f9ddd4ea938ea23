"""Writing to the outbox (same transaction as the change). Delivery: ``core.outbox.delivery``."""

from __future__ import annotations

import base64

from ..models.outbox import OutboxKind, OutboxMessage


def enqueue_email(session, to: str, subject: str, text: str, html: str | None = None,
                  attachments: list[tuple[str, str, bytes]] | None = None,
                  topic: str = "") -> OutboxMessage:
    """Queue an e-mail. ``attachments``: ``(filename, content_type, bytes)``."""
    message = OutboxMessage(
        kind=OutboxKind.email, recipient=to, subject=subject[:300], topic=topic[:200],
        payload={
            "text": text,
            "html": html,
            "attachments": [
                {"filename": name, "content_type": ctype,
                 "content_b64": base64.b64encode(content).decode("ascii")}
                for name, ctype, content in (attachments or [])
            ],
        },
    )
    session.add(message)
    return message


SMS_MAX_LENGTH = 480


def enqueue_sms(session, phone: str, text: str, topic: str = "") -> OutboxMessage:
    """Queue a text message to ``phone`` (sent by the drain through ``ccas_sms_send``)."""
    message = OutboxMessage(
        kind=OutboxKind.sms, recipient=phone, subject="SMS", topic=topic[:200],
        payload={"text": text[:SMS_MAX_LENGTH]},
    )
    session.add(message)
    return message


def enqueue_webhook(session, url: str, event: str, data: dict, organisation_id=None,
                    topic: str = "") -> OutboxMessage:
    """Queue a signed webhook call to a partner's system."""
    message = OutboxMessage(
        kind=OutboxKind.webhook, recipient=url, subject=event, topic=topic[:200],
        payload={"event": event, "data": data,
                 "organisation_id": str(organisation_id) if organisation_id else None},
    )
    session.add(message)
    return message
