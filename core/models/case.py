"""A microcredit request ("case") and its recorded transitions."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    Enum,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .organisation import Organisation
from .person import Person
from .user import User


class State(enum.StrEnum):
    """The core's states (``core.workflow.definitions.CORE`` describes them); a plugin may
    add its own (``ccas_case_workflow``): ``Case.state`` is a string."""

    intake = "intake"
    documents_requested = "documents_requested"
    evaluation = "evaluation"
    instruction = "instruction"
    submitted_to_lender = "submitted_to_lender"
    granted = "granted"
    refused = "refused"
    adjourned = "adjourned"
    signing = "signing"
    withdrawal_period = "withdrawal_period"
    disbursed = "disbursed"
    repaying = "repaying"
    closed = "closed"
    reoriented = "reoriented"
    abandoned = "abandoned"
    withdrawn = "withdrawn"


class Purpose(enum.StrEnum):
    mobility = "mobility"
    housing = "housing"
    household_equipment = "household_equipment"
    health = "health"
    training = "training"
    employment = "employment"
    debts = "debts"
    other = "other"


PURPOSE_LABELS = {
    Purpose.mobility: "Mobilité",
    Purpose.housing: "Logement",
    Purpose.household_equipment: "Équipement ménager",
    Purpose.health: "Santé",
    Purpose.training: "Formation",
    Purpose.employment: "Emploi",
    Purpose.debts: "Dettes",
    Purpose.other: "Autre",
}


class Source(enum.StrEnum):
    phone = "phone"
    walk_in = "walk_in"
    referral = "referral"
    import_ = "import"


SOURCE_LABELS = {
    Source.phone: "Téléphone",
    Source.walk_in: "Accueil physique",
    Source.referral: "Orientation d'un partenaire",
    Source.import_: "Reprise d'historique",
}


class Case(TenantScoped, Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reference"),
        UniqueConstraint("tenant_id", "import_key"),
        tenant_fk("person_id", "persons"),
        tenant_fk("social_worker_id", "users"),
        tenant_fk("referring_organisation_id", "organisations"),
        tenant_fk("co_borrower_id", "household_members"),
        # the case list's sort (newest intake, then reference), filtered or not (0020)
        Index("ix_cases_state", "tenant_id", "state", "intake_date", "reference"),
        Index("ix_cases_intake_date", "tenant_id", "intake_date", "reference"),
    )

    reference: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    purpose: Mapped[Purpose] = mapped_column(
        Enum(Purpose, native_enum=False, length=24, validate_strings=True)
    )
    amount_requested: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    project: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[Source] = mapped_column(
        Enum(Source, native_enum=False, length=16, validate_strings=True), default=Source.phone
    )
    referring_organisation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    social_worker_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    #: A state of the tenant's workflow: a core ``State`` or a plugin's (24 characters).
    state: Mapped[str] = mapped_column(String(24), default=State.intake.value)
    #: Date the request was taken (local date of the tenant); reports count requests by it.
    intake_date: Mapped[date] = mapped_column(Date)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Where the case was reoriented (destination code) when it was.
    reoriented_to: Mapped[str | None] = mapped_column(String(80), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: Set on cases brought by the legacy import (``core.importer``): ``ref:<reference>`` or
    #: ``sha256:<content hash>``; re-importing the same row finds it and creates nothing.
    import_key: Mapped[str | None] = mapped_column(String(80), default=None)
    #: A member of the person's household who borrows with them (``core.cases.household``).
    co_borrower_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    #: The information notice on data use given to the person (``core.privacy.notice``):
    #: its version and the day it was given.
    notice_version: Mapped[str | None] = mapped_column(String(40), default=None)
    notice_given_on: Mapped[date | None] = mapped_column(Date, default=None)

    __mapper_args__ = {"version_id_col": version}

    person: Mapped[Person] = relationship(
        primaryjoin="Case.person_id == Person.id", foreign_keys=[person_id], lazy="joined"
    )
    social_worker: Mapped[User | None] = relationship(
        primaryjoin="Case.social_worker_id == User.id", foreign_keys=[social_worker_id]
    )
    referring_organisation: Mapped[Organisation | None] = relationship(
        primaryjoin="Case.referring_organisation_id == Organisation.id",
        foreign_keys=[referring_organisation_id],
    )
    transitions: Mapped[list[CaseTransition]] = relationship(
        primaryjoin="Case.id == CaseTransition.case_id",
        foreign_keys="CaseTransition.case_id",
        order_by="CaseTransition.at",
        viewonly=True,
    )


class CaseTransition(TenantScoped, Base):
    """One move of a case from a state to another: who, when, why."""

    __tablename__ = "case_transitions"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        Index("ix_case_transitions_case", "tenant_id", "case_id"),
        Index("ix_case_transitions_to_at", "tenant_id", "to_state", "at"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    from_state: Mapped[str | None] = mapped_column(String(24), default=None)
    to_state: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    actor_label: Mapped[str] = mapped_column(String(300), default="")
    reason_code: Mapped[str | None] = mapped_column(String(80), default=None)
    reason_text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
