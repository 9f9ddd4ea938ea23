"""Referral API: submit (idempotent), list (filters, cursor pagination), read, answer."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime

from flask import g, jsonify, request, url_for
from flask_login import current_user

from .. import audit, referrals
from ..db import db
from ..errors import UserError
from ..models import Referral, ReferralStatus
from ..policy import REFERRAL_READERS, Role, allow
from ..schemas.referrals import (
    ReferralDecisionInSchema,
    ReferralFollowUpInSchema,
    ReferralInSchema,
    dump_referral,
    referral_data,
)
from . import idempotency
from .auth import token_authenticated
from .blueprint import bp
from .body import load_json
from .views import created

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

_REFERRAL_IN = ReferralInSchema()  # built once: loading does not change it

_DECISION_IN = ReferralDecisionInSchema()




def _attachments(items: list[dict]) -> list[referrals.AttachmentInput]:
    out = []
    for index, item in enumerate(items):
        try:
            content = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise UserError("Pièce jointe : contenu base64 invalide.", status=422,
                            errors={"attachments": {str(index): ["Base64 invalide."]}}) from exc
        out.append(referrals.AttachmentInput(item["filename"], item["content_type"], content))
    return out


@bp.route("/referrals", methods=["POST"])
@token_authenticated
@allow(Role.referrer)
def create_referral():
    """Submit a referral for the caller's organisation.
    ---
    post:
      summary: Submit a referral
      description: >
        The `Idempotency-Key` header is required: the same key with the same body replays
        the first response and creates nothing; with a different body → 422; while the
        first request is in progress → 409. Keys are kept 24 hours, per user.
      security: [{bearerAuth: []}]
      parameters:
        - in: header
          name: Idempotency-Key
          required: true
          schema: {type: string, maxLength: 255}
      requestBody:
        required: true
        content:
          application/json:
            schema: ReferralInSchema
      responses:
        201:
          content:
            application/json:
              schema: ReferralOutSchema
        400:
          content:
            application/problem+json:
              schema: ProblemSchema
        409:
          content:
            application/problem+json:
              schema: ProblemSchema
        415:
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          content:
            application/problem+json:
              schema: ProblemSchema
    """

    def view():
        data = load_json(_REFERRAL_IN)
        person = data["person"]
        referral = referrals.submit(
            db.session, current_user._get_current_object(),  # (not a proxy at each use)
            referrals.ReferralInput(
                first_name=person["first_name"], last_name=person["last_name"],
                birth_date=person["birth_date"], phone=person.get("phone"),
                email=person.get("email"), purpose=data["purpose"],
                amount_requested=data["amount_requested"], consent=data["consent"],
                note=data.get("note") or "", to_organisation_id=data.get("to_organisation"),
                extra=data.get("extra") or {},
            ),
            _attachments(data.get("attachments") or []),
            tenant=g.tenant,
        )
        return created(dump_referral(referral),
                       url_for("api.get_referral", referral_id=referral.id))

    return idempotency.handle(view)


def _encode_cursor(referral: Referral) -> str:
    raw = json.dumps([referral.updated_at.isoformat(), str(referral.id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, rid = json.loads(raw)
        return datetime.fromisoformat(at), uuid.UUID(rid)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise UserError("Curseur de pagination invalide.", status=400, field="cursor",
                        message_en="Invalid cursor.") from exc


def _parse_since(value: str) -> datetime:
    try:
        since = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserError("updated_since : date et heure ISO 8601 attendues.", status=400,
                        field="updated_since", message_en="Invalid updated_since.") from exc
    return since if since.tzinfo else since.replace(tzinfo=UTC)


@bp.route("/referrals", methods=["GET"])
@token_authenticated
@allow(REFERRAL_READERS)
def list_referrals():
    """Referrals the caller may see (a referrer: its organisation's), oldest change first.
    ---
    get:
      summary: List referrals
      security: [{bearerAuth: []}]
      parameters:
        - {in: query, name: status, schema: {type: string}}
        - {in: query, name: updated_since, schema: {type: string, format: date-time}}
        - {in: query, name: cursor, schema: {type: string}}
        - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 200}}
      responses:
        200:
          content:
            application/json:
              schema: ReferralListSchema
        400:
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    status = request.args.get("status") or None
    if status:
        try:
            status = ReferralStatus(status)
        except ValueError as exc:
            raise UserError(f"Statut inconnu : {status!r}.", status=400, field="status",
                            message_en="Unknown status.") from exc
    since = _parse_since(request.args["updated_since"]) \
        if "updated_since" in request.args else None
    after = _decode_cursor(request.args["cursor"]) if request.args.get("cursor") else None
    try:
        limit = int(request.args.get("limit", DEFAULT_LIMIT))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise UserError(f"limit : entre 1 et {MAX_LIMIT}.", status=400, field="limit",
                        message_en="Invalid limit.")
    rows = referrals.listed_referrals(db.session, current_user, limit + 1, status=status,
                                      since=since, after=after)
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1]) if len(rows) > limit else None
    # the page's history and attachments in two queries, not two per referral
    history, attachments = referrals.history_and_attachments(db.session, page)
    # Python values: the app's JSON provider writes them as dump_referral would
    items = [referral_data(r, history[r.id], attachments[r.id]) for r in page]
    audit.record_list_read(db.session, "referral.list", page, actor=current_user,
                           surface="api")
    db.session.commit()
    return jsonify({"items": items, "next_cursor": next_cursor})


