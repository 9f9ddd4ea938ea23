"""Spent one-time form tokens (``core.web.form_tokens``): a form sent twice, or by two
requests at the same instant, is saved once."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow


class FormToken(TenantScoped, Base):
    """A one-time form token that has been used. ``id`` is the token's random nonce: the
    primary key ``(tenant_id, id)`` is the unique key a second use collides with.

    Holds no personal data: a nonce, the user who sent the form, when, and the id of the
    record the form created (to send a replay to it). Rows are purged once the token has
    expired (``ccas referrals remind``).
    """

    __tablename__ = "form_tokens"
    __table_args__ = (
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        Index("ix_form_tokens_spent_at", "tenant_id", "spent_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: What the first sending created (a case, a referral…), once it is saved.
    result_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
