"""Audit trail: who did or read what, when, from where. Written in the same transaction as
the change it records; the application offers no way to edit or delete a row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantScoped, UTCDateTime, utcnow


class AuditEvent(TenantScoped, Base):
    __tablename__ = "audit_events"

    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(300))  # "user:<email>", "token:<id>", "cli"
    action: Mapped[str] = mapped_column(String(64))  # e.g. "user.create", "case.read"
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