@bp.route("/referrals/<referral_id>", methods=["GET"])
@token_authenticated
@allow(REFERRAL_READERS)
def get_referral(referral_id):
    """One referral with its status history (404 if the caller may not see it).
    ---
    get:
      summary: Read a referral
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: referral_id, required: true, schema: {type: string, format: uuid}}
      responses:
        200:
          content:
            application/json:
              schema: ReferralOutSchema
        404:
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    referral = referrals.get_referral(db.session, current_user, referral_id)
    audit.record(db.session, "referral.read", referral, actor=current_user)
    db.session.commit()
    return jsonify(dump_referral(referral))


@bp.route("/referrals/<referral_id>/decision", methods=["POST"])
@token_authenticated
@allow(REFERRAL_READERS)
def decide_referral(referral_id):
    """The receiving organisation accepts or declines (coded reason) a referral.
    ---
    post:
      summary: Accept or decline a referral
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: referral_id, required: true, schema: {type: string, format: uuid}}
        - in: header
          name: Idempotency-Key
          required: true
          schema: {type: string, maxLength: 255}
      requestBody:
        required: true
        content:
          application/json:
            schema: ReferralDecisionInSchema
      responses:
        200:
          content:
            application/json:
              schema: ReferralOutSchema
        404:
          content:
            application/problem+json:
              schema: ProblemSchema
        409:
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          content:
            application/problem+json:
              schema: ProblemSchema
    """

    def act(referral, data):
        if data["decision"] == "accept":
            referrals.accept(db.session, referral, current_user, tenant=g.tenant)
        else:
            referrals.decline(db.session, referral, current_user, data.get("reason") or "",
                              data.get("message") or "", tenant=g.tenant)

    return _as_receiver(referral_id, _DECISION_IN, act)


@bp.route("/referrals/<referral_id>/follow-up", methods=["POST"])
@token_authenticated
@allow(REFERRAL_READERS)
def follow_up_referral(referral_id):
    """The receiving partner reports progress (``in_progress``) or the outcome (``done``
    with a coded ``outcome``) of a referral it accepted.
    ---
    post:
      summary: Report a referral's progress or outcome
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: referral_id, required: true, schema: {type: string, format: uuid}}
        - in: header
          name: Idempotency-Key
          required: true
          schema: {type: string, maxLength: 255}
      requestBody:
        required: true
        content:
          application/json:
            schema: ReferralFollowUpInSchema
      responses:
        200:
          content:
            application/json:
              schema: ReferralOutSchema
        404:
          content:
            application/problem+json:
              schema: ProblemSchema
        409:
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          content:
            application/problem+json:
              schema: ProblemSchema
    """

    def act(referral, data):
        if data["status"] == "in_progress":
            referrals.start(db.session, referral, current_user, data.get("message") or "",
                            tenant=g.tenant)
        else:
            referrals.report_outcome(db.session, referral, current_user,
                                     data.get("outcome") or "", data.get("message") or "",
                                     tenant=g.tenant)

    return _as_receiver(referral_id, ReferralFollowUpInSchema(), act)


def _as_receiver(referral_id, schema, act):
    """The receiving organisation's ``act(referral, data)`` on a referral, with the body
    loaded by ``schema``, once per ``Idempotency-Key``; another organisation's referral
    is a 404. Answers the referral as it now is."""

    def view():
        referral = referrals.get_referral(db.session, current_user, referral_id)
        if not referrals.is_receiver(current_user, referral):
            raise UserError("Cette orientation est introuvable.", status=404)
        act(referral, load_json(schema))
        db.session.flush()
        db.session.refresh(referral)
        return jsonify(dump_referral(referral))

    return idempotency.handle(view)
