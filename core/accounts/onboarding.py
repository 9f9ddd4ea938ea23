"""Opening a city: the tenant, its CCAS organisation and, optionally, the invitation of
its first manager. One service for ``ccas tenant create`` and the operator console; the
caller commits."""

from __future__ import annotations

from .. import accounts, audit, tenancy
from ..models import Tenant
from . import invitations


def ccas_name(tenant: Tenant) -> str:
    return f"CCAS de {tenant.city}"


def open_tenant(session, slug: str, name: str, city: str | None = None,
                timezone: str = "Europe/Paris", manager_email: str | None = None,
                base_url: str | None = None) -> Tenant:
    """Create tenant ``slug`` with its CCAS organisation; with ``manager_email``, invite
    its manager (a set-password link by e-mail, see ``invitations``). All or nothing."""
    if manager_email:
        accounts.normalise_email(manager_email)  # refuse a bad address before writing
    tenant = accounts.create_tenant(session, slug, name, city, timezone)
    with tenancy.tenant_scope(tenant.id):
        audit.record(session, "tenant.create", tenant, slug=tenant.slug, name=tenant.name)
        accounts.create_organisation(session, ccas_name(tenant), "ccas")
        if manager_email:
            invitations.invite_user(session, tenant, manager_email, "manager",
                                    ccas_name(tenant), base_url or "")
        session.flush()
    return tenant
