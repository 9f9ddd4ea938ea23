"""Appointments of a person with a social worker (interviews, instruction, follow-up)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Enum, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .case import Case
from .user import User


class AppointmentMode(enum.StrEnum):
    in_person = "in_person"
    phone = "phone"


class AppointmentStatus(enum.StrEnum):
    planned = "planned"
    held = "held"
    missed = "missed"
    moved = "moved"


class AppointmentKind(enum.StrEnum):
    """What the staff time was spent on (for the manager's time-per-step figures)."""

    intake = "intake"
    instruction = "instruction"
    accompaniment = "accompaniment"


MODE_LABELS = {AppointmentMode.in_person: "Sur place", AppointmentMode.phone: "Par téléphone"}
APPOINTMENT_STATUS_LABELS = {
    AppointmentStatus.planned: "Prévu",
    AppointmentStatus.held: "Tenu",
    AppointmentStatus.missed: "Personne absente",
    AppointmentStatus.moved: "Déplacé",
}
KIND_LABELS = {
    AppointmentKind.intake: "Entretien d'évaluation",
    AppointmentKind.instruction: "Instruction du dossier",
    AppointmentKind.accompaniment: "Accompagnement",
}


class Appointment(TenantScoped, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        tenant_fk("social_worker_id", "users"),
        tenant_fk("moved_to_id", "appointments"),
        Index("ix_appointments_worker_start", "tenant_id", "social_worker_id", "starts_at"),
        Index("ix_appointments_case", "tenant_id", "case_id"),
        Index("ix_appointments_reminder", "tenant_id", "status", "starts_at"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    social_worker_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: Aware, stored in UTC; shown in the tenant's timezone.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    mode: Mapped[AppointmentMode] = mapped_column(
        Enum(AppointmentMode, native_enum=False, length=12, validate_strings=True),
        default=AppointmentMode.in_person,
    )
    place: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[AppointmentKind] = mapped_column(
        Enum(AppointmentKind, native_enum=False, length=16, validate_strings=True),
        default=AppointmentKind.intake,
    )
    status: Mapped[AppointmentStatus] = mapped_column(
        Enum(AppointmentStatus, native_enum=False, length=10, validate_strings=True),
        default=AppointmentStatus.planned,
    )
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: When moved: the appointment that replaces this one.
    moved_to_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: Bumped when the time or place changes (ICS ``SEQUENCE``).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_label: Mapped[str] = mapped_column(String(300), default="")

    case: Mapped[Case] = relationship(
        primaryjoin="Appointment.case_id == Case.id", foreign_keys=[case_id], viewonly=True
    )
    social_worker: Mapped[User] = relationship(
        primaryjoin="Appointment.social_worker_id == User.id",
        foreign_keys=[social_worker_id], viewonly=True,
    )

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def status_label(self) -> str:
        return APPOINTMENT_STATUS_LABELS[self.status]

    @property
    def mode_label(self) -> str:
        return MODE_LABELS[self.mode]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]
