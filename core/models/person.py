"""A person the CCAS helps (applicant, borrower, referred person)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, Enum, Index, Integer, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow


class Employment(enum.StrEnum):
    cdi = "cdi"
    cdd = "cdd"
    interim = "interim"
    part_time = "part_time"
    unemployed = "unemployed"
    minimum_benefits = "minimum_benefits"
    retired = "retired"
    student = "student"
    self_employed = "self_employed"
    other = "other"


EMPLOYMENT_LABELS = {
    Employment.cdi: "CDI",
    Employment.cdd: "CDD",
    Employment.interim: "Intérim",
    Employment.part_time: "Temps partiel",
    Employment.unemployed: "Demandeur d'emploi",
    Employment.minimum_benefits: "Minima sociaux",
    Employment.retired: "Retraité",
    Employment.student: "Étudiant",
    Employment.self_employed: "Indépendant",
    Employment.other: "Autre",
}


class Person(TenantScoped, Base):
    __tablename__ = "persons"
    __table_args__ = (
        # Duplicate detection and the legacy import look people up by birth date. Not
        # tenant_id first: the primary key must be the only index leading with tenant_id,
        # or foreign-key checks may pick another one (migration 0014).
        Index("ix_persons_birth_date", "birth_date", "tenant_id"),
    )

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    phone: Mapped[str | None] = mapped_column(String(30), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    address: Mapped[str | None] = mapped_column(String(300), default=None)
    postal_code: Mapped[str | None] = mapped_column(String(10), default=None)
    city: Mapped[str | None] = mapped_column(String(120), default=None)
    adults: Mapped[int] = mapped_column(Integer, default=1)
    #: Ages of the children in the household, e.g. [3, 15].
    children_ages: Mapped[list] = mapped_column(JSON, default=list)
    employment: Mapped[Employment | None] = mapped_column(
        Enum(Employment, native_enum=False, length=20, validate_strings=True), default=None
    )
    monthly_resources: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Last contact with the person: the retention clock (RGPD) starts here.
    last_contact_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Relationship(enum.StrEnum):
    spouse = "spouse"
    partner = "partner"
    child = "child"
    parent = "parent"
    sibling = "sibling"
    other = "other"


RELATIONSHIP_LABELS = {
    Relationship.spouse: "Conjoint(e) marié(e) ou pacsé(e)",
    Relationship.partner: "Concubin(e)",
    Relationship.child: "Enfant",
    Relationship.parent: "Parent",
    Relationship.sibling: "Frère ou sœur",
    Relationship.other: "Autre membre du foyer",
}


class HouseholdMember(TenantScoped, Base):
    """Someone living in the person's household (the person excluded)."""

    __tablename__ = "household_members"
    __table_args__ = (
        tenant_fk("person_id", "persons", ondelete="CASCADE"),
        Index("ix_household_members_person", "tenant_id", "person_id"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    relationship: Mapped[Relationship] = mapped_column(
        Enum(Relationship, native_enum=False, length=12, validate_strings=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def relationship_label(self) -> str:
        return RELATIONSHIP_LABELS[self.relationship]

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
