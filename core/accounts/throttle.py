"""Rate limits (Flask-Limiter): sign-in per account and per client address, the second
factor, password-reset requests, and a global limit on the API per token.

Storage comes from ``CCAS_RATELIMIT_STORAGE_URL`` (``memory://`` by default, one process
only; ``redis://host:6379`` in production so that every worker shares the counts). If the
storage becomes unreachable, counting falls back to the process memory instead of
refusing every sign-in.

The password step itself is throttled by ``core.accounts.sign_in_guard`` (growing delays
per account and address, never a lock-out of the owner's usual address); the limits here
cover the second-factor step, reset requests and the API. Only failed codes count
(``deduct_when``). Limits use the ``limits`` notation ("10 per 15 minutes") and can be changed
with the variables below (environment or ``create_app`` overrides).
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, current_app, g, request, session
from flask_limiter import Limiter

from ..web import client

DEFAULTS = {
    "CCAS_LOGIN_LIMIT_ACCOUNT": "10 per 15 minutes",
    "CCAS_LOGIN_LIMIT_ADDRESS": "50 per 15 minutes",
    "CCAS_RESET_LIMIT_ACCOUNT": "3 per hour",
    "CCAS_RESET_LIMIT_ADDRESS": "20 per hour",
    "CCAS_API_LIMIT": "600 per minute",
    "CCAS_RATELIMIT_KEY_PREFIX": "ccas",
}

LOGIN_MESSAGE = (
    "Trop de tentatives de connexion pour ce compte ou depuis cette adresse. "
    "Par sécurité, patientez quelques minutes avant de réessayer."
)
CODE_MESSAGE = (
    "Trop de codes incorrects. Par sécurité, patientez quelques minutes avant de réessayer."
)
RESET_MESSAGE = (
    "Trop de demandes de réinitialisation. Patientez avant d'en faire une nouvelle."
)
API_MESSAGE = "Trop de requêtes pour ce jeton : ralentissez et réessayez plus tard."


def setting(name: str) -> str:
    return str(current_app.config.get(name) or os.environ.get(name) or DEFAULTS[name])


def _digest(*parts) -> str:
    joined = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8", "replace")).hexdigest()[:32]


def client_address() -> str:
    """The client's address (``core.web.client``: the trusted proxies' setting)."""
    return client.client_address(request)


def address_key() -> str:
    return "addr:" + client_address()


def account_key() -> str:
    """The account named in the sign-in form, in the current tenant (hashed: no e-mail
    address ends up in the storage or the logs)."""
    tenant = g.get("tenant")
    email = (request.form.get("email") or "").strip().lower()
    return "acct:" + _digest(tenant.id if tenant is not None else "platform", email)


def pending_account_key() -> str:
    """The account waiting for its second factor (from the session)."""
    pending = session.get("ccas_2fa") or {}
    return "2fa:" + _digest(pending.get("kind", "u"), pending.get("tid"), pending.get("uid"))


def token_key() -> str:
    """The API token (hashed), or the client address when there is none."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "tok:" + _digest(token.strip())
    return address_key()


def _failed(response) -> bool:
    return response.status_code in (401, 422)


def init_app(app: Flask) -> Limiter:
    """One limiter per application (its own storage), with the limits on the views."""
    storage = app.config.get("CCAS_RATELIMIT_STORAGE_URL") or "memory://"
    with app.app_context():
        prefix = setting("CCAS_RATELIMIT_KEY_PREFIX")
    limiter = Limiter(
        key_func=address_key,
        storage_uri=storage,
        key_prefix=prefix,
        strategy="moving-window",
        headers_enabled=True,
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    app.extensions["ccas_limiter"] = limiter

    def limit(endpoint: str, value_name: str, key, message: str, failures_only: bool = True):
        view = app.view_functions.get(endpoint)
        if view is None:
            return
        # Flask-Limiter checks a decorated limit when the wrapped view runs: install it.
        app.view_functions[endpoint] = limiter.limit(
            lambda: setting(value_name),
            key_func=key,
            methods=["POST"],
            error_message=message,
            deduct_when=_failed if failures_only else None,
            scope=endpoint,
        )(view)

    # The password step is guarded by core.accounts.sign_in_guard (growing delays).
    for endpoint in ("account.login_code", "account.login_enrol", "operator.login_code",
                     "operator.login_enrol"):
        limit(endpoint, "CCAS_LOGIN_LIMIT_ACCOUNT", pending_account_key, CODE_MESSAGE)
        limit(endpoint, "CCAS_LOGIN_LIMIT_ADDRESS", address_key, CODE_MESSAGE)
    limit("account.password_forgot", "CCAS_RESET_LIMIT_ACCOUNT", account_key, RESET_MESSAGE,
          failures_only=False)
    limit("account.password_forgot", "CCAS_RESET_LIMIT_ADDRESS", address_key, RESET_MESSAGE,
          failures_only=False)
    limit("account.password_reset", "CCAS_LOGIN_LIMIT_ADDRESS", address_key, RESET_MESSAGE)

    api = app.blueprints.get("api")
    if api is not None:
        limiter.limit(lambda: setting("CCAS_API_LIMIT"), key_func=token_key,
                      error_message=API_MESSAGE)(api)
    return limiter


def limiter() -> Limiter:
    return current_app.extensions["ccas_limiter"]
