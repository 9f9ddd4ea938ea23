"""A tenant's identity providers (OpenID Connect) and its password sign-in setting: the
operations behind ``ccas idp`` and the manager's page ``/t/<slug>/admin/identity``.

Each validates fully before writing and raises ``UserError`` (French message, ``field``);
the caller commits. The client secret is sealed before it is stored (``sealing``).

Password sign-in is the tenant setting ``tenant.settings["identity"]["password_sign_in"]``
(on unless set to ``false``). It can be turned off only while an active provider open to
the whole tenant exists (no organisation), and that last provider cannot be removed or
deactivated while passwords are off: nobody is locked out of a city by a setting.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from flask import g
from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from .. import audit
from ..errors import UserError
from ..models import IdentityLink, IdentityProvider, Tenant
from . import get_organisation, get_user, normalise_email
from .sealing import seal

DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,59}$")
DEFAULT_SCOPES = "openid email profile"


# -- validation ---------------------------------------------------------------------------


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def normalise_issuer(value: str) -> str:
    """The issuer URL from what was typed (the discovery URL is accepted too): https, or
    http on this machine's loopback only (a provider run by the tests)."""
    issuer = (value or "").strip()
    if issuer.endswith(DISCOVERY_SUFFIX):
        issuer = issuer[: -len(DISCOVERY_SUFFIX)]
    parts = urlsplit(issuer)
    secure = parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname))
    if not parts.hostname or not secure or parts.query or parts.fragment or len(issuer) > 500:
        raise UserError(
            "Adresse de l'émetteur invalide : une URL https, par exemple "
            "« https://auth.ville.fr/realms/agents » (ou son URL de découverte).",
            field="issuer",
        )
    return issuer


def parse_domains(value) -> list[str]:
    """Allowed e-mail domains from a list or a text (commas, spaces or new lines)."""
    items = value if isinstance(value, (list, tuple)) else re.split(r"[\s,;]+", value or "")
    domains = []
    for item in items:
        domain = str(item).strip().lower().lstrip("@")
        if not domain:
            continue
        if not DOMAIN_RE.match(domain):
            raise UserError(f"Domaine d'e-mail invalide : « {domain} ».", field="domains")
        if domain not in domains:
            domains.append(domain)
    if not domains:
        raise UserError(
            "Indiquez au moins un domaine d'e-mail autorisé (par exemple « ville.fr »).",
            field="domains",
        )
    return domains


def _scopes(value: str | None) -> str:
    scopes = " ".join(dict.fromkeys((value or DEFAULT_SCOPES).split()))
    if "openid" not in scopes.split():
        raise UserError("Les portées doivent comprendre « openid ».", field="scopes")
    if len(scopes) > 500:
        raise UserError("Portées trop longues (500 caractères au plus).", field="scopes")
    return scopes


# -- providers ----------------------------------------------------------------------------


def list_providers(session, active_only: bool = False) -> list[IdentityProvider]:
    query = select(IdentityProvider).order_by(IdentityProvider.name)
    if active_only:
        query = query.where(IdentityProvider.active.is_(True))
    return list(session.scalars(query))


def get_provider(session, name: str) -> IdentityProvider:
    provider = session.scalar(select(IdentityProvider).where(IdentityProvider.name == name))
    if provider is None:
        raise UserError(f"Aucun fournisseur d'identité « {name} » sur ce territoire.",
                        status=404, field="name")
    return provider


