"""Referral API schemas (input validation and output), French error messages."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from .. import cases
from ..models import Purpose, ReferralStatus
from .common import Money
from .plain import plain

REQUIRED = {"required": "Champ obligatoire.", "null": "Champ obligatoire."}


class _Strict(Schema):
    error_messages = {"unknown": "Champ inconnu.", "type": "Un objet JSON est attendu."}

    class Meta:
        unknown = RAISE


class ReferralPersonInSchema(_Strict):
    first_name = fields.String(required=True, validate=validate.Length(1, 100),
                               error_messages=REQUIRED)
    last_name = fields.String(required=True, validate=validate.Length(1, 100),
                              error_messages=REQUIRED)
    birth_date = fields.Date(required=True, error_messages={
        **REQUIRED, "invalid": "Date invalide (format AAAA-MM-JJ, date existante)."})
    phone = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(max=30))
    email = fields.Email(load_default=None, allow_none=True,
                         error_messages={"invalid": "Adresse e-mail invalide."})


class ReferralAttachmentInSchema(_Strict):
    filename = fields.String(required=True, validate=validate.Length(1, 200),
                             error_messages=REQUIRED)
    content_type = fields.String(required=True, error_messages=REQUIRED,
                                 metadata={"description": "application/pdf, image/jpeg or "
                                                          "image/png"})
    content_base64 = fields.String(required=True, error_messages=REQUIRED)


class ReferralInSchema(_Strict):
    """``POST /api/v1/referrals`` body."""

    person = fields.Nested(ReferralPersonInSchema, required=True, error_messages=REQUIRED)
    purpose = fields.String(
        required=True, error_messages=REQUIRED,
        validate=validate.OneOf([p.value for p in Purpose],
                                error="Objet inconnu (attendu : {choices})."),
    )
    amount_requested = Money(required=True, maximum=cases.MAX_REQUEST,
                             error_messages=REQUIRED)
    note = fields.String(load_default="", validate=validate.Length(max=5000))
    consent = fields.Boolean(
        required=True,
        error_messages={**REQUIRED, "invalid": "Le consentement doit valoir true."},
        metadata={"description": "The person agreed to be referred (must be true)."},
    )
    to_organisation = fields.UUID(load_default=None, allow_none=True,
                                  error_messages={"invalid_uuid": "Identifiant invalide."},
                                  metadata={"description": "Default: the tenant's CCAS."})
    extra = fields.Dict(keys=fields.String(), load_default=dict,
                        metadata={"description": "Fields required by the receiving "
                                                 "organisation's plugin."})
    attachments = fields.List(fields.Nested(ReferralAttachmentInSchema), load_default=list,
                              validate=validate.Length(max=5))

    @validates("consent")
    def _consent_given(self, value, **_kw):
        if value is not True:
            raise ValidationError("Le consentement de la personne est obligatoire (true).")


class ReferralDecisionInSchema(_Strict):
    """``POST /api/v1/referrals/<id>/decision`` body (the receiving organisation)."""

    decision = fields.String(required=True, error_messages=REQUIRED,
                             validate=validate.OneOf(["accept", "decline"]))
    reason = fields.String(load_default=None, allow_none=True,
                           metadata={"description": "Coded decline reason (required to "
                                                    "decline)."})
    message = fields.String(load_default="", validate=validate.Length(max=2000))


class ReferralFollowUpInSchema(_Strict):
    """``POST /api/v1/referrals/<id>/follow-up`` body (the receiving partner, once it has
    accepted): working on it, or what came of it (coded outcome)."""

    status = fields.String(required=True, error_messages=REQUIRED,
                           validate=validate.OneOf(["in_progress", "done"]))
    outcome = fields.String(load_default=None, allow_none=True,
                            metadata={"description": "Coded outcome (required with "
                                                     "``done``): aid_granted, aid_refused, "
                                                     "not_reached, person_withdrew, "
                                                     "redirected, or the tenant's codes."})
    message = fields.String(load_default="", validate=validate.Length(max=2000))


class OrganisationBriefSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class ReferralPersonOutSchema(Schema):
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.Date(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class ReferralHistoryOutSchema(Schema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    at = fields.DateTime()
    reason_code = fields.String(allow_none=True)
    message = fields.String()


class ReferralAttachmentOutSchema(Schema):
    id = fields.UUID()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class ReferralOutSchema(Schema):
    id = fields.UUID()
    reference = fields.String()
    status = fields.String(validate=validate.OneOf([s.value for s in ReferralStatus]))
    status_label = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    status_changed_at = fields.DateTime()
    from_organisation = fields.Nested(OrganisationBriefSchema)
    to_organisation = fields.Nested(OrganisationBriefSchema)
    person = fields.Nested(ReferralPersonOutSchema)
    purpose = fields.String()
    amount_requested = fields.Decimal(as_string=True, allow_none=True)
    note = fields.String()
    consent = fields.Boolean()
    consent_at = fields.DateTime()
    consent_by = fields.String()
    extra = fields.Dict()
    decline_reason = fields.String(allow_none=True)
    consent_method = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    history = fields.List(fields.Nested(ReferralHistoryOutSchema))
    attachments = fields.List(fields.Nested(ReferralAttachmentOutSchema))


class ReferralListSchema(Schema):
    items = fields.List(fields.Nested(ReferralOutSchema))
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Pass as `cursor` to get the next page; null on the last page."})


def _text(value):
    """A value as marshmallow's ``String`` field writes it (enums by their value)."""
    return None if value is None else str(value)


