"""Synthesis API: the social worker's dated, versioned synthesis of the situation (the
four subjects of the evaluation). Same rules as the pages (``core.web.synthesis``): the
social workers and the manager write; whoever may read the case's file reads it (the
lender's agents once the case was submitted to them)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from .. import audit, cases
from ..cases import synthesis
from ..db import db
from ..policy import CASE_READERS, SOCIAL_WORKERS, allow
from ..schemas.file import SynthesisInSchema, dump_synthesis
from .auth import token_authenticated
from .blueprint import bp
from .body import load_json
from .views import caller_role, created

_SYNTHESIS_IN = SynthesisInSchema()


@bp.route("/cases/<case_id>/synthesis", methods=["GET"])
@token_authenticated
@allow(CASE_READERS)
def get_synthesis(case_id: str):
    """The current synthesis and every version, newest first.
    ---
    get:
      summary: Read a case's synthesis
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
      responses:
        200:
          content:
            application/json:
              schema: SynthesisListSchema
        404:
          description: Unknown case, another tenant's, or not readable yet (the lender's
            agents before the submission).
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_file_case(db.session, case_id, caller_role())
    versions = [dump_synthesis(row) for row in synthesis.versions(db.session, case)]
    audit.record(db.session, "case.read", case, view="synthesis", surface="api")
    db.session.commit()
    return jsonify({"current": versions[0] if versions else None, "versions": versions})


@bp.route("/cases/<case_id>/synthesis", methods=["POST"])
@token_authenticated
@allow(SOCIAL_WORKERS)
def write_synthesis(case_id: str):
    """Write a new version of the synthesis (the earlier ones stay).
    ---
    post:
      summary: Write a new version of the synthesis
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
      requestBody:
        required: true
        content:
          application/json:
            schema: SynthesisInSchema
      responses:
        201:
          description: The new version.
          content:
            application/json:
              schema: SynthesisSchema
        404:
          description: Unknown case or another tenant's.
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          description: Every subject empty, a text too long, nothing changed since the last
            version, or a closed case.
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_case(db.session, case_id, caller_role())
    data = load_json(_SYNTHESIS_IN)
    row = synthesis.write(db.session, case, data, current_user)
    body = dump_synthesis(row)
    db.session.commit()
    return created(body)
