"""Referral pages: the partners' portal (submit, list, follow), the CCAS incoming queue
(accept → case, decline with a coded reason) and the manager's failed-deliveries page."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import NamedTuple

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case as sa_case
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from .. import audit, paging, referrals, sorting
from ..db import db
from ..errors import UserError
from ..hookspecs import hookimpl
from ..models import (
    PURPOSE_LABELS,
    REFERRAL_STATUS_LABELS,
    Organisation,
    OrganisationKind,
    Referral,
    ReferralAttachment,
    ReferralStatus,
)
from ..models.referral import AWAITING_ANSWER
from ..outbox import delivery
from ..plugins.types import NavItem
from ..policy import MANAGER, REFERRAL_READERS, Role, allow
from ..workflow import reasons
from . import form_tokens

bp = Blueprint("referrals", __name__, url_prefix="/t/<tenant>/orientations")

REFERRAL_FORM = "referral"  # the one-time token's form name (core.web.form_tokens)
EXTRA_PREFIX = "extra-"  # form names of the plugins' fields (``Referral.extra``)



@hookimpl
def ccas_nav_items():
    return [NavItem("Orientations", "referrals.index", REFERRAL_READERS, order=40,
                    section="Orientations"),
            NavItem("Envois en échec", "referrals.dead_letters", MANAGER, order=90,
                    section="Orientations")]


def _get(referral_id) -> Referral:
    try:
        return referrals.get_referral(db.session, current_user, referral_id)
    except UserError:
        abort(404)


_FROM = aliased(Organisation, name="sort_from_org")
_TO = aliased(Organisation, name="sort_to_org")


_FROM_ORG = aliased(Organisation, name="from_org")
_TO_ORG = aliased(Organisation, name="to_org")

#: What the referral lists (``referrals/_table.html``) and their grouping read of a
#: referral: its columns, then its organisations' names and kinds (joined).
LIST_COLUMNS = (Referral.id, Referral.status, Referral.first_name, Referral.last_name,
                Referral.status_changed_at, Referral.from_organisation_id,
                Referral.to_organisation_id,
                _FROM_ORG.name, _FROM_ORG.kind, _TO_ORG.name, _TO_ORG.kind)


class OrganisationRef(NamedTuple):
    name: str
    kind: str


class ReferralItem(NamedTuple):
    """A referral as the lists show it (``referrals/_table.html``): a light row read as
    :data:`LIST_COLUMNS`, with the attributes the template reads of a ``Referral``."""

    id: uuid.UUID
    status: str
    first_name: str
    last_name: str
    status_changed_at: datetime
    from_organisation_id: uuid.UUID
    to_organisation_id: uuid.UUID
    from_organisation: OrganisationRef
    to_organisation: OrganisationRef

    @property
    def reference(self) -> str:  # as ``Referral.reference``
        return self.id.hex[:8].upper() if self.id else ""


#: The referrals a list page shows at most, in its order (the most recently changed
#: first by default); beyond, the page says so, and still shows every referral that
#: awaits an answer (up to as many again).
LIST_CAP = 500


def _list_items(stmt) -> list[ReferralItem]:
    """The referrals of ``stmt`` (``visible_referrals``, filtered, sorted, limited) as
    light rows: one statement, no entities (each with its organisations)."""
    stmt = (stmt.with_only_columns(*LIST_COLUMNS)
            .join_from(Referral, _FROM_ORG, _FROM_ORG.id == Referral.from_organisation_id)
            .join_from(Referral, _TO_ORG, _TO_ORG.id == Referral.to_organisation_id))
    return [ReferralItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6],
                         OrganisationRef(r[7], r[8]), OrganisationRef(r[9], r[10]))
            for r in db.session.execute(stmt)]


def referral_sort_spec() -> sorting.SortSpec:
    """The referral lists' sortable columns (``core.sorting``). The default: the last
    change of status first (the date the lists show; at most ``LIST_CAP`` referrals of a
    partner or of the CCAS are read); statuses sort in the order of their labels'
    table (the referral's life), organisations by name."""
    status_rank = {str(code): rank for rank, code in enumerate(REFERRAL_STATUS_LABELS)}
    return sorting.SortSpec({
        "reference": sorting.SortColumn((Referral.id,)),
        "person": sorting.SortColumn((func.lower(Referral.last_name),
                                      func.lower(Referral.first_name), Referral.id)),
        "from": sorting.SortColumn((func.lower(_FROM.name), Referral.id)),
        "to": sorting.SortColumn((func.lower(_TO.name), Referral.id)),
        "status": sorting.SortColumn((sa_case(status_rank, value=Referral.status,
                                              else_=len(status_rank)), Referral.id)),
        "changed": sorting.SortColumn((Referral.status_changed_at, Referral.updated_at,
                                       Referral.id),
                                      first="desc"),
    }, default="changed", default_dir="desc")


def _sort_joins(stmt, sort: sorting.Sorting):
    if sort.key == "from":
        stmt = stmt.join(_FROM, _FROM.id == Referral.from_organisation_id)
    elif sort.key == "to":
        stmt = stmt.join(_TO, _TO.id == Referral.to_organisation_id)
    return stmt


@bp.route("/")
@allow(REFERRAL_READERS)
def index():
    status = request.args.get("statut") or ""
    stmt = referrals.visible_referrals(current_user)
    if status:
        try:
            stmt = stmt.where(Referral.status == ReferralStatus(status))
        except ValueError:
            status = ""
    sort = sorting.sort_from(request.args, referral_sort_spec())
    stmt = _sort_joins(stmt, sort)
    # only the columns the tables show and the grouping needs, as light rows (up to
    # LIST_CAP, each with its organisations' names joined): no entities
    order = sorting.order_by(sort)
    rows, beyond = paging.capped(_list_items(stmt.order_by(*order).limit(LIST_CAP + 1)),
                                 LIST_CAP)
    if beyond:  # the oldest are left out, but never one that awaits an answer
        shown = {r.id for r in rows}
        rows += [r for r in _list_items(stmt.where(Referral.status.in_(AWAITING_ANSWER))
                                        .order_by(*order).limit(LIST_CAP))
                 if r.id not in shown]
    org_id = current_user.organisation_id
    if referrals.is_staff(current_user):
        to_answer = [r for r in rows if r.status in AWAITING_ANSWER
                     and r.to_organisation.kind == OrganisationKind.ccas]
        sent = [r for r in rows if r.from_organisation.kind == OrganisationKind.ccas]
        listed = {r.id for r in to_answer} | {r.id for r in sent}
        received = [r for r in rows if r.id not in listed]
    else:
        to_answer = [r for r in rows if r.status in AWAITING_ANSWER
                     and r.to_organisation_id == org_id]
        sent = [r for r in rows if r.from_organisation_id == org_id]
        answering = {r.id for r in to_answer}
        received = [r for r in rows if r.to_organisation_id == org_id
                    and r.id not in answering]
    audit.record_list_read(db.session, "referral.list", rows, actor=current_user,
                           surface="page")
    db.session.commit()
    return render_template(
        "referrals/index.html", to_answer=to_answer, sent=sent, received=received,
        status=status, status_labels=REFERRAL_STATUS_LABELS,
        may_submit=str(current_user.role) == "referrer", sorting=sort,
        query={"statut": status} if status else {}, beyond=beyond, cap=LIST_CAP,
    )


def _parse_date(value: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _portal_extra_fields() -> list[tuple[str, str, bool]]:
    """``(name, label, required)`` of the fields the plugins add to a referral from the
    user's organisation to the CCAS (the portal's receiver): receiving and sending sides
    (hook ``ccas_referral_fields_schema``). None when no plugin adds any, or one of them
    fails (the submission then says so)."""
    try:
        merged = referrals.extra_fields(referrals.ccas_organisation(db.session),
                                        current_user.organisation)
    except UserError:
        return []
    if merged is None:
        return []
    return [(name, str(f.metadata.get("label") or name), bool(f.required))
            for name, f in merged.fields()]


def _extra_labels(referral: Referral) -> dict[str, str]:
    """French labels of the referral's ``extra`` values (their keys when unknown)."""
    try:
        merged = referrals.extra_fields(referral.to_organisation, referral.from_organisation)
    except UserError:
        return {}
    return {} if merged is None else merged.labels()


def _form_errors(errors: dict) -> dict:
    """Service errors keyed as the form's fields (``extra.x`` → ``extra-x``)."""
    return {(EXTRA_PREFIX + key.removeprefix("extra.") if key.startswith("extra.") else key):
            messages for key, messages in errors.items()}


@bp.route("/nouvelle", methods=["GET", "POST"])
@allow(Role.referrer)
def new():
    errors: dict = {}
    values = dict(request.form) if request.method == "POST" else {}
    extra_fields = _portal_extra_fields()
    if request.method == "POST":
        # Spent in this transaction, before anything is written: a second sending of the
        # same form (even at the same instant) waits for the first, then lands here.
        if not form_tokens.spend(REFERRAL_FORM, request.form.get("form_token", "")).fresh:
            flash(_("Ce formulaire a déjà été envoyé."), "info")
            return redirect(url_for("referrals.index"))
        try:
            birth_date = _parse_date(request.form.get("birth_date", ""))
        except ValueError:
            birth_date = None
            errors["birth_date"] = [_("Date invalide : indiquez une date existante "
                                      "(jj/mm/aaaa).")]
        files = [f for f in request.files.getlist("attachments") if f and f.filename]
        attachments = [
            referrals.AttachmentInput(f.filename, f.mimetype or "",
                                      f.read(referrals.MAX_ATTACHMENT_BYTES + 1))
            for f in files
        ]
        data = referrals.ReferralInput(
            first_name=request.form.get("first_name", ""),
            last_name=request.form.get("last_name", ""),
            birth_date=birth_date, purpose=request.form.get("purpose", ""),
            amount_requested=request.form.get("amount_requested", ""),
            consent=request.form.get("consent") == "on",
            phone=request.form.get("phone") or None, email=request.form.get("email") or None,
            note=request.form.get("note", ""),
            extra={name: raw for name, _label, _required in extra_fields
                   if (raw := (request.form.get(EXTRA_PREFIX + name) or "").strip())},
        )
        if not errors:
            try:
                referral = referrals.submit(db.session, current_user, data, attachments,
                                            tenant=g.tenant)
            except UserError as exc:
                db.session.rollback()
                errors = _form_errors(exc.errors or {"first_name": [exc.message]})
            else:
                db.session.commit()
                flash(_("Orientation envoyée. Vous serez informé de chaque étape."), "success")
                return redirect(url_for("referrals.detail", referral_id=referral.id))
    return render_template(
        "referrals/new.html", errors=errors, values=values, purposes=PURPOSE_LABELS,
        form_token=form_tokens.issue(REFERRAL_FORM),
        max_mb=referrals.MAX_ATTACHMENT_BYTES // (1024 * 1024),
        extra_fields=extra_fields, extra_prefix=EXTRA_PREFIX,
    ), (422 if errors else 200)


@bp.route("/<referral_id>")
@allow(REFERRAL_READERS)
def detail(referral_id):
    referral = _get(referral_id)
    if referrals.mark_received(db.session, referral, current_user, tenant=g.tenant):
        db.session.flush()
    audit.record(db.session, "referral.read", referral, actor=current_user)
    db.session.commit()
    db.session.refresh(referral)
    return _render_detail(referral)


def _render_detail(referral: Referral, errors=None, values=None, status=200):
    return render_template(
        "referrals/detail.html", referral=referral, purposes=PURPOSE_LABELS,
        may_answer=referrals.may_answer(current_user, referral),
        is_staff=referrals.is_staff(current_user),
        decline_reasons=reasons.reasons(g.tenant, "decline"),
        status_labels=REFERRAL_STATUS_LABELS, errors=errors or {}, values=values or {},
        extra_labels=_extra_labels(referral),
    ), status


def _answer(referral_id, act, done, field_errors=None):
    """The receiving organisation's ``act(referral)`` from the referral's page, committed,
    then ``done(result)`` flashed. A refusal is flashed (a 409: the referral moved on) or,
    with ``field_errors(exc)``, shown in the page's form (422). Another organisation's
    referral is a 404."""
    referral = _get(referral_id)
    if not referrals.is_receiver(current_user, referral):
        abort(404)
    try:
        result = act(referral)
    except UserError as exc:
        db.session.rollback()
        if exc.status == 409 or field_errors is None:
            flash(exc.message, "error")
            return redirect(url_for("referrals.detail", referral_id=referral_id))
        return _render_detail(referral, field_errors(exc), request.form, 422)
    db.session.commit()
    flash(done(result), "success")
    return redirect(url_for("referrals.detail", referral_id=referral_id))


@bp.route("/<referral_id>/accepter", methods=["POST"])
@allow(REFERRAL_READERS)
def accept(referral_id):
    return _answer(
        referral_id,
        lambda referral: referrals.accept(db.session, referral, current_user, tenant=g.tenant),
        lambda case: _("Orientation acceptée : la demande %(ref)s est ouverte.",
                       ref=case.reference) if case is not None else _("Orientation acceptée."))


@bp.route("/<referral_id>/decliner", methods=["POST"])
@allow(REFERRAL_READERS)
def decline(referral_id):
    return _answer(
        referral_id,
        lambda referral: referrals.decline(
            db.session, referral, current_user, request.form.get("reason", ""),
            request.form.get("message", ""), tenant=g.tenant),
        lambda _result: _("Orientation déclinée ; le prescripteur en est informé."),
        lambda exc: exc.errors or {"reason": [exc.message]})


@bp.route("/<referral_id>/en-cours", methods=["POST"])
@allow(REFERRAL_READERS)
def start(referral_id):
    """The receiving partner is working on the referral."""
    return _answer(
        referral_id,
        lambda referral: referrals.start(db.session, referral, current_user,
                                         request.form.get("message", ""), tenant=g.tenant),
        lambda _result: _("Orientation en cours de traitement ; le prescripteur en est "
                          "informé."))


@bp.route("/<referral_id>/suite", methods=["POST"])
@allow(REFERRAL_READERS)
def outcome(referral_id):
    """The receiving partner reports what came of the referral (coded outcome)."""
    return _answer(
        referral_id,
        lambda referral: referrals.report_outcome(
            db.session, referral, current_user, request.form.get("outcome", ""),
            request.form.get("outcome_message", ""), tenant=g.tenant),
        lambda _result: _("Suite enregistrée ; le prescripteur en est informé."),
        lambda exc: {("outcome_message" if k == "message" else k): v
                     for k, v in (exc.errors or {"outcome": [exc.message]}).items()})


@bp.app_context_processor
def _referral_follow_up_helpers():
    def referral_follow_up(referral):
        return (referrals.is_receiver(current_user, referral)
                and referral.status in referrals.FOLLOW_UP
                and referral.to_organisation.kind != "ccas")

    return {"referral_follow_up": referral_follow_up,
            "referral_outcomes": lambda: reasons.reasons(g.tenant, "outcome"),
            "consent_method_labels": {**referrals.CONSENT_METHODS,
                                      "referrer": _("Déclaré par le prescripteur")}}


@bp.route("/<referral_id>/pieces/<attachment_id>")
@allow(REFERRAL_READERS)
def attachment(referral_id, attachment_id):
    referral = _get(referral_id)
    item = next((a for a in referral.attachments if str(a.id) == attachment_id), None)
    if item is None:
        abort(404)
    content = db.session.scalar(select(ReferralAttachment.content).where(
        ReferralAttachment.id == item.id))
    audit.record(db.session, "referral.attachment.read", referral, actor=current_user,
                 attachment=str(item.id))
    db.session.commit()
    response = Response(content, mimetype=item.content_type)
    safe_name = "".join(c for c in item.filename if c.isalnum() or c in "._-") or "piece"
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    return response


@bp.route("/envois-en-echec")
@allow(MANAGER)
def dead_letters():
    return render_template("referrals/dead_letters.html",
                           messages=delivery.dead_letters(db.session))


@bp.route("/envois-en-echec/<message_id>/relancer", methods=["POST"])
@allow(MANAGER)
def requeue(message_id):
    try:
        key = uuid.UUID(message_id)
    except ValueError:
        abort(404)
    if not delivery.requeue(db.session, key):
        abort(404)
    audit.record(db.session, "outbox.requeue", None, actor=current_user, message=message_id)
    db.session.commit()
    flash(_("Envoi remis en file : il sera retenté au prochain passage."), "success")
    return redirect(url_for("referrals.dead_letters"))
