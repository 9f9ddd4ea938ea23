"""The lender's tables: loans, their live instalments, repayments (manual or imported),
import batches and guarantee calls. All tenant-scoped, prefixed ``credit_municipal_``.

A loan is created when the lender grants a case; its instalments are written at
disbursement from ``build_schedule`` and the ones not yet due are replaced after
an early repayment (``remaining_schedule``), so the rows are always the live
schedule: arrears, PAR30 and the City's subsidy cost are sums over them.
"""

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

from core.plugin_api import Base, Case, TenantScoped, UTCDateTime, tenant_fk, utcnow


class LoanStatus(enum.StrEnum):
    granted = "granted"  # decision taken, offer issued, not signed yet
    signed = "signed"  # tripartite signing recorded, withdrawal period running
    withdrawn = "withdrawn"  # the borrower used the withdrawal right
    repaying = "repaying"  # disbursed, schedule running
    repaid = "repaid"  # settled (on schedule or early)
    defaulted = "defaulted"  # default declared, guarantees called


LOAN_STATUS_LABELS = {
    LoanStatus.granted: "Accordé (offre émise)",
    LoanStatus.signed: "Signé (délai de rétractation)",
    LoanStatus.withdrawn: "Rétractation",
    LoanStatus.repaying: "En remboursement",
    LoanStatus.repaid: "Soldé",
    LoanStatus.defaulted: "Défaillance déclarée",
}


class RepaymentSource(enum.StrEnum):
    manual = "manual"
    import_ = "import"


def _status_enum():
    return Enum(LoanStatus, native_enum=False, length=16, validate_strings=True)


class Loan(TenantScoped, Base):
    __tablename__ = "credit_municipal_loans"
    __table_args__ = (
        UniqueConstraint("tenant_id", "case_id"),
        UniqueConstraint("tenant_id", "reference"),
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        Index("ix_credit_municipal_loans_status", "tenant_id", "status"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: The reference the lender uses in its files (the case reference by default).
    reference: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    months: Mapped[int] = mapped_column(Integer)
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    method: Mapped[str] = mapped_column(String(10))
    #: Percent of each instalment's interest paid by the City (interest subsidy).
    subsidy_share: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    #: First due date agreed at the decision; ``None``: one month after disbursement.
    first_due_date: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[LoanStatus] = mapped_column(_status_enum(), default=LoanStatus.granted)
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    offer_valid_until: Mapped[date] = mapped_column(Date)
    # Tripartite signing record.
    signed_on: Mapped[date | None] = mapped_column(Date, default=None)
    borrower_signed_on: Mapped[date | None] = mapped_column(Date, default=None)
    lender_signed_on: Mapped[date | None] = mapped_column(Date, default=None)
    ccas_signed_on: Mapped[date | None] = mapped_column(Date, default=None)
    lender_signatory: Mapped[str] = mapped_column(String(200), default="")
    ccas_signatory: Mapped[str] = mapped_column(String(200), default="")
    signature_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: Last day the borrower may withdraw (signing day + 14 calendar days).
    withdrawal_ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    withdrawn_on: Mapped[date | None] = mapped_column(Date, default=None)
    disbursed_on: Mapped[date | None] = mapped_column(Date, default=None)
    due_day: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Oldest unpaid due date when the social worker was alerted (one alert per episode).
    late_since: Mapped[date | None] = mapped_column(Date, default=None)
    late_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    default_declared_on: Mapped[date | None] = mapped_column(Date, default=None)
    default_outstanding: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), default=None)
    closed_on: Mapped[date | None] = mapped_column(Date, default=None)
    #: Day the rule (``default_after_days`` late) proposed a default, until it is declared
    #: or the loan is up to date again.
    default_proposed_on: Mapped[date | None] = mapped_column(Date, default=None)
    #: Day the lender wrote the defaulted loan off (the loss is final; recoveries follow).
    written_off_on: Mapped[date | None] = mapped_column(Date, default=None)
    #: ``import`` for a legacy loan brought in by ``ccas import loans``.
    origin: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(
        primaryjoin="Loan.case_id == Case.id", foreign_keys=[case_id], lazy="joined"
    )
    installments: Mapped[list[Installment]] = relationship(
        primaryjoin="Loan.id == Installment.loan_id",
        foreign_keys="Installment.loan_id",
        order_by="Installment.number",
        viewonly=True,
    )
    repayments: Mapped[list[Repayment]] = relationship(
        primaryjoin="Loan.id == Repayment.loan_id",
        foreign_keys="Repayment.loan_id",
        order_by="(Repayment.paid_on, Repayment.created_at)",
        viewonly=True,
    )


