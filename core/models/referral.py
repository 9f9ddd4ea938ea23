"""Referrals between the organisations of a tenant's network, their status history and
attachments, and the API's idempotency keys.

A referral goes from an organisation (a partner, or the CCAS when it reorients a case) to
another. Its status follows ``sent`` → ``received`` → ``accepted`` | ``declined`` (or
``expired``), then mirrors the milestones of the case it created that a referrer may know.
Attachments are stored in the database (``LargeBinary``), size and type checked by
``core.referrals`` before they are written.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .organisation import Organisation


class ReferralStatus(enum.StrEnum):
    sent = "sent"
    received = "received"
    accepted = "accepted"
    #: A partner working on an accepted referral, then reporting what came of it.
    in_progress = "in_progress"
    done = "done"
    declined = "declined"
    expired = "expired"
    in_evaluation = "in_evaluation"
    submitted_to_lender = "submitted_to_lender"
    granted = "granted"
    refused = "refused"
    reoriented = "reoriented"
    abandoned = "abandoned"
    closed = "closed"


REFERRAL_STATUS_LABELS = {
    ReferralStatus.sent: "Envoyée",
    ReferralStatus.received: "Reçue",
    ReferralStatus.accepted: "Acceptée",
    ReferralStatus.in_progress: "En cours de traitement",
    ReferralStatus.done: "Suite donnée",
    ReferralStatus.declined: "Déclinée",
    ReferralStatus.expired: "Expirée sans réponse",
    ReferralStatus.in_evaluation: "En évaluation",
    ReferralStatus.submitted_to_lender: "Transmise au prêteur",
    ReferralStatus.granted: "Prêt accordé",
    ReferralStatus.refused: "Prêt refusé",
    ReferralStatus.reoriented: "Réorientée",
    ReferralStatus.abandoned: "Abandonnée",
    ReferralStatus.closed: "Clôturée",
}

#: Statuses waiting for the receiving organisation's answer.
AWAITING_ANSWER = frozenset({ReferralStatus.sent, ReferralStatus.received})

#: Statuses after which a referral asks nothing more of anyone.
CLOSED = frozenset({ReferralStatus.done, ReferralStatus.declined, ReferralStatus.expired,
                    ReferralStatus.granted, ReferralStatus.refused, ReferralStatus.reoriented,
                    ReferralStatus.abandoned, ReferralStatus.closed})

#: The tone of a status's badge (its colour, always beside its words), read like a case
#: state's outcome; a status not listed is still in progress.
TONES = {ReferralStatus.accepted: "granted", ReferralStatus.granted: "granted",
         ReferralStatus.done: "granted", ReferralStatus.declined: "refused",
         ReferralStatus.refused: "refused", ReferralStatus.expired: "abandoned",
         ReferralStatus.abandoned: "abandoned", ReferralStatus.closed: "abandoned",
         ReferralStatus.reoriented: "reoriented"}


class Referral(TenantScoped, Base):
    __tablename__ = "referrals"
    __table_args__ = (
        tenant_fk("from_organisation_id", "organisations"),
        tenant_fk("to_organisation_id", "organisations"),
        tenant_fk("created_by_id", "users"),
        tenant_fk("case_id", "cases"),
        tenant_fk("source_case_id", "cases"),
        Index("ix_referrals_from", "tenant_id", "from_organisation_id", "updated_at"),
        Index("ix_referrals_to", "tenant_id", "to_organisation_id", "status"),
        Index("ix_referrals_updated", "tenant_id", "updated_at", "id"),
        # the referral lists' default order (last change of status first): read backwards
        # until 500 of the reader's are found, whatever the tenant's size
        Index("ix_referrals_changed", "tenant_id", "status_changed_at", "updated_at", "id"),
    )

    from_organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    to_organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    #: The person's minimal data, as the referrer typed it.
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    phone: Mapped[str | None] = mapped_column(String(30), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    purpose: Mapped[str] = mapped_column(String(24))
    amount_requested: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    #: The person's consent to be referred: required, with when and who recorded it.
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consent_by: Mapped[str] = mapped_column(String(200), default="")
    #: How the consent was given: ``in_person``, ``phone``, ``written`` (asked by the
    #: CCAS at a reorientation) or ``referrer`` (declared by the referring partner).
    consent_method: Mapped[str | None] = mapped_column(String(20), default=None)
    #: What came of it, reported by the receiving partner (``reasons`` "outcome").
    outcome: Mapped[str | None] = mapped_column(String(80), default=None)
    #: Fields required by the receiving organisation's plugin (validated by its schema).
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[ReferralStatus] = mapped_column(
        Enum(ReferralStatus, native_enum=False, length=24, validate_strings=True),
        default=ReferralStatus.sent,
    )
    decline_reason: Mapped[str | None] = mapped_column(String(80), default=None)
    #: The case opened by acceptance (incoming) …
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    #: … or the case whose reorientation created this referral (outgoing).
    source_case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    from_organisation: Mapped[Organisation] = relationship(
        primaryjoin="Referral.from_organisation_id == Organisation.id",
        foreign_keys=[from_organisation_id], lazy="joined",
    )
    to_organisation: Mapped[Organisation] = relationship(
        primaryjoin="Referral.to_organisation_id == Organisation.id",
        foreign_keys=[to_organisation_id], lazy="joined",
    )
    history: Mapped[list[ReferralStatusChange]] = relationship(
        primaryjoin="Referral.id == ReferralStatusChange.referral_id",
        foreign_keys="ReferralStatusChange.referral_id",
        order_by="ReferralStatusChange.at", viewonly=True,
    )
    attachments: Mapped[list[ReferralAttachment]] = relationship(
        primaryjoin="Referral.id == ReferralAttachment.referral_id",
        foreign_keys="ReferralAttachment.referral_id",
        order_by="ReferralAttachment.created_at", viewonly=True,
    )

    @property
    def reference(self) -> str:
        """Short reference for people (mails, pages): the id's first 8 hex digits."""
        return self.id.hex[:8].upper() if self.id else ""

    @property
    def status_label(self) -> str:
        return REFERRAL_STATUS_LABELS[ReferralStatus(self.status)]

    @property
    def initials(self) -> str:
        return f"{(self.first_name or '?')[:1]}. {(self.last_name or '?')[:1]}."


