"""Sign-in through OpenID Connect: the authorization code flow with PKCE, for one of a
tenant's identity providers (``core.models.IdentityProvider``).

The protocol is Authlib's: ``OAuth2Session`` builds the authorization request (state,
nonce, S256 code challenge) and exchanges the code (client authentication, code
verifier); the ID token's signature is checked by ``joserfc`` against the provider's
published keys (JWKS), and its claims by Authlib's ``CodeIDToken``: issuer, audience
(and ``azp``), expiry and issue time (on the platform clock, one minute of leeway),
nonce and ``at_hash``. Nothing of it is written here by hand.

What is ours is the policy after that (:func:`match_account`): the e-mail must be
verified (``email_verified``, unless the provider is marked as vouching for its
addresses), in one of the provider's allowed domains, and name an existing, active
account of this tenant (an invitation, never an account created by signing in); a
partner organisation's provider signs in that organisation's accounts only. The
provider's subject (``sub``) is pinned to the account at its first sign-in
(``IdentityLink``): an address later given to someone else at the provider does not open
the account. Roles stay the platform's.

State kept between the two legs lives in the user's session (``ccas_oidc_flows``, keyed
by ``state``, consumed once, ten minutes at most): a replayed or forged callback finds
nothing. Provider metadata and keys are cached per issuer for an hour (keys are fetched
again once when a token names an unknown key).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests
from authlib.common.urls import add_params_to_uri
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import func, or_, select

from .. import clock
from ..models import IdentityLink, IdentityProvider, User
from .identity_providers import DISCOVERY_SUFFIX
from .sealing import SealBroken, unseal

log = logging.getLogger(__name__)

#: Seconds a sign-in may spend at the provider before its state expires.
FLOW_SECONDS = 600
#: Flows kept at once in one browser session (several tabs).
MAX_FLOWS = 3
#: Seconds of clock skew tolerated on the token's times.
LEEWAY = 60
#: Seconds provider metadata and keys are kept.
METADATA_SECONDS = 3600
HTTP_TIMEOUT = 10
#: Longest ID token kept in the session (server-side, ``core/web/sessions.py``) as the
#: provider's sign-out hint; a longer one is not kept, the sign-out then names our client.
MAX_HINT_CHARS = 16000
SESSION_KEY = "ccas_oidc_flows"


class SignInRefused(Exception):
    """The sign-in is refused; ``message`` is French, for the person at the screen;
    ``reason`` a short code for the audit trail and the log."""

    def __init__(self, message: str, reason: str, user: User | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.user = user


# -- provider metadata --------------------------------------------------------------------


@dataclass
class _Cached:
    fetched: float
    metadata: dict
    jwks: dict = field(default_factory=dict)


_cache: dict[str, _Cached] = {}
_cache_lock = threading.Lock()


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning("identity provider unreachable or invalid answer: %s (%s)", url, exc)
        raise SignInRefused(
            "Le fournisseur d'identité ne répond pas. Réessayez dans quelques minutes ; "
            "si cela dure, prévenez votre responsable.", "provider_unreachable") from exc


def metadata(issuer: str, refresh: bool = False) -> dict:
    """The provider's discovery document (checked: it names the configured issuer)."""
    with _cache_lock:
        cached = _cache.get(issuer)
    if cached and not refresh and time.monotonic() - cached.fetched < METADATA_SECONDS:
        return cached.metadata
    document = _get_json(issuer.rstrip("/") + DISCOVERY_SUFFIX)
    if str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/") or not all(
            document.get(k) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
        log.warning("discovery document of %s names issuer %r or lacks endpoints",
                    issuer, document.get("issuer"))
        raise SignInRefused("La configuration du fournisseur d'identité est incohérente "
                            "(émetteur ou adresses) : prévenez votre responsable.",
                            "provider_metadata")
    with _cache_lock:
        _cache[issuer] = _Cached(time.monotonic(), document)
    return document


def _key_set(issuer: str, refresh: bool = False) -> KeySet:
    document = metadata(issuer)
    with _cache_lock:
        cached = _cache.get(issuer)
    if cached is None or refresh or not cached.jwks:
        jwks = _get_json(document["jwks_uri"])
        with _cache_lock:
            if issuer in _cache:
                _cache[issuer].jwks = jwks
    else:
        jwks = cached.jwks
    try:
        return KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise SignInRefused("Les clés publiées par le fournisseur d'identité sont illisibles.",
                            "provider_keys") from exc


def forget_metadata() -> None:
    """Drop every cached document and key set (tests, a provider's key rotation)."""
    with _cache_lock:
        _cache.clear()


def active_provider(session, provider_id) -> IdentityProvider | None:
    """The tenant's active provider with this id (text from a URL or the session)."""
    try:
        key = uuid.UUID(str(provider_id))
    except ValueError:
        return None
    return session.scalar(select(IdentityProvider).where(
        IdentityProvider.id == key, IdentityProvider.active.is_(True)))


