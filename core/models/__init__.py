"""All core models; importing this package registers them on ``Base.metadata``."""

from .audit import AuditEvent
from .base import Base, TenantScoped, UTCDateTime, is_tenant_model, tenant_fk, tenant_tables, utcnow
from .case import (
    PURPOSE_LABELS,
    SOURCE_LABELS,
    STATE_LABELS,
    Case,
    CaseTransition,
    Purpose,
    Source,
    State,
)
from .organisation import ORGANISATION_KIND_LABELS, Organisation, OrganisationKind
from .outbox import OutboxKind, OutboxMessage, OutboxStatus
from .person import EMPLOYMENT_LABELS, Employment, Person
from .plugin_state import PluginState
from .tenant import SLUG_RE, Tenant
from .token import ApiToken
from .user import CCAS_STAFF, ROLE_LABELS, Operator, Role, User

__all__ = [
    "EMPLOYMENT_LABELS",
    "PURPOSE_LABELS",
    "SOURCE_LABELS",
    "STATE_LABELS",
    "Case",
    "CaseTransition",
    "Employment",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "Person",
    "Purpose",
    "Source",
    "State",
    "ApiToken",
    "AuditEvent",
    "Base",
    "CCAS_STAFF",
    "ORGANISATION_KIND_LABELS",
    "Operator",
    "Organisation",
    "OrganisationKind",
    "PluginState",
    "ROLE_LABELS",
    "Role",
    "SLUG_RE",
    "TenantScoped",
    "Tenant",
    "UTCDateTime",
    "User",
    "is_tenant_model",
    "tenant_fk",
    "tenant_tables",
    "utcnow",
]
