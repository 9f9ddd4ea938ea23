"""The documents a person must bring for a case (the checklist) and their status."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Date, Enum, Index, Integer, String, Text, UniqueConstraint, Uuid
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


class StoredDocument(TenantScoped, Base):
    """A file attached to a case (a scan of an identity card, a bank statement…).

    The bytes live in the file store (``core.storage``) under ``storage_key``, never in the
    database nor under the web root; ``kind`` is a document code (the checklist's
    ``identity``, ``tax_notice``… or ``other``)."""

    __tablename__ = "stored_documents"
    __stored_file_key__ = "storage_key"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        tenant_fk("uploaded_by_id", "users"),
        UniqueConstraint("tenant_id", "storage_key"),
        Index("ix_stored_documents_case", "tenant_id", "case_id", "kind"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(80))
    issued_on: Mapped[date | None] = mapped_column(Date, default=None)
    expires_on: Mapped[date | None] = mapped_column(Date, default=None)
    #: The file's name as sent (shown to staff; personal: deleted by a purge).
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    uploaded_by_label: Mapped[str] = mapped_column(String(300), default="")

    case: Mapped[Case] = relationship(
        primaryjoin="StoredDocument.case_id == Case.id", foreign_keys=[case_id], viewonly=True
    )

    def valid_on(self, day: date) -> bool:
        """Not expired on ``day`` (no expiry date: valid)."""
        return self.expires_on is None or self.expires_on >= day
