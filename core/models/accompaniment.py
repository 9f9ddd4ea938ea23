"""Accompaniment for the loan's whole life, budget workshops and staff time.

* :class:`AccompanimentPlan` / :class:`FollowUp`: the follow-up contacts planned from the
  signed contract (``core.features.accompaniment``) and recorded by the social worker, with a
  *shared* note and a *private* note that only the social workers and the manager read
  (:data:`core.policy.SOCIAL_WORKERS`). A follow-up flagged ``final`` is the closing summary.
* :class:`AccompanimentTask`: something the social worker must act on (late instalment,
  bounced payment, a change the borrower reports), with a suggested action.
* :class:`WorkshopTheme`, :class:`WorkshopSession`, :class:`WorkshopInvitation`: collective
  budget workshops, invitations, registrations, attendance and a short evaluation.
* :class:`TimeEntry`: staff time, by activity and category (intake, instruction,
  accompaniment), for the manager's time split.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .case import Case
from .person import Person
from .user import User


def _enum(cls, length: int):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


# -- follow-ups --------------------------------------------------------------------------


class Channel(enum.StrEnum):
    phone = "phone"
    meeting = "meeting"
    home_visit = "home_visit"
    email = "email"


CHANNEL_LABELS = {
    Channel.phone: "Téléphone",
    Channel.meeting: "Rendez-vous au CCAS",
    Channel.home_visit: "Visite à domicile",
    Channel.email: "Courriel",
}


class AccompanimentPlan(TenantScoped, Base):
    """The accompaniment contract's plan for one case (created at the signing)."""

    __tablename__ = "accompaniment_plans"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "case_id"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: Local date of the tripartite signing (the plan counts months from it).
    signed_on: Mapped[date] = mapped_column(Date)
    #: Loan duration in months (from the lender's decision), ``None`` when unknown.
    loan_months: Mapped[int | None] = mapped_column(Integer, default=None)
    #: The months after signing at which follow-ups were planned.
    months: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowUp(TenantScoped, Base):
    """A follow-up contact: planned (``planned_on``) and/or done (``done_on``)."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        tenant_fk("worker_id", "users"),
        Index("ix_follow_ups_case", "tenant_id", "case_id"),
        Index("ix_follow_ups_due", "tenant_id", "done_on", "planned_on"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: Month after signing this contact was planned for (``None``: unplanned contact).
    plan_month: Mapped[int | None] = mapped_column(Integer, default=None)
    planned_on: Mapped[date | None] = mapped_column(Date, default=None)
    done_on: Mapped[date | None] = mapped_column(Date, default=None)
    channel: Mapped[Channel | None] = mapped_column(_enum(Channel, 12), default=None)
    duration_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    shared_note: Mapped[str] = mapped_column(Text, default="")
    private_note: Mapped[str] = mapped_column(Text, default="")
    #: The closing summary of the accompaniment (required to close the case).
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    worker_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(
        primaryjoin="FollowUp.case_id == Case.id", foreign_keys=[case_id], viewonly=True
    )
    worker: Mapped[User | None] = relationship(
        primaryjoin="FollowUp.worker_id == User.id", foreign_keys=[worker_id], viewonly=True
    )

    @property
    def done(self) -> bool:
        return self.done_on is not None

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS[self.channel] if self.channel else ""


# -- tasks -------------------------------------------------------------------------------


class TaskKind(enum.StrEnum):
    late_instalment = "late_instalment"
    bounced_payment = "bounced_payment"
    borrower_change = "borrower_change"
    loan_default = "loan_default"
    other = "other"


TASK_KIND_LABELS = {
    TaskKind.late_instalment: "Échéance en retard",
    TaskKind.bounced_payment: "Prélèvement rejeté",
    TaskKind.borrower_change: "Changement signalé par l'emprunteur",
    TaskKind.loan_default: "Défaillance déclarée par le prêteur",
    TaskKind.other: "Autre",
}


class TaskStatus(enum.StrEnum):
    open = "open"
    done = "done"


TASK_STATUS_LABELS = {TaskStatus.open: "À traiter", TaskStatus.done: "Traitée"}


class AccompanimentTask(TenantScoped, Base):
    """Something the social worker must act on, with a suggested action."""

    __tablename__ = "accompaniment_tasks"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        tenant_fk("assigned_to_id", "users"),
        Index("ix_accompaniment_tasks_open", "tenant_id", "status", "assigned_to_id"),
        Index("ix_accompaniment_tasks_case", "tenant_id", "case_id"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[TaskKind] = mapped_column(_enum(TaskKind, 20))
    message: Mapped[str] = mapped_column(Text)
    suggested_action: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus, 8), default=TaskStatus.open)
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    #: Where it came from: ``loan:late``, ``loan:default``, ``form``…
    source: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_by_label: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(
        primaryjoin="AccompanimentTask.case_id == Case.id", foreign_keys=[case_id],
        viewonly=True,
    )
    assigned_to: Mapped[User | None] = relationship(
        primaryjoin="AccompanimentTask.assigned_to_id == User.id",
        foreign_keys=[assigned_to_id], viewonly=True,
    )

    @property
    def kind_label(self) -> str:
        return TASK_KIND_LABELS[self.kind]


# -- workshops ---------------------------------------------------------------------------


class WorkshopTheme(TenantScoped, Base):
    __tablename__ = "workshop_themes"
    __table_args__ = (UniqueConstraint("tenant_id", "title"),)

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkshopSession(TenantScoped, Base):
    __tablename__ = "workshop_sessions"
    __table_args__ = (
        tenant_fk("theme_id", "workshop_themes"),
        tenant_fk("animator_id", "users"),
        Index("ix_workshop_sessions_start", "tenant_id", "starts_at"),
    )

    theme_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: Aware, stored in UTC; shown in the tenant's timezone.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    place: Mapped[str] = mapped_column(String(300))
    capacity: Mapped[int] = mapped_column(Integer)
    animator_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    #: Bumped when the time or place changes (ICS ``SEQUENCE``).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    theme: Mapped[WorkshopTheme] = relationship(
        primaryjoin="WorkshopSession.theme_id == WorkshopTheme.id", foreign_keys=[theme_id],
        viewonly=True, lazy="joined",
    )
    animator: Mapped[User | None] = relationship(
        primaryjoin="WorkshopSession.animator_id == User.id", foreign_keys=[animator_id],
        viewonly=True,
    )

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


class InvitationStatus(enum.StrEnum):
    invited = "invited"
    registered = "registered"
    attended = "attended"
    absent = "absent"


INVITATION_STATUS_LABELS = {
    InvitationStatus.invited: "Invitée",
    InvitationStatus.registered: "Inscrite",
    InvitationStatus.attended: "Présente",
    InvitationStatus.absent: "Absente",
}
#: Statuses that take a seat of the session's capacity.
SEATED = (InvitationStatus.registered, InvitationStatus.attended)


class WorkshopInvitation(TenantScoped, Base):
    """A person invited to (then registered for, present at or absent from) a session."""

    __tablename__ = "workshop_invitations"
    __table_args__ = (
        tenant_fk("session_id", "workshop_sessions", ondelete="CASCADE"),
        tenant_fk("person_id", "persons", ondelete="CASCADE"),
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "session_id", "person_id"),
        Index("ix_workshop_invitations_case", "tenant_id", "case_id"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: The case through which the person was invited (a borrower's or applicant's).
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    status: Mapped[InvitationStatus] = mapped_column(
        _enum(InvitationStatus, 12), default=InvitationStatus.invited
    )
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: Short evaluation by the participant: a score from 1 to 5 and a comment.
    score: Mapped[int | None] = mapped_column(Integer, default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(
        primaryjoin="WorkshopInvitation.person_id == Person.id", foreign_keys=[person_id],
        viewonly=True, lazy="joined",
    )

    @property
    def status_label(self) -> str:
        return INVITATION_STATUS_LABELS[self.status]


# -- staff time --------------------------------------------------------------------------


class Activity(enum.StrEnum):
    interview = "interview"
    follow_up = "follow_up"
    phone_call = "phone_call"
    workshop = "workshop"
    other = "other"


ACTIVITY_LABELS = {
    Activity.interview: "Entretien",
    Activity.follow_up: "Suivi",
    Activity.phone_call: "Appel téléphonique",
    Activity.workshop: "Atelier collectif",
    Activity.other: "Autre",
}


class TimeCategory(enum.StrEnum):
    intake = "intake"
    instruction = "instruction"
    accompaniment = "accompaniment"


TIME_CATEGORY_LABELS = {
    TimeCategory.intake: "Accueil",
    TimeCategory.instruction: "Instruction",
    TimeCategory.accompaniment: "Accompagnement",
}


class TimeEntry(TenantScoped, Base):
    """Minutes a staff member spent on an activity, on a local day."""

    __tablename__ = "time_entries"
    __table_args__ = (
        tenant_fk("user_id", "users"),
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        Index("ix_time_entries_day", "tenant_id", "day"),
        Index("ix_time_entries_user_day", "tenant_id", "user_id", "day"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    activity: Mapped[Activity] = mapped_column(_enum(Activity, 12))
    category: Mapped[TimeCategory] = mapped_column(_enum(TimeCategory, 16))
    minutes: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")
    #: What recorded it: ``manual``, ``follow_up:<id>``, ``workshop:<id>``.
    source: Mapped[str] = mapped_column(String(60), default="manual")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(
        primaryjoin="TimeEntry.user_id == User.id", foreign_keys=[user_id], viewonly=True
    )
