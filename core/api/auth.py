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

from .. import accounts, adopted_rows, clock, tenancy
from ..accounts.credentials import parse_token_tenant, token_digest
from ..db import db
from ..models import ApiToken, Organisation, Tenant, User
from ..web.csrf import csrf

#: How often a token's ``last_used_at`` is written (seconds).
LAST_USED_EVERY = 300

_TOKENS, _USERS, _ORGS, _TENANTS = (ApiToken.__table__, User.__table__, Organisation.__table__,
                                    Tenant.__table__)

#: The token, its user with the user's organisation (which the ORM loads with a user) and
#: the tenant row in one Core read under the tenant wall (the tenant criterion on each
#: tenant table; built once): the user and the tenant are then adopted as loaded objects
#: (``core.adopted_rows``), which costs less than the ORM's load of the same rows.
_TOKEN_ROW = tenancy.scoped_select(
    select(_TOKENS.c.id.label("token_id"), _TOKENS.c.expires_at, _TOKENS.c.revoked_at,
           _TOKENS.c.last_used_at, *adopted_rows.columns(User, "user_"),
           *adopted_rows.columns(Organisation, "org_"),
           *adopted_rows.columns(Tenant, "tenant_"))
    .join_from(_TOKENS, _USERS, _USERS.c.id == _TOKENS.c.user_id)
    .join(_ORGS, _ORGS.c.id == _USERS.c.organisation_id)
    .join(_TENANTS, _TENANTS.c.id == _TOKENS.c.tenant_id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)


def authenticate() -> None:
    """Authenticate the request's bearer token (``abort(401)`` otherwise) and set the
    tenant and the user for the rest of the request."""
    ctx_g = g._get_current_object()  # (the proxies looked up once, not at each use)
    ctx_g.ccas_api = True
    if ctx_g.get("ccas_token_user") is not None:
        return
    req = request._get_current_object()
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401)
    token = token.strip()
    tenant_id = parse_token_tenant(token)
    if tenant_id is None:
        abort(401)
    # The tenant id is in the token: set it first, then one query reads the token, its
    # user and the tenant row, in the transaction that carries it.
    ctx_g.ccas_tenant_token = tenancy.set_request_tenant(tenant_id)
    session = db.session
    found = tenancy.scoped_rows(session, _TOKEN_ROW, {"token_hash": token_digest(token)})
    row = found[0]._mapping if found else None
    now = clock.now()
    if (
        row is None
        or row["revoked_at"] is not None
        or (row["expires_at"] is not None and row["expires_at"] <= now)
        or not row["user_active"]
    ):
        tenancy.reset(ctx_g.pop("ccas_tenant_token"))
        abort(401)
    tenant = adopted_rows.adopted(session, Tenant, "tenant_", found[0])
    ctx_g.tenant = tenant
    accounts.ensure_not_suspended(tenant)
    last_used = row["last_used_at"]
    if last_used is None or (now - last_used).total_seconds() > LAST_USED_EVERY:
        tenancy.scoped_update(session, _TOKENS, {"id": row["token_id"]},
                              {"last_used_at": now})
        session.commit()
    organisation = adopted_rows.adopted(session, Organisation, "org_", found[0])
    user = adopted_rows.adopted(session, User, "user_", found[0], organisation=organisation)
    req.ccas_token_id = str(row["token_id"])
    ctx_g.ccas_token_user = user
    ctx_g._login_user = user  # Flask-Login's current_user for the rest of the request


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
