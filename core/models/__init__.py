"""All core models; importing this package registers them on ``Base.metadata``."""

from .accompaniment import (
    AccompanimentPlan,
    AccompanimentTask,
    FollowUp,
    TimeEntry,
    WorkshopInvitation,
    WorkshopSession,
    WorkshopTheme,
)
from .appointment import (
    APPOINTMENT_STATUS_LABELS,
    KIND_LABELS,
    MODE_LABELS,
    Appointment,
    AppointmentKind,
    AppointmentMode,
    AppointmentStatus,
)
from .audit import AuditEvent
from .base import Base, TenantScoped, UTCDateTime, is_tenant_model, tenant_fk, tenant_tables, utcnow
from .case import (
    PURPOSE_LABELS,
    SOURCE_LABELS,
    Case,
    CaseTransition,
    Purpose,
    Source,
    State,
)
from .documents import DOCUMENT_STATUS_LABELS, CaseDocument, DocumentStatus, StoredDocument
from .evaluation import (
    CHARGE_CATEGORIES,
    RESOURCE_CATEGORIES,
    BudgetKind,
    BudgetLine,
    Interview,
    Synthesis,
)
from .form_token import FormToken
from .identity import IdentityLink, IdentityProvider
from .jobs import JobRun, WorkerHeartbeat
from .organisation import ORGANISATION_KIND_LABELS, Organisation, OrganisationKind
from .outbox import OutboxKind, OutboxMessage, OutboxStatus
from .person import (
    EMPLOYMENT_LABELS,
    RELATIONSHIP_LABELS,
    Employment,
    HouseholdMember,
    Person,
    Relationship,
)
from .plugin_state import PluginState
from .referral import (
    REFERRAL_STATUS_LABELS,
    IdempotencyKey,
    Referral,
    ReferralAttachment,
    ReferralStatus,
    ReferralStatusChange,
)
from .search import CaseSearchToken
from .security import (
    OperatorTotpCredential,
    OperatorTotpRecoveryCode,
    PasswordResetToken,
    TotpCredential,
    TotpRecoveryCode,
)
from .suggestion import SUGGESTION_STATUS_LABELS, CaseSuggestion, SuggestionStatus
from .tenant import SLUG_RE, Tenant
from .token import ApiToken
from .user import Operator, User
from .web_session import WebSession

__all__ = [
    "JobRun",
    "WorkerHeartbeat",
    "AccompanimentPlan",
    "AccompanimentTask",
    "FollowUp",
    "TimeEntry",
    "WebSession",
    "WorkshopInvitation",
    "WorkshopSession",
    "WorkshopTheme",
    "APPOINTMENT_STATUS_LABELS",
    "Appointment",
    "AppointmentKind",
    "AppointmentMode",
    "AppointmentStatus",
    "CaseDocument",
    "StoredDocument",
    "HouseholdMember",
    "Synthesis",
    "Relationship",
    "RELATIONSHIP_LABELS",
    "DOCUMENT_STATUS_LABELS",
    "DocumentStatus",
    "KIND_LABELS",
    "MODE_LABELS",
    "CHARGE_CATEGORIES",
    "RESOURCE_CATEGORIES",
    "BudgetKind",
    "BudgetLine",
    "Interview",
    "SUGGESTION_STATUS_LABELS",
    "CaseSuggestion",
    "SuggestionStatus",
    "EMPLOYMENT_LABELS",
    "PURPOSE_LABELS",
    "SOURCE_LABELS",
    "Case",
    "CaseSearchToken",
    "CaseTransition",
    "Employment",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "IdempotencyKey",
    "REFERRAL_STATUS_LABELS",
    "Referral",
    "ReferralAttachment",
    "ReferralStatus",
    "ReferralStatusChange",
    "Person",
    "Purpose",
    "Source",
    "State",
    "ApiToken",
    "AuditEvent",
    "Base",
    "ORGANISATION_KIND_LABELS",
    "Operator",
    "Organisation",
    "OrganisationKind",
    "PluginState",
    "PasswordResetToken",
    "FormToken",
    "IdentityLink",
    "IdentityProvider",
    "OperatorTotpCredential",
    "OperatorTotpRecoveryCode",
    "TotpCredential",
    "TotpRecoveryCode",
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
