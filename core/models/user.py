"""Staff and partner users (tenant-scoped) and platform operators (no tenant)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..policy import Role
from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .organisation import Organisation


class User(TenantScoped, Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        tenant_fk("organisation_id", "organisations"),
    )

    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, validate_strings=True)
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bumped on logout-everywhere, password change and deactivation: ends live sessions.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    organisation: Mapped[Organisation] = relationship(
        primaryjoin="User.organisation_id == Organisation.id",
        foreign_keys=[organisation_id],
        lazy="joined",
    )

    # Flask-Login protocol -------------------------------------------------------------
    is_authenticated = True
    is_anonymous = False
    is_operator = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"u:{self.tenant_id}:{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email} ({self.role})>"


class Operator(Base):
    """A platform operator: creates tenants, enables plugins, watches health.

    Kept in its own global table so that ``users`` always has a tenant and its
    row-level security stays strict.
    """

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    is_authenticated = True
    is_anonymous = False
    is_operator = True
    role = "operator"
    tenant_id = None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"o:{self.id}:{self.session_version}"
