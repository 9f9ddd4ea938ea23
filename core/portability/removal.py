"""Delete a tenant: every row of its tables (the transient ones included), its tenant
record, and (once the caller commits) its stored documents' files, in the caller's
transaction. The audit trail is append-only for the application
role: run this with a session of the owner role (``ccas tenant delete`` does)."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from .. import storage, tenancy
from ..models import Tenant
from .export import tenant_tables


def counts(session, tenant: Tenant) -> dict[str, int]:
    """Rows of ``tenant`` per table (what a deletion removes); tables without rows left
    out."""
    out = {}
    with tenancy.tenant_scope(tenant.id):
        for table in tenant_tables(transient=True, derived=True):
            n = session.scalar(select(func.count()).select_from(table)
                               .where(table.c.tenant_id == tenant.id)) or 0
            if n:
                out[table.name] = n
    return out


def delete_tenant(session, tenant: Tenant) -> dict[str, int]:
    """Delete every row of ``tenant`` and the tenant itself; return the counts removed.
    Nothing is committed here."""
    removed = counts(session, tenant)
    with tenancy.tenant_scope(tenant.id):
        for table in reversed(tenant_tables(transient=True, derived=True)):
            session.execute(delete(table).where(table.c.tenant_id == tenant.id))
    session.execute(delete(Tenant).where(Tenant.id == tenant.id))
    storage.discard_tenant(session, tenant.id)  # its files go once this commits
    session.expunge_all()
    return removed
