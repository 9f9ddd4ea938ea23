"""Other aids first: an aid or scheme a plugin suggested for a case, and how the social
worker resolved it (``core.features.suggestions``)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .user import User


class SuggestionStatus(enum.StrEnum):
    open = "open"
    mobilised = "mobilised"
    requested = "requested"
    not_applicable = "not_applicable"


SUGGESTION_STATUS_LABELS = {
    SuggestionStatus.open: "À examiner",
    SuggestionStatus.mobilised: "Aide mobilisée",
    SuggestionStatus.requested: "Demande faite",
    SuggestionStatus.not_applicable: "Ne s'applique pas",
}


class CaseSuggestion(TenantScoped, Base):
    """One suggestion of one plugin for one case (``(plugin, code)`` is unique per case)."""

    __tablename__ = "case_suggestions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "case_id", "plugin", "code"),
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        tenant_fk("resolved_by_id", "users"),
        tenant_fk("overridden_by_id", "users"),
        Index("ix_case_suggestions_status", "tenant_id", "status"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    plugin: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    why: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")
    #: A blocking suggestion vetoes instruction until it is overridden with a reason.
    blocking: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[SuggestionStatus] = mapped_column(
        Enum(SuggestionStatus, native_enum=False, length=16, validate_strings=True),
        default=SuggestionStatus.open,
    )
    #: Why the suggestion does not apply (required for ``not_applicable``), or a note.
    reason: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    overridden_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resolved_by: Mapped[User | None] = relationship(
        primaryjoin="CaseSuggestion.resolved_by_id == User.id", foreign_keys=[resolved_by_id]
    )
    overridden_by: Mapped[User | None] = relationship(
        primaryjoin="CaseSuggestion.overridden_by_id == User.id",
        foreign_keys=[overridden_by_id],
    )

    @property
    def resolved(self) -> bool:
        return self.status != SuggestionStatus.open

    @property
    def overridden(self) -> bool:
        return self.overridden_at is not None

    @property
    def holds_instruction(self) -> bool:
        """Whether this suggestion still vetoes the move to instruction."""
        return (self.blocking and not self.overridden) or not self.resolved
