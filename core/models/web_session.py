"""Server-side web sessions (issue 18): the cookie holds only a random id; the session's
content lives here, so that it can be ended (logout, "end this session", "end all other
sessions") and listed.

Global table: the session is looked up before the request's tenant is known, and an
operator's session has no tenant. The row holds the SHA-256 digest of the cookie's value,
never the value: reading the table does not give a usable session.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class WebSession(Base):
    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_account", "account"),
                      Index("ix_web_sessions_expires_at", "expires_at"))

    #: Public id (the sessions page names a session by it): not the cookie's value.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: ``u:<tenant id>:<user id>``, ``o:<operator id>``, or ``""`` before sign-in.
    account: Mapped[str] = mapped_column(String(80), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
