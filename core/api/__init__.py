"""JSON API ``/api/v1``: bearer-token authentication, problem+json errors, OpenAPI."""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from .. import clock, tenancy
from ..accounts.credentials import parse_token_tenant, token_digest
from ..db import db
from ..models import ApiToken, Tenant
from ..policy import ALL_TENANT_ROLES, allow, public
from ..schemas.common import MeSchema
from . import openapi

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi_json", "api.docs"}


@bp.before_request
def _authenticate():
    g.ccas_api = True
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401)
    token = token.strip()
    tenant_id = parse_token_tenant(token)
    if tenant_id is None:
        abort(401)
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        abort(401)
    g.tenant = tenant
    g.ccas_tenant_token = tenancy.set_request_tenant(tenant.id)
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    now = clock.now()
    if (
        row is None
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
        or not row.user.active
    ):
        abort(401)
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 300:
        row.last_used_at = now
        db.session.commit()
    request.ccas_token_id = str(row.id)
    g._login_user = row.user  # Flask-Login's current_user for the rest of the request
    return None


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.route("/me")
@allow(*sorted(ALL_TENANT_ROLES))
def me():
    """The token's user, role, organisation and tenant.
    ---
    get:
      summary: Who am I
      security: [{bearerAuth: []}]
      responses:
        200:
          content:
            application/json:
              schema: MeSchema
        401:
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    user = current_user
    return jsonify(
        MeSchema().dump(
            {
                "id": user.id,
                "email": user.email,
                "full_name": user.full_name,
                "role": str(user.role),
                "organisation": {
                    "id": user.organisation.id,
                    "name": user.organisation.name,
                    "kind": str(user.organisation.kind),
                },
                "tenant": g.tenant,
            }
        )
    )


@bp.route("/openapi.json")
@public
def openapi_json():
    return jsonify(openapi.document())


@bp.route("/docs")
@public
def docs():
    from flask import render_template

    return render_template("api_docs.html", spec=openapi.document())

from . import cases as _cases  # noqa: E402, F401 - registers the case routes
from . import loans as _loans  # noqa: E402, F401 - registers the loan routes
from . import referrals as _referrals  # noqa: E402, F401 - registers the referral routes
