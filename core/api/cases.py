"""Case API: intake, list (filters, pagination), read, transitions.

CCAS staff and the lender's agents only; the lender sees cases from the state its plugin
declares (``core.cases.visible_cases``) and never a private note
(``core.schemas.cases.dump_case``). Unknown ids and other tenants' cases answer 404.
"""

from __future__ import annotations

from flask import g, jsonify, request
from flask_login import current_user

from .. import audit, cases, paging, workflow
from ..cases import intake as intake_service
from ..cases.intake import IntakeRequest, PossibleDuplicates
from ..db import db
from ..errors import problem
from ..policy import CASE_READERS, CCAS_STAFF, allow
from ..schemas.cases import TransitionInSchema, case_data, dump_case, intake_schema
from .auth import token_authenticated
from .blueprint import bp
from .body import load_json
from .views import caller_role, created

MAX_PER_PAGE = 100

_TRANSITION_IN = TransitionInSchema()  # built once: loading does not change it




def _consent(data: dict) -> dict:
    """The consent to a reorientation, when given (``core.referrals.consent_problem``)."""
    if not data.get("consent"):
        return {}
    return {"consent": "yes", "consent_method": data.get("consent_method")}


@bp.route("/cases", methods=["POST"])
@token_authenticated
@allow(CCAS_STAFF)
def create_case():
    """Open a case from an intake sheet (state ``intake``, or further when an intake option
    of the tenant's plugins is set to true: each is a boolean at the top level, listed in
    ``CaseIn``).
    ---
    post:
      summary: Open a case (intake sheet)
      security: [{bearerAuth: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema: CaseInSchema
      responses:
        201:
          description: The case opened.
          content:
            application/json:
              schema: CaseSchema
        400:
          description: Malformed JSON.
          content:
            application/problem+json:
              schema: ProblemSchema
        403:
          description: The role may not open cases.
          content:
            application/problem+json:
              schema: ProblemSchema
        409:
          description: >
            A person with the same names and birth date is known: `duplicates` lists them;
            resend with `person_id` or `"new_person": true`.
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          description: Invalid data (per-field `errors`), or the intake option's move refused.
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    options = workflow.current().intake_options
    data = load_json(intake_schema(tuple(o.name for o in options))())
    try:
        case = intake_service.intake(db.session, g.tenant, current_user, IntakeRequest(
            purpose=data["purpose"], amount_requested=data["amount_requested"],
            person=cases.PersonData(**data["person"]) if data.get("person") else None,
            person_id=data["person_id"], new_person=data["new_person"],
            project=data["project"], source=data["source"],
            referring_organisation_id=data["referring_organisation_id"],
            options={o.name for o in options if data.get(o.name)},
        ))
    except PossibleDuplicates as exc:
        db.session.commit()  # the reads of the people shown are audited
        return problem(
            409, exc.message, kind=exc.kind, detail_en=exc.message_en,
            duplicates=[{"id": str(p.id), "first_name": p.first_name,
                         "last_name": p.last_name,
                         "birth_date": p.birth_date.isoformat()} for p in exc.duplicates],
        )
    db.session.commit()
    return created(dump_case(db.session, case, caller_role()))


@bp.route("/cases", methods=["GET"])
@token_authenticated
@allow(CASE_READERS)
def list_cases():
    """List the cases the caller may see, newest intake first.
    ---
    get:
      summary: List cases
      security: [{bearerAuth: []}]
      parameters:
        - {in: query, name: state, schema: {type: string}}
        - {in: query, name: purpose, schema: {type: string}}
        - {in: query, name: worker, schema: {type: string}, description: "user id or none"}
        - {in: query, name: date_from, schema: {type: string, format: date}}
        - {in: query, name: date_to, schema: {type: string, format: date}}
        - {in: query, name: q, schema: {type: string}, description: "name or reference"}
        - {in: query, name: page, schema: {type: integer, minimum: 1, maximum: 100000}}
        - {in: query, name: per_page, schema: {type: integer, minimum: 1, maximum: 100}}
        - in: query
          name: count
          schema: {type: boolean}
          description: >
            `true` to get `total`, the number of matching cases (it costs a count of the
            tenant's matching cases: ask for it once, not on every page). Without it
            `total` is null; `has_more` says whether a next page exists.
      responses:
        200:
          content:
            application/json:
              schema: CaseListSchema
        422:
          description: An unknown filter value.
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    args = request.args
    filters = cases.CaseFilters(
        state=args.get("state") or None, purpose=args.get("purpose") or None,
        worker=args.get("worker") or None, q=(args.get("q") or "")[:100],
        date_from=cases.parse_date(args.get("date_from"), "date_from"),
        date_to=cases.parse_date(args.get("date_to"), "date_to"),
    )
    page = paging.bounded_int(args.get("page"), "page", 1, 1, paging.MAX_PAGE)
    per_page = paging.bounded_int(args.get("per_page"), "per_page", 25, 1, MAX_PER_PAGE)
    count = (args.get("count") or "").lower() in ("1", "true", "yes")
    role = caller_role()
    # one row more than the page says whether another page follows, without a count
    rows, total = cases.list_case_rows(db.session, role, filters, per_page + 1,
                                       offset=(page - 1) * per_page, count=count)
    more, rows = len(rows) > per_page, rows[:per_page]
    session, flow = db.session, workflow.current()
    bounds = cases.lending_bounds(session) if rows else None  # once, not once a case
    # Python values: the app's JSON provider writes them as dump_case would
    items = [case_data(session, c, role, detail=False, flow=flow, bounds=bounds)
             for c in rows]
    audit.record_list_read(session, "case.list", rows, page=page, surface="api")
    session.commit()
    return jsonify({"items": items, "total": total, "has_more": more,
                    "page": page, "per_page": per_page})


@bp.route("/cases/<case_id>", methods=["GET"])
@token_authenticated
@allow(CASE_READERS)
def get_case(case_id: str):
    """Read a case: the person (minimised by role), its transitions, interviews and
    budget (private notes only for social workers and the manager).
    ---
    get:
      summary: Read a case
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
      responses:
        200:
          content:
            application/json:
              schema: CaseSchema
        404:
          description: Unknown, another tenant's, or not visible to the caller.
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_case(db.session, case_id, caller_role())
    body = case_data(db.session, case, caller_role())  # written by the app's JSON provider
    audit.record_now(db.session, "case.read", case)
    db.session.commit()
    return jsonify(body)


@bp.route("/cases/<case_id>/transitions", methods=["POST"])
@token_authenticated
@allow(CASE_READERS)
def transition_case(case_id: str):
    """Move a case to another state.
    ---
    post:
      summary: Apply a transition
      description: >
        `version` is the case's version as last read (optimistic locking). Abandon,
        refusal and reorientation need a coded `reason`; reorientation a `destination`;
        adjournment a `reason_text`.
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
      requestBody:
        required: true
        content:
          application/json:
            schema: TransitionInSchema
      responses:
        200:
          description: The case in its new state.
          content:
            application/json:
              schema: CaseSchema
        400:
          description: Malformed JSON.
          content:
            application/problem+json:
              schema: ProblemSchema
        403:
          description: The role may not make this move.
          content:
            application/problem+json:
              schema: ProblemSchema
        404:
          description: Unknown case.
          content:
            application/problem+json:
              schema: ProblemSchema
        409:
          description: Stale version; reload the case.
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          description: Illegal transition, missing data, failed check or plugin veto (the
            message names the rule or the plugin).
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_case(db.session, case_id, caller_role())
    data = load_json(_TRANSITION_IN)
    workflow.apply_transition(
        db.session, case,
        workflow.TransitionRequest(
            target=data["to"], version=data["version"], reason=data["reason"],
            reason_text=data["reason_text"], destination=data["destination"],
            data=_consent(data),
        ),
        current_user,
    )
    db.session.commit()
    return jsonify(dump_case(db.session, case, caller_role()))
