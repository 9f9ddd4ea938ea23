"""Identity providers (OpenID Connect) a tenant's staff or partners sign in with.

A provider row belongs to a tenant; with ``organisation_id`` set it is a partner
organisation's own provider and signs in only that organisation's accounts. The client
secret is sealed (``core.accounts.sealing``): a database dump or a tenant export carries
ciphertext only.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .organisation import Organisation


class IdentityProvider(TenantScoped, Base):
    __tablename__ = "identity_providers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        tenant_fk("organisation_id", "organisations", ondelete="CASCADE"),
    )

    #: Short name, used by the CLI and shown on the sign-in button ("ProConnect").
    name: Mapped[str] = mapped_column(String(60))
    #: The issuer URL; its discovery document is ``<issuer>/.well-known/openid-configuration``.
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    #: The client secret, sealed (``core.accounts.sealing.seal``), never stored in clear.
    client_secret_sealed: Mapped[str] = mapped_column(Text)
    #: Space-separated scopes asked for ("openid email" at least).
    scopes: Mapped[str] = mapped_column(String(500), default="openid email profile")
    #: Lower-case e-mail domains whose accounts this provider may sign in.
    allowed_domains: Mapped[list] = mapped_column(JSON, default=list)
    #: Accept an e-mail without ``email_verified: true`` (a federation that vouches for
    #: every address it sends, and says so in its contract). Off by default.
    trust_unverified_email: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A partner organisation's own provider: signs in that organisation's accounts only.
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation | None] = relationship(
        primaryjoin="IdentityProvider.organisation_id == Organisation.id",
        foreign_keys=[organisation_id],
        lazy="joined",
    )

    def __repr__(self) -> str:
        return f"<IdentityProvider {self.name} ({self.issuer})>"


class IdentityLink(TenantScoped, Base):
    """The provider's subject (``sub``) an account first signed in with. Later sign-ins
    must bring the same subject for that account, so that an e-mail address handed to
    someone else at the provider does not open the account of its former holder; the
    manager removes the link to let a new identity in (``ccas idp unlink``)."""

    __tablename__ = "identity_links"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider_id", "subject"),
        UniqueConstraint("tenant_id", "provider_id", "user_id"),
        tenant_fk("provider_id", "identity_providers", ondelete="CASCADE"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
    )

    provider_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