def set_provider(
    session,
    name: str,
    *,
    issuer: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    domains=None,
    scopes: str | None = None,
    organisation: str | None = None,
    trust_unverified_email: bool | None = None,
    active: bool | None = None,
    tenant: Tenant | None = None,
) -> IdentityProvider:
    """Create provider ``name`` or change the fields given (``None``: unchanged). A new
    provider needs the issuer, the client id, the secret and the allowed domains.
    ``organisation``: a partner organisation's name (``""`` makes it tenant-wide again)."""
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise UserError("Nom invalide : 1 à 60 lettres, chiffres, espaces, points ou tirets "
                        "(par exemple « ProConnect »).", field="name")
    provider = session.scalar(select(IdentityProvider).where(IdentityProvider.name == name))
    creating = provider is None
    if creating:
        missing = [(name, label) for name, label, value in (
            ("issuer", "l'émetteur", issuer), ("client_id", "l'identifiant client", client_id),
            ("client_secret", "le secret client", client_secret),
            ("domains", "les domaines d'e-mail autorisés", domains),
        ) if not value]
        if missing:
            raise UserError(
                "Pour un nouveau fournisseur, indiquez " + ", ".join(m[1] for m in missing) + ".",
                field=missing[0][0])
    changes: dict = {}
    values: dict = {}
    if issuer is not None:
        values["issuer"] = normalise_issuer(issuer)
    if client_id is not None:
        client_id = client_id.strip()
        if not client_id or len(client_id) > 255:
            raise UserError("Identifiant client obligatoire (255 caractères au plus).",
                            field="client_id")
        values["client_id"] = client_id
    if client_secret:
        if len(client_secret) > 1000:
            raise UserError("Secret client trop long.", field="client_secret")
        values["client_secret_sealed"] = seal(client_secret)
        changes["client_secret"] = "changed"  # noqa: S105 - a word for the audit trail
    if domains is not None:
        values["allowed_domains"] = parse_domains(domains)
    if scopes is not None or creating:
        values["scopes"] = _scopes(scopes)
    if organisation is not None:
        values["organisation_id"] = (
            get_organisation(session, organisation.strip()).id if organisation.strip() else None)
    if trust_unverified_email is not None:
        values["trust_unverified_email"] = bool(trust_unverified_email)
    if active is not None:
        values["active"] = bool(active)
    if creating:
        provider = IdentityProvider(name=name, active=values.pop("active", True), **values)
        session.add(provider)
    else:
        for key, value in values.items():
            setattr(provider, key, value)
    if not password_sign_in_allowed(tenant) and not _tenant_wide_provider(session, provider):
        raise UserError(
            "La connexion par mot de passe est désactivée : ce territoire doit garder un "
            "fournisseur d'identité actif ouvert à tous ses comptes.", status=409, field="active")
    changes.update({k: v for k, v in values.items() if k != "client_secret_sealed"})
    session.flush()
    audit.record(session, "identity_provider.created" if creating else "identity_provider.changed",
                 provider, name=name, **changes)
    return provider


def remove_provider(session, name: str, tenant: Tenant | None = None) -> None:
    provider = get_provider(session, name)
    if not password_sign_in_allowed(tenant) and not _tenant_wide_provider(
            session, None, excluding=provider):
        raise UserError(
            "La connexion par mot de passe est désactivée : ce fournisseur est le dernier "
            "ouvert à tous les comptes, réactivez d'abord les mots de passe.", status=409)
    audit.record(session, "identity_provider.removed", provider, name=provider.name)
    session.delete(provider)
    session.flush()


def unlink(session, provider_name: str, email: str) -> int:
    """Forget which provider identity ``email``'s account signed in with (a person whose
    identity at the provider changed); the next sign-in links the new one. Returns the
    number of links removed (0 or 1)."""
    provider = get_provider(session, provider_name)
    user = get_user(session, normalise_email(email))
    links = list(session.scalars(select(IdentityLink).where(
        IdentityLink.provider_id == provider.id, IdentityLink.user_id == user.id)))
    for link in links:
        session.delete(link)
    if links:
        audit.record(session, "identity_provider.unlinked", user, provider=provider.name)
    session.flush()
    return len(links)


def _tenant_wide_provider(session, pending: IdentityProvider | None,
                          excluding: IdentityProvider | None = None) -> bool:
    """Whether an active provider open to the whole tenant remains (``pending`` counted
    as it will be saved, ``excluding`` left out)."""
    session.flush()
    for provider in list_providers(session, active_only=True):
        if provider is not excluding and provider.organisation_id is None:
            return True
    return bool(pending is not None and pending is not excluding and pending.active
                and pending.organisation_id is None)


def providers_for_login(session) -> list[IdentityProvider]:
    """The buttons of the sign-in page: active providers, the tenant's own first."""
    return sorted(list_providers(session, active_only=True),
                  key=lambda p: (p.organisation_id is not None, p.name.lower()))


# -- password sign-in ---------------------------------------------------------------------


def _identity_settings(tenant: Tenant | None) -> dict:
    return ((getattr(tenant, "settings", None) or {}).get("identity") or {})


def password_sign_in_allowed(tenant: Tenant | None) -> bool:
    """Whether the tenant's staff may sign in with a local password (on by default)."""
    if tenant is None:
        tenant = g.get("tenant")
    return _identity_settings(tenant).get("password_sign_in", True) is not False


def set_password_sign_in(session, tenant: Tenant, allowed: bool) -> None:
    """Turn local passwords on or off for ``tenant`` (refused off without a provider)."""
    if not allowed and not _tenant_wide_provider(session, None):
        raise UserError(
            "Impossible de désactiver les mots de passe : configurez d'abord un fournisseur "
            "d'identité actif ouvert à tous les comptes du territoire.", status=409,
            field="password_sign_in")
    settings = dict(tenant.settings or {})
    settings["identity"] = {**_identity_settings(tenant), "password_sign_in": bool(allowed)}
    tenant.settings = settings
    flag_modified(tenant, "settings")
    audit.record(session, "identity.password_sign_in", None, allowed=bool(allowed))
    session.flush()
