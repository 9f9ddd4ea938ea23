"""Tenants, organisations, users, operators and API tokens: the operations shared by the
CLI, the operator pages and the manager pages. Each validates fully before writing and
raises ``UserError`` (French message) on bad input; the caller commits."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from .. import audit, clock, tenancy
from ..errors import UserError
from ..models import SLUG_RE, ApiToken, Operator, Organisation, OrganisationKind, Tenant, User
from ..plugins import registry
from ..policy import Role
from . import totp
from .credentials import PasswordPolicyError, check_password_policy, hash_password, new_api_token

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise UserError(f"Adresse e-mail invalide : {email!r}.", field="email")
    return email


# -- tenants ------------------------------------------------------------------------------


def get_tenant(session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise UserError(f"Aucun territoire (tenant) {slug!r}.", status=404, field="tenant")
    return tenant


def create_tenant(
    session, slug: str, name: str, city: str | None = None, timezone: str = "Europe/Paris",
    tenant_id: int | None = None,
) -> Tenant:
    slug = (slug or "").strip()
    if not SLUG_RE.match(slug):
        raise UserError(
            "Identifiant invalide : 3 à 40 caractères, minuscules, chiffres et tirets, "
            "commençant par une lettre (ex. « lyon »).",
            field="slug",
        )
    name = (name or "").strip()
    if not name:
        raise UserError("Le nom est obligatoire.", field="name")
    if len(name) > 200:
        raise UserError("Le nom dépasse 200 caractères.", field="name")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(f"Fuseau horaire inconnu : {timezone!r}.", field="timezone") from exc
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise UserError(f"Le territoire {slug!r} existe déjà.", status=409, field="slug")
    tenant = Tenant(slug=slug, name=name, city=(city or name).strip(), timezone=timezone)
    if tenant_id is not None:  # a tenant restored under its own id
        tenant.id = tenant_id
    session.add(tenant)
    session.flush()
    return tenant


SUSPENDED = ("Ce territoire est suspendu par l'opérateur de la plateforme : il n'est pas "
             "accessible pour le moment.")


def ensure_not_suspended(tenant: Tenant) -> None:
    """Refuse (403) any request of a suspended tenant: pages, sign-in and API alike."""
    if tenant.suspended_at is not None:
        raise UserError(SUSPENDED, status=403, message_en="This tenant is suspended.")


def set_suspended(session, tenant: Tenant, suspended: bool, actor=None) -> bool:
    """Suspend or resume a tenant (operator); audited in the tenant's own trail. Returns
    whether anything changed."""
    if suspended == (tenant.suspended_at is not None):
        return False
    tenant.suspended_at = clock.now() if suspended else None
    with tenancy.tenant_scope(tenant.id):
        audit.record(session, "tenant.suspend" if suspended else "tenant.resume", tenant,
                     actor=actor)
        session.flush()
    return True


# -- organisations ------------------------------------------------------------------------


def parse_kind(kind: str) -> OrganisationKind:
    try:
        return OrganisationKind(kind)
    except ValueError as exc:
        kinds = ", ".join(k.value for k in OrganisationKind)
        raise UserError(
            f"Type d'organisation inconnu : {kind!r} (attendu : {kinds}).", field="kind"
        ) from exc


def create_organisation(
    session,
    name: str,
    kind: str,
    plugin_name: str | None = None,
    email: str | None = None,
) -> Organisation:
    tenancy.require_tenant_id()
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise UserError("Le nom de l'organisation est obligatoire (200 caractères au plus).",
                        field="name")
    kind_value = parse_kind(kind)
    if plugin_name:
        registry().get(plugin_name)
    if session.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise UserError(f"L'organisation {name!r} existe déjà.", status=409, field="name")
    org = Organisation(
        name=name,
        kind=kind_value,
        plugin_name=plugin_name or None,
        email=normalise_email(email) if email else None,
    )
    session.add(org)
    session.flush()
    audit.record(session, "organisation.create", org, name=name, kind=kind_value.value)
    return org


def get_organisation_by_id(session, org_id) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.id == _uuid(org_id, "org")))
    if org is None:
        raise UserError("Organisation introuvable.", status=404, field="org")
    return org


def update_organisation(
    session,
    org: Organisation,
    name: str,
    kind: str,
    plugin_name: str | None = None,
    email: str | None = None,
) -> Organisation:
    """Rename an organisation, change its kind, plugin or contact address (the same rules
    as :func:`create_organisation`)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise UserError("Le nom de l'organisation est obligatoire (200 caractères au plus).",
                        field="name")
    kind_value = parse_kind(kind)
    if plugin_name:
        registry().get(plugin_name)
    clash = session.scalar(
        select(Organisation.id).where(Organisation.name == name, Organisation.id != org.id)
    )
    if clash is not None:
        raise UserError(f"L'organisation {name!r} existe déjà.", status=409, field="name")
    before = {"name": org.name, "kind": org.kind.value, "plugin": org.plugin_name,
              "email": org.email}
    org.name = name
    org.kind = kind_value
    org.plugin_name = plugin_name or None
    org.email = normalise_email(email) if email else None
    after = {"name": org.name, "kind": org.kind.value, "plugin": org.plugin_name,
             "email": org.email}
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changed:
        audit.record(session, "organisation.update", org, **changed)
    return org


