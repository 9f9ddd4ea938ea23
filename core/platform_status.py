"""What the operator console shows of the platform: health (database, migrations, outbox,
the worker's heartbeats and job runs) and usage per tenant. Each tenant's figures are
read under that tenant's scope (:func:`core.tenancy.tenant_scope`), one tenant after the
other: the wall between tenants is never lifted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from . import clock, migrate, rawsql, tenancy, worker
from .models import Case, OutboxMessage, OutboxStatus, Referral, Tenant, User

log = logging.getLogger(__name__)

#: A user signed in within this many days counts as active.
ACTIVE_DAYS = 30
#: A job run's status as people read it.
RUN_STATUS_LABELS = {"running": "En cours", "ok": "Réussie", "failed": "En échec"}


@dataclass
class DatabaseHealth:
    reachable: bool
    current: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def at_head(self) -> bool:
        return self.reachable and not self.pending


def database_health(engine) -> DatabaseHealth:
    """The database answers, and its schema is at the migrations' head (as ``/readyz``)."""
    try:
        with engine.connect() as conn:
            rawsql.ping(conn)
            current = rawsql.migration_revision(conn)
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        log.warning("operator console: database unreachable: %s", type(exc).__name__)
        return DatabaseHealth(False)
    return DatabaseHealth(True, sorted(current), sorted(migrate.pending_heads(current)))


@dataclass
class TenantFigures:
    tenant: Tenant
    cases: int = 0
    referrals: int = 0
    accounts: int = 0         # active accounts
    active_users: int = 0     # signed in within ACTIVE_DAYS
    outbox_pending: int = 0   # waiting to be sent (or being sent)
    outbox_dead: int = 0      # given up after the last attempt
    oldest_pending: datetime | None = None


def tenant_figures(session, tenant: Tenant, now: datetime | None = None) -> TenantFigures:
    """Usage and outbox figures of one tenant, read in its own scope."""
    now = now or clock.now()
    since = now - timedelta(days=ACTIVE_DAYS)
    out = TenantFigures(tenant)
    with tenancy.tenant_scope(tenant.id):
        out.cases = session.scalar(select(func.count()).select_from(Case)) or 0
        out.referrals = session.scalar(select(func.count()).select_from(Referral)) or 0
        out.accounts = session.scalar(
            select(func.count()).select_from(User).where(User.active.is_(True))) or 0
        out.active_users = session.scalar(
            select(func.count()).select_from(User).where(
                User.active.is_(True), User.last_login_at >= since)) or 0
        waiting = (OutboxStatus.pending, OutboxStatus.sending)
        out.outbox_pending, out.oldest_pending = session.execute(
            select(func.count(), func.min(OutboxMessage.created_at))
            .where(OutboxMessage.status.in_(waiting))).one()
        out.outbox_dead = session.scalar(
            select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.dead)) or 0
    return out


def all_tenant_figures(session, now: datetime | None = None) -> list[TenantFigures]:
    tenants = session.scalars(select(Tenant).order_by(Tenant.slug)).all()
    return [tenant_figures(session, t, now) for t in tenants]


def worker_status(session) -> worker.Status:
    """The workers' heartbeats and each job's last run and last failure
    (:func:`core.worker.status`; platform tables, no tenant)."""
    return worker.status(session)
