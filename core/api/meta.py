"""Who am I, and the API's own description (OpenAPI document and its readable page)."""

from __future__ import annotations

from flask import abort, g, jsonify, render_template
from flask_login import current_user

from ..errors import PROBLEM_KINDS, PROBLEM_PATH, TITLES
from ..policy import ALL_TENANT_ROLES, allow, public
from ..schemas.common import MeSchema
from . import openapi
from .auth import token_authenticated
from .blueprint import bp


@bp.route("/me")
@token_authenticated
@allow(ALL_TENANT_ROLES)
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

    return render_template("api_docs.html", spec=openapi.document())


@bp.route("/problems/")
@public
def problem_kinds():
    """Every kind of problem the API answers with (the ``type`` of a problem body)."""
    return jsonify([_kind(kind) for kind in PROBLEM_KINDS])


@bp.route("/problems/<kind>")
@public
def problem_kind(kind: str):
    """What a problem's ``type`` means: its status, title and what to do."""
    if kind not in PROBLEM_KINDS:
        abort(404)
    return jsonify(_kind(kind))


def _kind(kind: str) -> dict:
    status, description = PROBLEM_KINDS[kind]
    return {"type": PROBLEM_PATH + kind, "status": status,
            "title": TITLES.get(status, ("Erreur", ""))[0], "description": description}
