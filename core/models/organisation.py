"""Organisations of a tenant's network: the CCAS itself, the lender, aid funds, associations,
funders. An organisation may be represented by a plugin (``plugin_name``)."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantScoped


class OrganisationKind(enum.StrEnum):
    ccas = "ccas"
    lender = "lender"
    aid_fund = "aid_fund"
    association = "association"
    funder = "funder"
    other = "other"


ORGANISATION_KIND_LABELS = {
    OrganisationKind.ccas: "CCAS",
    OrganisationKind.lender: "Prêteur",
    OrganisationKind.aid_fund: "Organisme d'aide",
    OrganisationKind.association: "Association",
    OrganisationKind.funder: "Financeur",
    OrganisationKind.other: "Autre",
}


class Organisation(TenantScoped, Base):
    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, native_enum=False, length=20, validate_strings=True)
    )
    plugin_name: Mapped[str | None] = mapped_column(String(64), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    #: The partner system's endpoint for referral status webhooks (``core.outbox.delivery``)
    #: and the per-organisation secret that signs them (HMAC-SHA256).
    webhook_url: Mapped[str | None] = mapped_column(String(500), default=None)
    webhook_secret: Mapped[str | None] = mapped_column(String(128), default=None)

    def __repr__(self) -> str:
        return f"<Organisation {self.name} ({self.kind})>"
