"""The outbox: every notification is written here in the same transaction as the change
that causes it, and delivered later by ``ccas outbox drain``. Nothing is sent from inside
a request."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantScoped, UTCDateTime, utcnow


class OutboxKind(enum.StrEnum):
    email = "email"
    webhook = "webhook"
    #: A text message, sent through the provider plugin (hook ``ccas_sms_send``).
    sms = "sms"


class OutboxStatus(enum.StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    dead = "dead"  # gave up after the maximum number of attempts


class OutboxMessage(TenantScoped, Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    kind: Mapped[OutboxKind] = mapped_column(
        Enum(OutboxKind, native_enum=False, length=10, validate_strings=True)
    )
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=10, validate_strings=True),
        default=OutboxStatus.pending,
    )
    #: e-mail: the address; webhook: the URL.
    recipient: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300), default="")
    #: e-mail: {"text": ..., "html": ..., "attachments": [{"filename", "content_type",
    #: "content_b64"}]}; webhook: {"event": ..., "data": {...}, "organisation_id": ...}
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    #: What caused it, e.g. "referral:<id>:accepted" (for display and de-duplication).
    topic: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