def _organisation(org):
    return None if org is None else {"id": org.id, "name": _text(org.name)}


def referral_data(referral, history=None, attachments=None) -> dict:
    """The referral as a referrer or staff member may see it (no case internals), as
    Python values shaped as ``ReferralOutSchema`` documents; ``history`` and
    ``attachments``: its status changes and attachments when the caller read them for a
    page (``core.referrals.history_and_attachments``), its relationships otherwise."""
    history = referral.history if history is None else history
    attachments = referral.attachments if attachments is None else attachments
    return {
        "id": referral.id, "reference": _text(referral.reference),
        "status": str(referral.status), "status_label": _text(referral.status_label),
        "created_at": referral.created_at, "updated_at": referral.updated_at,
        "status_changed_at": referral.status_changed_at,
        "from_organisation": _organisation(referral.from_organisation),
        "to_organisation": _organisation(referral.to_organisation),
        "person": {"first_name": _text(referral.first_name),
                   "last_name": _text(referral.last_name),
                   "birth_date": referral.birth_date, "phone": _text(referral.phone),
                   "email": _text(referral.email)},
        "purpose": _text(referral.purpose),
        "amount_requested": referral.amount_requested, "note": _text(referral.note),
        "consent": None if referral.consent is None else bool(referral.consent),
        "consent_at": referral.consent_at, "consent_by": _text(referral.consent_by),
        "extra": dict(referral.extra or {}),
        "decline_reason": _text(referral.decline_reason),
        "consent_method": _text(referral.consent_method), "outcome": _text(referral.outcome),
        "history": [{"from_status": _text(h.from_status), "to_status": _text(h.to_status),
                     "at": h.at, "reason_code": _text(h.reason_code),
                     "message": _text(h.message)} for h in history],
        "attachments": [{"id": a.id, "filename": _text(a.filename),
                         "content_type": _text(a.content_type),
                         "size": None if a.size is None else int(a.size)}
                        for a in attachments],
    }


def dump_referral(referral, history=None, attachments=None) -> dict:
    """The referral as a referrer or staff member may see it (no case internals), JSON-
    ready: ``ReferralOutSchema``'s document, built without marshmallow (``core.schemas.
    plain``; ``tests/test_referral_api.py`` checks both give the same)."""
    data = referral_data(referral, history, attachments)
    extra = data.pop("extra")
    out = plain(data)
    out["extra"] = extra  # marshmallow's Dict field writes it as it is
    return out
