"""Household API: the members of the person's household (shared by every case of the
person) and the co-borrower of the case.

Same rules as the household block of the case page (``core.web.household``): the CCAS
team edits; whoever may read the case's file reads it (the lender's agents once the case
was submitted to them, and a member's age rather than the birth date). Changes are
audited by ``core.cases.household``; reads as a read of the case."""

from __future__ import annotations

from flask import Response, g, jsonify
from flask_login import current_user

from .. import audit, cases
from ..cases import household, local_today
from ..db import db
from ..policy import CASE_READERS, CCAS_STAFF, allow
from ..schemas.file import (
    CoBorrowerInSchema,
    HouseholdMemberInSchema,
    HouseholdMemberPatchSchema,
    dump_household,
    dump_member,
)
from .auth import token_authenticated
from .blueprint import bp
from .body import load_json
from .views import caller_role, created

_MEMBER_IN = HouseholdMemberInSchema()
_MEMBER_PATCH = HouseholdMemberPatchSchema()
_CO_BORROWER_IN = CoBorrowerInSchema()


@bp.route("/cases/<case_id>/household", methods=["GET"])
@token_authenticated
@allow(CASE_READERS)
def get_household(case_id: str):
    """The person's household as this case sees it (members, co-borrower).
    ---
    get:
      summary: Read the household of a case's person
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
      responses:
        200:
          content:
            application/json:
              schema: HouseholdSchema
        404:
          description: Unknown case, another tenant's, or not readable yet (the lender's
            agents before the submission).
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_file_case(db.session, case_id, caller_role())
    body = dump_household(db.session, case, caller_role(), local_today(g.tenant))
    audit.record(db.session, "case.read", case, view="household", surface="api")
    db.session.commit()
    return jsonify(body)


@bp.route("/cases/<case_id>/household/members", methods=["POST"])
@token_authenticated
@allow(CCAS_STAFF)
def add_household_member(case_id: str):
    """Add a member to the person's household (the budget's adults and children's ages
    follow).
    ---
    post:
      summary: Add a household member
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
      requestBody:
        required: true
        content:
          application/json:
            schema: HouseholdMemberInSchema
      responses:
        201:
          description: The member added.
          content:
            application/json:
              schema: HouseholdMemberSchema
        404:
          description: Unknown case or another tenant's.
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          description: A missing first name or relationship, a child without a birth date,
            a birth date in the future (`errors` names every field).
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_case(db.session, case_id, caller_role())
    data = load_json(_MEMBER_IN)
    member = household.add_member(db.session, case.person, data, current_user, g.tenant)
    body = dump_member(member, case, caller_role(), local_today(g.tenant))
    db.session.commit()
    return created(body)


@bp.route("/cases/<case_id>/household/members/<member_id>", methods=["PATCH"])
@token_authenticated
@allow(CCAS_STAFF)
def update_household_member(case_id: str, member_id: str):
    """Change a member (the fields left out keep their value).
    ---
    patch:
      summary: Change a household member
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
        - {in: path, name: member_id, required: true, schema: {type: string, format: uuid}}
      requestBody:
        required: true
        content:
          application/json:
            schema: HouseholdMemberPatchSchema
      responses:
        200:
          description: The member changed.
          content:
            application/json:
              schema: HouseholdMemberSchema
        404:
          description: Unknown case or member, or another tenant's.
          content:
            application/problem+json:
              schema: ProblemSchema
        409:
          description: The member co-borrows on a case already with the lender.
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          description: Invalid values (`errors` names every field).
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_case(db.session, case_id, caller_role())
    member = household.get_member(db.session, case.person, member_id)
    data = load_json(_MEMBER_PATCH)
    household.update_member(db.session, member, data, current_user, g.tenant)
    body = dump_member(member, case, caller_role(), local_today(g.tenant))
    db.session.commit()
    return jsonify(body)


@bp.route("/cases/<case_id>/household/members/<member_id>", methods=["DELETE"])
@token_authenticated
@allow(CCAS_STAFF)
def remove_household_member(case_id: str, member_id: str):
    """Remove a member of the household; refused while they co-borrow on a case.
    ---
    delete:
      summary: Remove a household member
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
        - {in: path, name: member_id, required: true, schema: {type: string, format: uuid}}
      responses:
        204:
          description: Removed.
        404:
          description: Unknown case or member, or another tenant's.
          content:
            application/problem+json:
              schema: ProblemSchema
        409:
          description: The member is the co-borrower of a case.
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_case(db.session, case_id, caller_role())
    member = household.get_member(db.session, case.person, member_id)
    household.remove_member(db.session, member, current_user, g.tenant)
    db.session.commit()
    return Response(status=204)


@bp.route("/cases/<case_id>/co-borrower", methods=["PUT"])
@token_authenticated
@allow(CCAS_STAFF)
def set_co_borrower(case_id: str):
    """Mark an adult member of the household as the case's co-borrower (`null`: none);
    possible until the case goes to the lender.
    ---
    put:
      summary: Set the case's co-borrower
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
      requestBody:
        required: true
        content:
          application/json:
            schema: CoBorrowerInSchema
      responses:
        200:
          description: The household with the co-borrower.
          content:
            application/json:
              schema: HouseholdSchema
        404:
          description: Unknown case or another tenant's.
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          description: Not a member of the household, a minor, or the case is already with
            the lender.
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_case(db.session, case_id, caller_role())
    data = load_json(_CO_BORROWER_IN)
    household.set_co_borrower(db.session, case, data["member_id"], current_user, g.tenant)
    body = dump_household(db.session, case, caller_role(), local_today(g.tenant))
    db.session.commit()
    return jsonify(body)
