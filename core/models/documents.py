"""The documents a person must bring for a case (the checklist) and their status."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .case import Case


class DocumentStatus(enum.StrEnum):
    requested = "requested"
    received = "received"
    waived = "waived"


DOCUMENT_STATUS_LABELS = {
    DocumentStatus.requested: "Demandée",
    DocumentStatus.received: "Reçue",
    DocumentStatus.waived: "Non requise",
}


class CaseDocument(TenantScoped, Base):
    """One line of a case's checklist: a document asked of the person, and where it is."""

    __tablename__ = "case_documents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "case_id", "code"),
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        tenant_fk("updated_by_id", "users"),
        Index("ix_case_documents_case", "tenant_id", "case_id"),
        Index("ix_case_documents_status", "tenant_id", "status"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: Stable code, e.g. ``identity`` or a plugin's ``driving_licence``.
    code: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(300))
    #: Where the requirement comes from: ``tenant`` (the tenant's list), a plugin name,
    #: or ``staff`` (added by hand on the case).
    source: Mapped[str] = mapped_column(String(80), default="tenant")
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[DocumentStatus] = mapped_column(
        Enum(DocumentStatus, native_enum=False, length=12, validate_strings=True),
        default=DocumentStatus.requested,
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    updated_by_label: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(
        primaryjoin="CaseDocument.case_id == Case.id", foreign_keys=[case_id], viewonly=True
    )

    @property
    def status_label(self) -> str:
        return DOCUMENT_STATUS_LABELS[self.status]
