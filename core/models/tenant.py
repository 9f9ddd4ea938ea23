"""Tenant: one municipality's deployment. A global (not tenant-scoped) table."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set by the platform operator: the city's pages and API answer 403 until resumed.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: Changes with every change of the tenant's plugins (enabled or not, settings):
    #: each process keeps the enabled plugins of a tenant under it, read with the tenant
    #: row every request reads anyway (``core.plugins.enabled_plugins``). A random value,
    #: so that a tenant restored under an old id never meets an old entry. Whatever
    #: writes ``plugin_states`` sets a new one (``core.plugins.set_enabled`` and
    #: ``update_settings``; a migration that changes them must set a new one too).
    plugins_stamp: Mapped[str | None] = mapped_column(String(32), default=lambda: uuid.uuid4().hex)

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"