class ReferralStatusChange(TenantScoped, Base):
    """One status change of a referral: from, to, when, who, why (coded)."""

    __tablename__ = "referral_status_changes"
    __table_args__ = (
        tenant_fk("referral_id", "referrals", ondelete="CASCADE"),
        Index("ix_referral_status_changes_referral", "tenant_id", "referral_id"),
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    from_status: Mapped[str | None] = mapped_column(String(24), default=None)
    to_status: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_label: Mapped[str] = mapped_column(String(300), default="")
    reason_code: Mapped[str | None] = mapped_column(String(80), default=None)
    #: A message meant for the referrer (decline); never a case note.
    message: Mapped[str] = mapped_column(Text, default="")


class ReferralAttachment(TenantScoped, Base):
    """A document sent with a referral, kept in the database (size and type checked)."""

    __tablename__ = "referral_attachments"
    __table_args__ = (
        tenant_fk("referral_id", "referrals", ondelete="CASCADE"),
        Index("ix_referral_attachments_referral", "tenant_id", "referral_id"),
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(TenantScoped, Base):
    """An ``Idempotency-Key`` seen on an API POST, scoped by tenant and user.

    ``fingerprint`` is a digest of method, path and body; ``response_*`` hold the first
    response, replayed for the same key and body. Kept at least 24 hours.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "key"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        Index("ix_idempotency_keys_expires", "tenant_id", "expires_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: ``in_progress`` until the first request finishes, then ``done``.
    state: Mapped[str] = mapped_column(String(16), default="in_progress")
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    response_location: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
