"""The lender's FICP checks: one row per case, recorded by an agent or a connector."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Date, Enum, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow


class FicpResult(enum.StrEnum):
    clear = "clear"
    registered = "registered"


FICP_RESULT_LABELS = {
    FicpResult.clear: "Non inscrit (contrôle favorable)",
    FicpResult.registered: "Inscrit au FICP",
}


class FicpCheck(TenantScoped, Base):
    """The result of the consultation of the FICP register for a case."""

    __tablename__ = "credit_municipal_ficp_checks"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "case_id"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    result: Mapped[FicpResult] = mapped_column(
        Enum(FicpResult, native_enum=False, length=12, validate_strings=True)
    )
    #: Date of the consultation of the register.
    checked_on: Mapped[date] = mapped_column(Date)
    #: ``manual`` (an agent of the lender) or ``connector`` (the ``ccas_ficp_check`` hook).
    source: Mapped[str] = mapped_column(String(12), default="manual")
    agent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    agent_label: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CoBorrowerFicpCheck(TenantScoped, Base):
    """The FICP result for a case's co-borrower (a member of the person's household),
    recorded by an agent before the decision."""

    __tablename__ = "credit_municipal_co_ficp_checks"
    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE",
                  name="fk_credit_municipal_co_ficp_checks_case"),
        tenant_fk("member_id", "household_members", ondelete="CASCADE",
                  name="fk_credit_municipal_co_ficp_checks_member"),
        UniqueConstraint("tenant_id", "case_id", "member_id",
                         name="uq_credit_municipal_co_ficp_checks_member"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    result: Mapped[FicpResult] = mapped_column(
        Enum(FicpResult, native_enum=False, length=12, validate_strings=True)
    )
    checked_on: Mapped[date] = mapped_column(Date)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    agent_label: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