# -- the two legs of the flow -------------------------------------------------------------


def _client(provider: IdentityProvider, document: dict, redirect_uri: str) -> OAuth2Session:
    try:
        secret = unseal(provider.client_secret_sealed)
    except SealBroken as exc:
        log.error("identity provider %s: client secret sealed with another key", provider.name)
        raise SignInRefused(
            "Le secret de ce fournisseur d'identité doit être saisi à nouveau par votre "
            "responsable (il a été chiffré par une autre installation).",
            "secret_unreadable") from exc
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    return OAuth2Session(
        client_id=provider.client_id, client_secret=secret, scope=provider.scopes,
        redirect_uri=redirect_uri, code_challenge_method="S256",
        token_endpoint_auth_method=method,
    )


def begin(provider: IdentityProvider, redirect_uri: str, flows: dict, next_url: str) -> str:
    """The provider's authorization URL for a new sign-in; the flow (state, nonce, code
    verifier, provider, where to go after) is added to ``flows`` (the session's)."""
    document = metadata(provider.issuer)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    client = _client(provider, document, redirect_uri)
    url, _ = client.create_authorization_url(
        document["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce)
    now = int(clock.timestamp())
    live = {k: v for k, v in flows.items() if now - int(v.get("at", 0)) <= FLOW_SECONDS}
    for old in sorted(live, key=lambda k: live[k]["at"])[: max(0, len(live) - MAX_FLOWS + 1)]:
        live.pop(old)
    live[state] = {"p": str(provider.id), "n": nonce, "v": verifier, "at": now,
                   "next": next_url}
    flows.clear()
    flows.update(live)
    return url


@dataclass
class Identity:
    """What a verified ID token (and the user info) says about the person."""

    provider: IdentityProvider
    subject: str
    email: str
    email_verified: bool
    id_token: str
    next_url: str


def take_flow(flows: dict, state: str | None) -> dict:
    """The flow ``state`` names, removed from ``flows`` (used once); refused when unknown
    or expired (a forged, replayed or stale answer)."""
    flow = flows.pop(state, None) if state else None
    if flow is None:
        raise SignInRefused("Cette réponse du fournisseur d'identité ne correspond à aucune "
                            "connexion en cours : recommencez la connexion.", "state_mismatch")
    if int(clock.timestamp()) - int(flow.get("at", 0)) > FLOW_SECONDS:
        raise SignInRefused("La connexion a pris trop de temps : recommencez.", "state_expired")
    return flow


def finish(provider: IdentityProvider, flow: dict, args: dict, redirect_uri: str) -> Identity:
    """Exchange the code of the provider's answer (``args``: the callback's query) and
    verify the ID token; the person's identity, or :class:`SignInRefused`."""
    if args.get("error"):
        log.info("identity provider %s answered %s: %s", provider.name, args.get("error"),
                 args.get("error_description"))
        raise SignInRefused("Le fournisseur d'identité n'a pas confirmé la connexion.",
                            "provider_error")
    code = args.get("code")
    if not code:
        raise SignInRefused("Réponse du fournisseur d'identité incomplète : recommencez.",
                            "no_code")
    document = metadata(provider.issuer)
    client = _client(provider, document, redirect_uri)
    try:
        token = client.fetch_token(document["token_endpoint"], grant_type="authorization_code",
                                   code=code, code_verifier=flow["v"], timeout=HTTP_TIMEOUT)
    except (OAuth2Error, requests.RequestException, ValueError) as exc:
        log.warning("identity provider %s refused the code exchange: %s", provider.name, exc)
        raise SignInRefused("Le fournisseur d'identité a refusé la connexion : recommencez.",
                            "token_exchange") from exc
    if "id_token" not in token:
        raise SignInRefused("Le fournisseur d'identité n'a pas envoyé de jeton d'identité.",
                            "no_id_token")
    claims = verify_id_token(provider, document, token, flow["n"])
    info = dict(claims)
    if not info.get("email") and document.get("userinfo_endpoint"):
        info.update(_user_info(provider, document, client, claims))
    email = str(info.get("email") or "").strip().lower()
    verified = info.get("email_verified") in (True, "true")
    return Identity(provider, str(claims["sub"]), email, verified, token["id_token"],
                    flow.get("next") or "")


def verify_id_token(provider: IdentityProvider, document: dict, token: dict,
                    nonce: str) -> dict:
    """The ID token's claims once its signature, issuer, audience, times, nonce and
    ``at_hash`` are verified (joserfc and Authlib); :class:`SignInRefused` otherwise."""
    algorithms = [a for a in document.get("id_token_signing_alg_values_supported") or ["RS256"]
                  if a != "none"]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(token["id_token"], _key_set(provider.issuer), registry=registry)
        except InvalidKeyIdError:  # the provider rotated its keys
            decoded = jwt.decode(token["id_token"], _key_set(provider.issuer, refresh=True),
                                 registry=registry)
        claims = CodeIDToken(
            decoded.claims, decoded.header,
            {"iss": {"essential": True, "value": document["issuer"]},
             "aud": {"essential": True, "value": provider.client_id}},
            {"nonce": nonce, "client_id": provider.client_id,
             "access_token": token.get("access_token")},
        )
        claims.validate(now=int(clock.timestamp()), leeway=LEEWAY)
    except (JoseError, ValueError, TypeError) as exc:
        log.warning("identity provider %s: ID token refused (%s: %s)", provider.name,
                    type(exc).__name__, exc)
        raise SignInRefused("Le jeton d'identité du fournisseur n'est pas valable "
                            "(signature, émetteur, destinataire, expiration ou rejeu) : "
                            "recommencez la connexion.", "id_token_invalid") from exc
    return dict(claims)


def _user_info(provider, document, client: OAuth2Session, claims: dict) -> dict:
    """The user info (plain JSON, or a JWT signed with the provider's keys, as
    ProConnect sends it), for providers that keep the e-mail out of the ID token."""
    try:
        response = client.get(document["userinfo_endpoint"], timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        if "jwt" in response.headers.get("Content-Type", ""):
            info = jwt.decode(response.text, _key_set(provider.issuer)).claims
        else:
            info = response.json()
    except (requests.RequestException, JoseError, ValueError) as exc:
        log.warning("identity provider %s: user info unavailable (%s)", provider.name, exc)
        raise SignInRefused("Le fournisseur d'identité n'a pas donné votre adresse e-mail.",
                            "userinfo") from exc
    if str(info.get("sub")) != str(claims.get("sub")):
        raise SignInRefused("Le fournisseur d'identité a donné des informations incohérentes.",
                            "userinfo_subject")
    return {k: info[k] for k in ("email", "email_verified") if k in info}


# -- whose account ------------------------------------------------------------------------


def match_account(session, identity: Identity) -> User:
    """The existing account of this tenant the verified identity signs in, or
    :class:`SignInRefused` (no account is ever created here)."""
    provider = identity.provider
    if not identity.email:
        raise SignInRefused("Le fournisseur d'identité n'a pas donné d'adresse e-mail.",
                            "no_email")
    if not identity.email_verified and not provider.trust_unverified_email:
        raise SignInRefused("Votre adresse e-mail n'est pas vérifiée par le fournisseur "
                            "d'identité : la connexion est refusée.", "email_unverified")
    domain = identity.email.rpartition("@")[2]
    if domain not in (provider.allowed_domains or []):
        raise SignInRefused(f"Les adresses « @{domain} » ne peuvent pas se connecter par ce "
                            "fournisseur d'identité.", "domain_not_allowed")
    user = session.scalar(select(User).where(func.lower(User.email) == identity.email))
    if user is None or (provider.organisation_id is not None
                        and user.organisation_id != provider.organisation_id):
        raise SignInRefused("Aucun compte n'existe ici pour cette adresse. Les comptes sont "
                            "créés sur invitation : demandez-en un à votre responsable.",
                            "unknown_account")
    if not user.active:
        raise SignInRefused("Ce compte est désactivé : adressez-vous à votre responsable.",
                            "account_inactive", user=user)
    _check_link(session, identity, user)
    return user


def _check_link(session, identity: Identity, user: User) -> None:
    """Pin the provider's subject to the account at its first sign-in; refuse a later
    sign-in that brings another subject for it (the address now belongs to someone else
    at the provider), or this subject for another account."""
    provider = identity.provider
    links = session.scalars(select(IdentityLink).where(
        IdentityLink.provider_id == provider.id,
        or_(IdentityLink.subject == identity.subject, IdentityLink.user_id == user.id))).all()
    for link in links:
        if link.user_id != user.id or link.subject != identity.subject:
            raise SignInRefused(
                "Cette adresse est liée à une autre identité chez le fournisseur. Demandez à "
                "votre responsable de délier le compte s'il s'agit bien de vous.",
                "subject_mismatch", user=user)
    if links:
        links[0].last_used_at = clock.now()
    else:
        session.add(IdentityLink(provider_id=provider.id, user_id=user.id,
                                 subject=identity.subject))


# -- sign-out -----------------------------------------------------------------------------


def logout_url(provider: IdentityProvider, id_token: str | None,
               post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session URL (RP-initiated logout, with ``id_token_hint`` when
    the token was kept), or ``None`` when it has none or cannot be reached: our session
    ends either way."""
    try:
        document = metadata(provider.issuer)
    except SignInRefused:
        return None
    endpoint = document.get("end_session_endpoint")
    if not endpoint:
        return None
    params = [("id_token_hint", id_token)] if id_token else []
    return add_params_to_uri(endpoint, [
        *params, ("post_logout_redirect_uri", post_logout_redirect_uri),
        ("client_id", provider.client_id), ("state", secrets.token_urlsafe(16))])
