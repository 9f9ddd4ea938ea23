"""Bearer-token authentication of the JSON API, view by view.

``@token_authenticated`` puts a view behind the API's authentication: the bearer token
names the tenant and the user (revoked, expired or deactivated: 401), the request runs in
that tenant, and errors are rendered as problem+json. It is also the view's explicit
CSRF opt-out: no cookie is read on such a view, so no cross-site form can use one. The
core's API views carry it, and so do the plugins' API views (``ccas_api_blueprints``);
nothing is exempted by blueprint, name or URL prefix.
"""

from __future__ import annotations

import functools

from flask import abort, g, request
from sqlalchemy import bindparam, select

from .. import accounts, clock, tenancy
from ..accounts.credentials import parse_token_tenant, token_digest
from ..db import db
from ..models import ApiToken, Tenant
from ..web.csrf import csrf

#: How often a token's ``last_used_at`` is written (seconds).
LAST_USED_EVERY = 300

#: The token with its user (joined eagerly) and the tenant row, built once: building the
#: statement on every request cost more than running it. The tenant criteria are still
#: added to it per request (``core.tenancy``), as to every ORM statement.
_TOKEN_QUERY = (
    select(ApiToken, Tenant).join(Tenant, Tenant.id == ApiToken.tenant_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def authenticate() -> None:
    """Authenticate the request's bearer token (``abort(401)`` otherwise) and set the
    tenant and the user for the rest of the request."""
    g.ccas_api = True
    if g.get("ccas_token_user") is not None:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401)
    token = token.strip()
    tenant_id = parse_token_tenant(token)
    if tenant_id is None:
        abort(401)
    # The tenant id is in the token: set it first, then one query reads the token, its
    # user (joined eagerly) and the tenant row, in the transaction that carries it.
    g.ccas_tenant_token = tenancy.set_request_tenant(tenant_id)
    found = db.session.execute(_TOKEN_QUERY, {"token_hash": token_digest(token)}).first()
    now = clock.now()
    row, tenant = found if found is not None else (None, None)
    if (
        row is None
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
        or not row.user.active
    ):
        tenancy.reset(g.pop("ccas_tenant_token"))
        abort(401)
    g.tenant = tenant
    accounts.ensure_not_suspended(tenant)
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > LAST_USED_EVERY:
        row.last_used_at = now
        db.session.commit()
    request.ccas_token_id = str(row.id)
    g.ccas_token_user = row.user
    g._login_user = row.user  # Flask-Login's current_user for the rest of the request


def token_authenticated(view):
    """Decorate a JSON view: bearer-token authentication, and the explicit CSRF opt-out.
    Put it above ``@allow(...)``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        authenticate()
        return view(*args, **kwargs)

    wrapper.ccas_token_authenticated = True
    csrf.exempt(wrapper)
    return wrapper