def _uuid(value, field: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise UserError(f"Identifiant invalide : {value!r}.", status=404, field=field) from exc


def get_organisation(session, name: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        raise UserError(f"Organisation inconnue : {name!r}.", status=404, field="org")
    return org


# -- users --------------------------------------------------------------------------------


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        roles = ", ".join(r.value for r in Role)
        raise UserError(f"Rôle inconnu : {role!r} (attendu : {roles}).", field="role") from exc


def _check_password(password: str) -> None:
    try:
        check_password_policy(password)
    except PasswordPolicyError as exc:
        raise UserError(str(exc), field="password") from exc


def create_user(
    session,
    email: str,
    role: str,
    org_name: str,
    password: str | None,
    full_name: str = "",
    password_hash: str | None = None,
) -> User:
    """Create a user. ``password_hash`` (an argon2 hash prepared elsewhere, e.g. by an
    import or the test fixtures) replaces ``password``."""
    tenancy.require_tenant_id()
    email = normalise_email(email)
    role_value = parse_role(role)
    org = get_organisation(session, org_name)
    if password_hash is None:
        _check_password(password or "")
    existing = session.scalar(select(User.id).where(func.lower(User.email) == email))
    if existing is not None:
        raise UserError(f"Un compte existe déjà pour {email}.", status=409, field="email")
    user = User(
        email=email,
        full_name=(full_name or "").strip()[:200],
        role=role_value,
        organisation_id=org.id,
        password_hash=password_hash or hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(session, "user.create", user, email=email, role=role_value.value)
    return user


def get_user(session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise UserError(f"Aucun compte {email!r} dans ce territoire.", status=404, field="email")
    return user


def get_user_by_id(session, user_id) -> User:
    user = session.scalar(select(User).where(User.id == _uuid(user_id, "user")))
    if user is None:
        raise UserError("Compte introuvable.", status=404, field="user")
    return user


def update_user(session, user: User, role: str, org_name: str, full_name: str = "",
                actor=None) -> User:
    """Change a user's role, organisation and name. ``actor`` (the signed-in manager)
    may not take the manager role away from themselves."""
    role_value = parse_role(role)
    org = get_organisation(session, org_name)
    if actor is not None and actor.id == user.id and role_value != user.role:
        raise UserError("Vous ne pouvez pas changer votre propre rôle.", status=409,
                        field="role")
    before = {"role": user.role.value, "org": user.organisation.name,
              "full_name": user.full_name}
    user.role = role_value
    user.organisation_id = org.id
    user.full_name = (full_name or "").strip()[:200]
    after = {"role": role_value.value, "org": org.name, "full_name": user.full_name}
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changed:
        if before["role"] != after["role"] or before["org"] != after["org"]:
            user.session_version += 1  # new rights: sign in again
        audit.record(session, "user.update", user, **changed)
    session.flush()
    session.refresh(user)
    return user


def set_password(session, user: User, password: str) -> None:
    _check_password(password)
    user.password_hash = hash_password(password)
    user.session_version += 1
    audit.record(session, "user.password", user)


def deactivate_user(session, user: User, actor=None) -> None:
    """Deactivate: its sessions end, its API tokens stop working. ``actor`` (the
    signed-in manager) may not deactivate themselves."""
    if actor is not None and actor.id == user.id:
        raise UserError("Vous ne pouvez pas désactiver votre propre compte.", status=409,
                        field="user")
    if not user.active:
        return
    user.active = False
    user.session_version += 1
    audit.record(session, "user.deactivate", user)


def reactivate_user(session, user: User) -> None:
    """Let a deactivated user sign in again (with their password or a new link)."""
    if user.active:
        return
    user.active = True
    user.session_version += 1
    audit.record(session, "user.reactivate", user)


def reset_second_factor(session, user: User) -> bool:
    """Remove a user's second factor and recovery codes (lost phone): they enrol again at
    their next sign-in when the tenant requires it. ``False`` when there was none."""
    if totp.credential(session, user) is None:
        return False
    totp.disable(session, user)  # audited as user.totp_disable
    user.session_version += 1
    return True


def create_operator(session, email: str, password: str) -> Operator:
    email = normalise_email(email)
    _check_password(password)
    if session.scalar(select(Operator.id).where(Operator.email == email)) is not None:
        raise UserError(f"Un opérateur {email} existe déjà.", status=409, field="email")
    operator = Operator(email=email, password_hash=hash_password(password))
    session.add(operator)
    session.flush()
    return operator


# -- API tokens ---------------------------------------------------------------------------


def create_token(
    session, email: str, name: str = "", expires_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token for the user; return the row and the clear token (shown once)."""
    tenant_id = tenancy.require_tenant_id()
    user = get_user(session, email)
    if not user.active:
        raise UserError(f"Le compte {user.email} est désactivé.", field="email")
    if expires_days is not None and not (1 <= expires_days <= 3650):
        raise UserError("La durée de validité doit être entre 1 et 3650 jours.",
                        field="expires_days")
    clear, digest = new_api_token(tenant_id)
    token = ApiToken(
        user_id=user.id,
        name=(name or "").strip()[:120],
        token_hash=digest,
        expires_at=(clock.now() + timedelta(days=expires_days)) if expires_days else None,
    )
    session.add(token)
    session.flush()
    audit.record(session, "token.create", token, email=user.email)
    return token, clear


def list_tokens(session) -> list[ApiToken]:
    """The tenant's tokens, newest first (never their value: only a digest is kept)."""
    tenancy.require_tenant_id()
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))


def revoke_token(session, token_id) -> ApiToken:
    try:
        tid = uuid.UUID(str(token_id))
    except ValueError as exc:
        raise UserError(f"Identifiant de jeton invalide : {token_id!r}.", field="id") from exc
    tenancy.require_tenant_id()
    token = session.scalar(select(ApiToken).where(ApiToken.id == tid))
    if token is None:
        raise UserError("Jeton introuvable.", status=404, field="id")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(session, "token.revoke", token)
    return token
