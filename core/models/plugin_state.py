"""Per-tenant plugin enablement and validated settings: the one place it is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantScoped, UTCDateTime, utcnow


class PluginState(TenantScoped, Base):
    __tablename__ = "plugin_states"
    __table_args__ = (UniqueConstraint("tenant_id", "plugin_name"),)

    plugin_name: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
