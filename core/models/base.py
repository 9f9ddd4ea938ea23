"""Declarative base and the tenant-ownership mixin.

Every tenant-owned table has ``tenant_id`` as the first column of its primary key
(Citus-compatible: the tenant is the distribution key) and every unique constraint and
foreign key between tenant tables includes it. ``core.tenancy`` scopes ORM statements on
these models and stamps new rows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from .. import clock

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return clock.now()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetime stored in UTC; SQLite keeps no offset, so it is added back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use an aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TenantScoped:
    """Mixin for tenant-owned rows: ``tenant_id`` first in the primary key, UUID ``id``.

    Queries on subclasses are filtered to the current tenant by ``core.tenancy``; a query
    with no tenant set raises ``TenantNotSet``.
    """

    __tenant_scoped__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr takes the class
        return mapped_column(
            Integer, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, sort_order=-2
        )

    @declared_attr
    def id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(Uuid, primary_key=True, default=uuid.uuid4, sort_order=-1)


def tenant_fk(column: str, target: str, **kw):
    """Composite foreign key ``(tenant_id, column) -> target(tenant_id, id)``."""
    return ForeignKeyConstraint(
        ["tenant_id", column], [f"{target}.tenant_id", f"{target}.id"], **kw
    )


def is_tenant_model(cls) -> bool:
    return bool(getattr(cls, "__tenant_scoped__", False))


def tenant_tables() -> list[str]:
    """Names of every tenant-owned table known to the metadata (core and plugins)."""
    return sorted(t.name for t in Base.metadata.sorted_tables if "tenant_id" in t.c)
