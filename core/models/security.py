"""Account security: password-reset tokens and the TOTP second factor.

Secrets that only need comparing (reset tokens, recovery codes) are stored as SHA-256
digests; the TOTP secret must be readable to compute codes, so it is stored as is (see
docs/security.md).

Tenant users keep their second factor in tenant tables (``totp_credentials``,
``totp_recovery_codes``); platform operators, who have no tenant, in global tables of the
same shape (``operator_totp_credentials``, ``operator_totp_recovery_codes``). The columns
come from one mixin each, and ``core.accounts.totp`` serves both with the same code.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow


class PasswordResetToken(TenantScoped, Base):
    """A single-use, expiring password-reset link sent by e-mail (only its digest)."""

    __tablename__ = "password_reset_tokens"
    __table_args__ = (
        UniqueConstraint("tenant_id", "token_hash"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class TotpSecretColumns:
    """A TOTP secret (RFC 6238); active once ``confirmed_at`` is set."""

    secret: Mapped[str] = mapped_column(String(64))  # base32
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: The last time step accepted: a code is never accepted twice (no replay).
    last_used_step: Mapped[int] = mapped_column(Integer, default=0)


class RecoveryCodeColumns:
    """A one-time recovery code (SHA-256 digest), for a lost authenticator."""

    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class TotpCredential(TenantScoped, TotpSecretColumns, Base):
    """A tenant user's TOTP secret."""

    __tablename__ = "totp_credentials"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class TotpRecoveryCode(TenantScoped, RecoveryCodeColumns, Base):
    """A tenant user's recovery code."""

    __tablename__ = "totp_recovery_codes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code_hash"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class OperatorTotpCredential(TotpSecretColumns, Base):
    """A platform operator's TOTP secret (global: operators have no tenant)."""

    __tablename__ = "operator_totp_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), unique=True
    )


class OperatorTotpRecoveryCode(RecoveryCodeColumns, Base):
    """A platform operator's recovery code (global)."""

    __tablename__ = "operator_totp_recovery_codes"
    __table_args__ = (UniqueConstraint("code_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), index=True
    )