class Installment(TenantScoped, Base):
    """One instalment of a loan's live schedule (money in euros, two decimals)."""

    __tablename__ = "credit_municipal_installments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "loan_id", "number"),
        tenant_fk("loan_id", "credit_municipal_loans", ondelete="CASCADE"),
        Index("ix_credit_municipal_installments_due", "tenant_id", "due_date"),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    payment: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    principal: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    interest: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    subsidy: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    borrower_payment: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    balance: Mapped[Decimal] = mapped_column(Numeric(12, 2))


class ImportBatch(TenantScoped, Base):
    """One repayment file imported from the lender (the same file is imported once)."""

    __tablename__ = "credit_municipal_import_batches"
    __table_args__ = (UniqueConstraint("tenant_id", "file_sha256"),)

    filename: Mapped[str] = mapped_column(String(255), default="")
    file_sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    lines_total: Mapped[int] = mapped_column(Integer, default=0)
    lines_created: Mapped[int] = mapped_column(Integer, default=0)


class Repayment(TenantScoped, Base):
    """A payment received from the borrower, allocated interest first then principal;
    ``early`` is the part paid ahead of the schedule (early repayment)."""

    __tablename__ = "credit_municipal_repayments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_key"),
        tenant_fk("loan_id", "credit_municipal_loans", ondelete="CASCADE"),
        tenant_fk("batch_id", "credit_municipal_import_batches"),
        Index("ix_credit_municipal_repayments_loan", "tenant_id", "loan_id"),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    source: Mapped[RepaymentSource] = mapped_column(
        Enum(RepaymentSource, native_enum=False, length=10, validate_strings=True),
        default=RepaymentSource.manual,
    )
    batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    #: Identity of an imported line (loan reference, date, amount, occurrence): re-importing
    #: a line already recorded creates nothing.
    external_key: Mapped[str | None] = mapped_column(String(64), default=None)
    interest_part: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    principal_part: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    early: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


#: The parties of a loss and of its recoveries, in words.
PARTY_LABELS = {"fcs": "Fonds de cohésion sociale", "city": "Ville",
                "lender": "Crédit Municipal"}


class GuaranteeCall(TenantScoped, Base):
    """What a guarantor is asked to pay after a default was declared."""

    __tablename__ = "credit_municipal_guarantee_calls"
    __table_args__ = (
        UniqueConstraint("tenant_id", "loan_id", "guarantor"),
        tenant_fk("loan_id", "credit_municipal_loans", ondelete="CASCADE"),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    guarantor: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    #: Outstanding principal the call was computed on.
    basis: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    called_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    loan: Mapped[Loan] = relationship(
        primaryjoin="GuaranteeCall.loan_id == Loan.id", foreign_keys=[loan_id], lazy="joined"
    )


class Rescheduling(TenantScoped, Base):
    """A rescheduling agreed by the lender agent: the instalments not paid were replaced
    by a payment holiday and/or a new duration (schedule version ``version``; version 1 is
    the schedule of the disbursement). ``previous_schedule`` keeps the schedule it
    replaced, row by row (JSON-ready strings), so every version can be shown again."""

    __tablename__ = "credit_municipal_reschedulings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "loan_id", "version"),
        tenant_fk("loan_id", "credit_municipal_loans", ondelete="CASCADE"),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)
    agreed_on: Mapped[date] = mapped_column(Date)
    agreed_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    holiday_months: Mapped[int] = mapped_column(Integer, default=0)
    months: Mapped[int] = mapped_column(Integer)
    overdue_months: Mapped[int] = mapped_column(Integer, default=0)
    first_number: Mapped[int] = mapped_column(Integer)
    outstanding: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    installment: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    apr: Mapped[Decimal] = mapped_column(Numeric(9, 2))
    last_due_date: Mapped[date] = mapped_column(Date)
    #: The social worker's opinion (``rescheduling_opinion`` labels) and its reasons.
    opinion: Mapped[str] = mapped_column(String(20))
    opinion_text: Mapped[str] = mapped_column(Text, default="")
    previous_schedule: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Recovery(TenantScoped, Base):
    """Money recovered on a defaulted loan, returned to those who bore the loss pro rata
    (:class:`RecoveryShare`: the guarantors called and the lender)."""

    __tablename__ = "credit_municipal_recoveries"
    __table_args__ = (
        tenant_fk("loan_id", "credit_municipal_loans", ondelete="CASCADE"),
        Index("ix_credit_municipal_recoveries_loan", "tenant_id", "loan_id"),
    )

    loan_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryShare(TenantScoped, Base):
    """The part of a recovery returned to one party (``fcs``, ``city`` or ``lender``)."""

    __tablename__ = "credit_municipal_recovery_shares"
    __table_args__ = (
        UniqueConstraint("tenant_id", "recovery_id", "party"),
        tenant_fk("recovery_id", "credit_municipal_recoveries", ondelete="CASCADE"),
        tenant_fk("loan_id", "credit_municipal_loans", ondelete="CASCADE"),
    )

    recovery_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    loan_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    party: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
