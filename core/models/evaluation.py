"""Evaluation of a case by the social worker: interviews and the budget sheet.

An interview has a *shared* note (what the CCAS team and, through the file summary, the
lender may know) and a *private* note: only the CCAS social workers and the scheme manager
read it (``core.web.cases`` and ``core.api.cases`` enforce it; see
:data:`core.policy.SOCIAL_WORKERS`). The budget sheet is a set of monthly amounts, one per
category of resource or charge.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Enum, Index, Integer, Numeric, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .user import User


class BudgetKind(enum.StrEnum):
    resource = "resource"
    charge = "charge"


#: Monthly resources of the household, by category (code -> French label).
RESOURCE_CATEGORIES: dict[str, str] = {
    "salary": "Salaires et revenus d'activité",
    "unemployment": "Allocations chômage",
    "minimum_benefits": "Minima sociaux (RSA, AAH, ASS…)",
    "family_benefits": "Prestations familiales",
    "housing_benefit": "Aide au logement (APL, ALS)",
    "pension": "Retraite, pension d'invalidité",
    "alimony_received": "Pension alimentaire reçue",
    "other_resource": "Autres ressources",
}

#: Monthly fixed charges of the household, by category (code -> French label).
CHARGE_CATEGORIES: dict[str, str] = {
    "rent": "Loyer ou remboursement immobilier",
    "energy": "Énergie (électricité, gaz, chauffage)",
    "water": "Eau",
    "insurance": "Assurances (habitation, véhicule, mutuelle)",
    "phone_internet": "Téléphone, internet",
    "transport": "Transports",
    "childcare": "Garde d'enfants, cantine",
    "taxes": "Impôts et taxes",
    "loans": "Crédits en cours",
    "alimony_paid": "Pension alimentaire versée",
    "other_charge": "Autres charges",
}


class Interview(TenantScoped, Base):
    """An evaluation interview with the social worker."""

    __tablename__ = "interviews"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        tenant_fk("social_worker_id", "users"),
        Index("ix_interviews_case", "tenant_id", "case_id"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    held_on: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    social_worker_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    shared_note: Mapped[str] = mapped_column(Text, default="")
    private_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    social_worker: Mapped[User | None] = relationship(
        primaryjoin="Interview.social_worker_id == User.id", foreign_keys=[social_worker_id]
    )


class BudgetLine(TenantScoped, Base):
    """One monthly amount of the case's budget sheet (a resource or a charge category)."""

    __tablename__ = "budget_lines"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "case_id", "category"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[BudgetKind] = mapped_column(
        Enum(BudgetKind, native_enum=False, length=10, validate_strings=True)
    )
    category: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Synthesis(TenantScoped, Base):
    """One version of the social worker's written synthesis of the situation (the four
    subjects of the evaluation). Versions are kept: the newest is the synthesis."""

    __tablename__ = "case_syntheses"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        tenant_fk("written_by_id", "users"),
        UniqueConstraint("tenant_id", "case_id", "number"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: 1, 2, 3… per case.
    number: Mapped[int] = mapped_column(Integer)
    request: Mapped[str] = mapped_column(Text, default="")
    project: Mapped[str] = mapped_column(Text, default="")
    resources: Mapped[str] = mapped_column(Text, default="")
    prospects: Mapped[str] = mapped_column(Text, default="")
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    written_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    written_by_label: Mapped[str] = mapped_column(String(300), default="")
