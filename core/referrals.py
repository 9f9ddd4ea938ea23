"""Referrals between the organisations of a tenant: submit, receive, accept (a case is
opened, pre-filled), decline with a coded reason, mirror the case's milestones, remind the
receiving organisation and expire unanswered referrals.

Services take the session, validate everything before writing, raise ``UserError`` and
never commit. Every status change is recorded (``ReferralStatusChange``), audited, told to
the plugins (``ccas_referral_status_changed``) and queued for the referrer in the outbox
(``core.outbox.notifications``), all in the caller's transaction.

Who sees what: CCAS staff see every referral of the tenant; a partner's referrer sees only
the referrals sent by or to its own organisation; anything else is "not found" (404).
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import g
from marshmallow import ValidationError
from sqlalchemy import and_, bindparam, false, or_, select
from sqlalchemy.orm.attributes import set_committed_value

from . import (
    adopted_rows,
    audit,
    cases,
    clock,
    organisation_list,
    plugins,
    row_views,
    tenancy,
    workflow,
)
from .errors import NotFound, UserError
from .hookspecs import hookimpl
from .models import (
    Case,
    Organisation,
    OrganisationKind,
    Purpose,
    Referral,
    ReferralAttachment,
    ReferralStatus,
    ReferralStatusChange,
    State,
)
from .models.referral import AWAITING_ANSWER
from .outbox import notifications
from .plugins.calling import PluginFailure
from .plugins.types import Destination
from .policy import CCAS_STAFF
from .workflow import reasons

log = logging.getLogger(__name__)

DEFAULT_REMIND_AFTER_DAYS = 10
DEFAULT_EXPIRE_AFTER_DAYS = 30

#: Attachments: at most this many, each at most this size, of these types (checked
#: against the file's first bytes, not only the declared type).
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
ALLOWED_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}

#: Case state reached → referral status the referrer is told. A referrer learns that a
#: loan was refused, never why, and a borrower's withdrawal shows as an abandon. A plugin's
#: terminal state tells its outcome (a lender's own refusal shows as a refusal).
CASE_MILESTONES: dict[str, ReferralStatus] = {
    State.evaluation: ReferralStatus.in_evaluation,
    State.submitted_to_lender: ReferralStatus.submitted_to_lender,
    State.granted: ReferralStatus.granted,
    State.refused: ReferralStatus.refused,
    State.reoriented: ReferralStatus.reoriented,
    State.abandoned: ReferralStatus.abandoned,
    State.withdrawn: ReferralStatus.abandoned,
    State.closed: ReferralStatus.closed,
}
#: A plugin's terminal state → the referral status of its outcome.
OUTCOME_STATUS = {"refused": ReferralStatus.refused, "reoriented": ReferralStatus.reoriented,
                  "abandoned": ReferralStatus.abandoned, "granted": ReferralStatus.closed}

#: Organisation kinds a case may be reoriented to (as ``org:<id>`` destinations).
PARTNER_KINDS = (OrganisationKind.association, OrganisationKind.aid_fund,
                 OrganisationKind.other)
ORG_DESTINATION_PREFIX = "org:"


@dataclass
class ReferralInput:
    first_name: str
    last_name: str
    birth_date: date | None
    purpose: str
    amount_requested: Decimal | str | None
    consent: bool
    phone: str | None = None
    email: str | None = None
    note: str = ""
    to_organisation_id: uuid.UUID | None = None
    extra: dict | None = None


@dataclass
class AttachmentInput:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


# -- settings and lookups ----------------------------------------------------------------


def settings(tenant) -> dict:
    """``{"remind_after_days": 10, "expire_after_days": 30}`` or the tenant's values
    (``tenant.settings["referrals"]``)."""
    custom = ((tenant.settings or {}).get("referrals") or {}) if tenant is not None else {}
    return {
        "remind_after_days": int(custom.get("remind_after_days", DEFAULT_REMIND_AFTER_DAYS)),
        "expire_after_days": int(custom.get("expire_after_days", DEFAULT_EXPIRE_AFTER_DAYS)),
    }


def is_staff(user) -> bool:
    return str(getattr(user, "role", "")) in {str(r) for r in CCAS_STAFF}


_ORGANISATIONS = Organisation.__table__
#: The organisation reads of a referral's creation (by id; the tenant's CCAS), built once,
#: as Core reads under the tenant wall adopted as loaded objects (``core.adopted_rows``).
_ORGANISATION_BY_ID = tenancy.scoped_select(
    select(*adopted_rows.columns(Organisation, "org_"))
    .where(_ORGANISATIONS.c.id == bindparam("org_id")))
_CCAS_ORGANISATION = tenancy.scoped_select(
    select(*adopted_rows.columns(Organisation, "org_"))
    .where(_ORGANISATIONS.c.kind == OrganisationKind.ccas)
    .order_by(_ORGANISATIONS.c.name).limit(1))


def _organisation(session, stmt, params=None) -> Organisation | None:
    found = tenancy.scoped_rows(session, stmt, params)
    return adopted_rows.adopted(session, Organisation, "org_", found[0]) if found else None


def organisation(session, org_id) -> Organisation | None:
    """The organisation ``org_id`` of the current tenant, or ``None``."""
    return _organisation(session, _ORGANISATION_BY_ID, {"org_id": org_id})


def ccas_organisation(session) -> Organisation:
    """The tenant's CCAS (the default receiver of referrals)."""
    org = _organisation(session, _CCAS_ORGANISATION)
    if org is None:
        raise UserError("Aucune organisation CCAS n'est déclarée pour ce territoire.",
                        status=409)
    return org


def _reader_scope(user) -> tuple[bool, uuid.UUID | None]:
    """Which referrals ``user`` may see: ``(True, None)`` every one (the CCAS team),
    ``(False, organisation id)`` those a referrer's organisation sent or received,
    ``(False, None)`` none."""
    if is_staff(user):
        return True, None
    if str(getattr(user, "role", "")) != "referrer":
        return False, None
    return False, getattr(user, "organisation_id", None)


def visible_referrals(user):
    """``select(Referral)`` limited to what ``user`` may see."""
    stmt = select(Referral)
    staff, org_id = _reader_scope(user)
    if staff:
        return stmt
    if org_id is None:
        return stmt.where(false())
    return stmt.where(or_(Referral.from_organisation_id == org_id,
                          Referral.to_organisation_id == org_id))


_REFERRALS = Referral.__table__
_FROM_ORG = Organisation.__table__.alias("from_org")
_TO_ORG = Organisation.__table__.alias("to_org")
_ReferralView = row_views.view_of(Referral)
_OrganisationView = row_views.view_of(Organisation)


@functools.lru_cache(maxsize=32)
def _listed_statement(staff: bool, status: bool, since: bool, cursor: bool):
    """The API's read of a page of referrals with their organisations' names, one Core
    read under the tenant wall (``core.tenancy.scoped_select``), per shape of filters
    (built once each)."""
    r = _REFERRALS.c
    stmt = (select(*_REFERRALS.c, _FROM_ORG.c.name.label("from_org_name"),
                   _TO_ORG.c.name.label("to_org_name"))
            .select_from(_REFERRALS.join(_FROM_ORG, _FROM_ORG.c.id == r.from_organisation_id)
                         .join(_TO_ORG, _TO_ORG.c.id == r.to_organisation_id)))
    if not staff:
        stmt = stmt.where(or_(r.from_organisation_id == bindparam("org"),
                              r.to_organisation_id == bindparam("org")))
    if status:
        stmt = stmt.where(r.status == bindparam("status"))
    if since:
        stmt = stmt.where(r.updated_at >= bindparam("since"))
    if cursor:
        stmt = stmt.where(or_(r.updated_at > bindparam("at"),
                              and_(r.updated_at == bindparam("at"), r.id > bindparam("rid"))))
    return tenancy.scoped_select(
        stmt.order_by(r.updated_at, r.id).limit(bindparam("limit")))


def listed_referrals(session, user, limit: int, status: ReferralStatus | None = None,
                     since: datetime | None = None,
                     after: tuple[datetime, uuid.UUID] | None = None) -> list:
    """Up to ``limit`` referrals ``user`` may see (:func:`visible_referrals`), oldest
    change first, after the keyset ``after`` (``updated_at``, ``id``): read-only views
    (``core.row_views``) with their organisations' ids and names, for the API's list."""
    staff, org_id = _reader_scope(user)
    if not staff and org_id is None:
        return []
    params: dict = {"limit": limit}
    if not staff:
        params["org"] = org_id
    if status is not None:
        params["status"] = status
    if since is not None:
        params["since"] = since
    if after is not None:
        params["at"], params["rid"] = after
    stmt = _listed_statement(staff, status is not None, since is not None, after is not None)
    views = []
    for row in tenancy.scoped_rows(session, stmt, params):
        values = row._asdict()
        from_name, to_name = values.pop("from_org_name"), values.pop("to_org_name")
        views.append(_ReferralView(
            **values,
            from_organisation=_OrganisationView(id=row.from_organisation_id, name=from_name),
            to_organisation=_OrganisationView(id=row.to_organisation_id, name=to_name)))
    return views


_CHANGES = ReferralStatusChange.__table__
_ATTACHED = ReferralAttachment.__table__
#: The history and the attachments of a page of referrals, two Core reads for the page
#: (``core.tenancy.scoped_select``): rows, not objects, and never a file's content.
_HISTORY_OF_PAGE = tenancy.scoped_select(
    select(_CHANGES.c.referral_id, _CHANGES.c.from_status, _CHANGES.c.to_status,
           _CHANGES.c.at, _CHANGES.c.reason_code, _CHANGES.c.message)
    .where(_CHANGES.c.referral_id.in_(bindparam("ids", expanding=True)))
    .order_by(_CHANGES.c.at))
_ATTACHMENTS_OF_PAGE = tenancy.scoped_select(
    select(_ATTACHED.c.referral_id, _ATTACHED.c.id, _ATTACHED.c.filename,
           _ATTACHED.c.content_type, _ATTACHED.c.size)
    .where(_ATTACHED.c.referral_id.in_(bindparam("ids", expanding=True)))
    .order_by(_ATTACHED.c.created_at))


def history_and_attachments(session, page) -> tuple[dict, dict]:
    """``({referral id: [status change rows]}, {referral id: [attachment rows]})`` of the
    referrals ``page``, oldest first, in two statements."""
    ids = [r.id for r in page]
    history: dict = {i: [] for i in ids}
    attachments: dict = {i: [] for i in ids}
    if ids:
        for row in tenancy.scoped_rows(session, _HISTORY_OF_PAGE, {"ids": ids}):
            history[row.referral_id].append(row)
        for row in tenancy.scoped_rows(session, _ATTACHMENTS_OF_PAGE, {"ids": ids}):
            attachments[row.referral_id].append(row)
    return history, attachments


def get_referral(session, user, referral_id) -> Referral:
    """The referral if ``user`` may see it; ``NotFound`` (404) otherwise — also for a
    malformed id or another tenant's referral."""
    try:
        key = referral_id if isinstance(referral_id, uuid.UUID) else uuid.UUID(str(referral_id))
    except ValueError as exc:
        raise NotFound("Cette orientation") from exc
    referral = session.scalar(visible_referrals(user).where(Referral.id == key))
    if referral is None:
        raise NotFound("Cette orientation")
    return referral


def is_receiver(user, referral: Referral) -> bool:
    """Whether ``user`` answers for the receiving organisation (accept, decline)."""
    if referral.to_organisation.kind == OrganisationKind.ccas:
        return is_staff(user)
    return (str(getattr(user, "role", "")) == "referrer"
            and getattr(user, "organisation_id", None) == referral.to_organisation_id)


def may_answer(user, referral: Referral) -> bool:
    return is_receiver(user, referral) and referral.status in AWAITING_ANSWER


# -- validation ----------------------------------------------------------------------------


def _validate_attachments(attachments) -> dict:
    errors: dict[str, list[str]] = {}
    if len(attachments) > MAX_ATTACHMENTS:
        errors["attachments"] = [f"{MAX_ATTACHMENTS} pièces jointes au plus."]
        return errors
    for item in attachments:
        name = (item.filename or "").strip()
        if not name or len(name) > 200:
            errors.setdefault("attachments", []).append(
                "Chaque pièce jointe doit avoir un nom (200 caractères au plus).")
            continue
        if len(item.content) == 0:
            errors.setdefault("attachments", []).append(f"« {name} » est vide.")
        elif len(item.content) > MAX_ATTACHMENT_BYTES:
            errors.setdefault("attachments", []).append(
                f"« {name} » dépasse {MAX_ATTACHMENT_BYTES // (1024 * 1024)} Mo.")
        elif not _type_matches(item.content_type, item.content):
            errors.setdefault("attachments", []).append(
                f"« {name} » : type de fichier refusé (PDF, JPEG ou PNG uniquement).")
    return errors


def _type_matches(content_type: str, content: bytes) -> bool:
    ctype = (content_type or "").split(";")[0].strip().lower()
    magics = ALLOWED_TYPES.get(ctype)
    return bool(magics) and any(content.startswith(m) for m in magics)


def _validate(session, actor, data: ReferralInput, attachments, tenant) -> tuple:
    """Everything checked before anything is written; all field errors at once."""
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if data.consent is not True:
        err("consent", "Le consentement de la personne à être orientée est obligatoire.")
    try:
        cases.validate_person(cases.PersonData(
            data.first_name or "", data.last_name or "", data.birth_date))
    except UserError as exc:
        err(exc.field or "person", exc.message)
    if data.birth_date is None:
        err("birth_date", "La date de naissance est obligatoire.")
    if data.phone and len(data.phone) > 30:
        err("phone", "30 caractères au plus.")
    if data.email and (len(data.email) > 254 or "@" not in data.email):
        err("email", "Adresse e-mail invalide.")
    if not (data.phone or data.email):
        err("phone", "Indiquez au moins un téléphone ou une adresse e-mail pour joindre la "
                     "personne.")
    try:
        Purpose(data.purpose)
    except ValueError:
        err("purpose", f"Objet inconnu : {data.purpose!r} "
                       f"(attendu : {', '.join(p.value for p in Purpose)}).")
    amount = None
    try:
        amount = cases.parse_amount(data.amount_requested, maximum=cases.MAX_REQUEST)
    except UserError as exc:
        err("amount_requested", exc.message)
    if len(data.note or "") > 5000:
        err("note", "5 000 caractères au plus.")

    from_org = actor.organisation
    if data.to_organisation_id is not None:
        to_org = organisation(session, data.to_organisation_id)
        if to_org is None:
            err("to_organisation", "Organisation destinataire inconnue.")
    else:
        to_org = ccas_organisation(session)
    if to_org is not None and to_org.id == from_org.id:
        err("to_organisation", "Une organisation ne peut pas s'orienter une personne à "
                               "elle-même.")
    extra = dict(data.extra or {})
    if to_org is not None:
        extra, extra_errors = _validate_extra(to_org, from_org, extra)
        for name, messages in extra_errors.items():
            for message in messages:
                err(name, message)
    errors.update(_validate_attachments(attachments))
    if errors:
        first = next(iter(errors.values()))[0]
        raise UserError(first if len(errors) == 1 else
                        "La demande d'orientation contient des erreurs : " + " ".join(
                            m for ms in errors.values() for m in ms),
                        status=422, field=next(iter(errors)), errors=errors)
    return from_org, to_org, amount, extra


@functools.cache
def plugin_schema(schema_cls: type):
    """One instance of a plugin's referral-fields schema class, built once (a marshmallow
    schema is built field by field: building it for every referral cost more than
    validating); only ``load`` is called on it, which keeps no state between calls."""
    return schema_cls()


@dataclass
class ExtraFields:
    """The fields the plugins add to one referral (``Referral.extra``), merged.

    ``parts`` are ``(plugin name, schema class, names it validates)`` in precedence order:
    the receiving organisation's plugin, then the sending organisation's plugin, then any
    other plugin by name. A field name declared by two plugins is validated by the first
    of them only (the other's field of that name is ignored, and logged): the receiving
    side decides what it needs. Each schema validates its own names with its own hooks
    (``pre_load``…), so schemas are never rebuilt.
    """

    parts: list[tuple[str, type, tuple[str, ...]]]

    def fields(self) -> list[tuple[str, object]]:
        """``(name, marshmallow field)`` of every field, in precedence then schema order."""
        out = []
        for _plugin, schema_cls, names in self.parts:
            declared = plugin_schema(schema_cls).fields
            out.extend((name, declared[name]) for name in names)
        return out

    def labels(self) -> dict[str, str]:
        """``name → French label`` (the field's ``metadata["label"]``, else its name)."""
        return {name: str(f.metadata.get("label") or name) for name, f in self.fields()}

    def load(self, data: dict) -> dict:
        """Validate ``data``; return what to store. Raises marshmallow's
        ``ValidationError`` with ``{field name: [messages]}`` (all schemas' errors)."""
        if not isinstance(data, dict):
            raise ValidationError({"_schema": ["Objet attendu."]})
        known = {name for _p, _s, names in self.parts for name in names}
        errors: dict[str, list[str]] = {
            key: ["Champ inconnu pour cette orientation."] for key in data if key not in known}
        out: dict = {}
        for _plugin, schema_cls, names in self.parts:
            schema = plugin_schema(schema_cls)
            shadowed = tuple(n for n in schema.fields if n not in names)
            try:
                loaded = schema.load({k: v for k, v in data.items() if k in names},
                                     partial=shadowed or False)
            except ValidationError as exc:
                for key, messages in _flat_messages(exc).items():
                    errors.setdefault(key, []).extend(messages)
                continue
            dumped = schema.dump(loaded)
            out.update({k: v for k, v in dumped.items() if k in names})
        if errors:
            raise ValidationError(errors)
        return out


def _flat_messages(exc) -> dict[str, list[str]]:
    messages = exc.normalized_messages()
    return {str(k): ([str(m) for m in v] if isinstance(v, list) else [str(v)])
            for k, v in messages.items()}


def extra_fields(to_org: Organisation, from_org: Organisation | None = None
                 ) -> ExtraFields | None:
    """The fields the tenant's enabled plugins add to a referral sent by ``from_org`` to
    ``to_org`` (hook ``ccas_referral_fields_schema``: each plugin asked on its own, every
    schema merged, see ``ExtraFields``); ``None`` when no plugin adds any. A plugin that
    raises makes the fields unknown: ``UserError`` 503 naming it (nothing is written)."""
    try:
        answers = plugins.hooks().ccas_referral_fields_schema.answers(
            organisation=to_org, sender=from_org)
    except PluginFailure as exc:
        label = plugins.registry().label(exc.plugin)
        raise UserError(f"L'extension {label} est en erreur : les champs "
                        "complémentaires de l'orientation sont indisponibles. "
                        "Réessayez plus tard.", status=503,
                        message_en=f"Plugin {exc.plugin} failed: referral fields "
                                   "unavailable.") from exc
    found: list[tuple[str, type]] = answers.results
    if not found:
        return None

    def rank(item) -> tuple:
        plugin = item[0]
        if to_org.plugin_name and plugin == to_org.plugin_name:
            return (0, plugin)
        if from_org is not None and from_org.plugin_name and plugin == from_org.plugin_name:
            return (1, plugin)
        return (2, plugin)

    parts, taken = [], set()
    for plugin, schema_cls in sorted(found, key=rank):
        names = []
        for name, f in plugin_schema(schema_cls).fields.items():
            if f.dump_only:
                continue
            if name in taken:
                log.warning("referral field %r of plugin %s ignored: declared by a plugin "
                            "of higher precedence", name, plugin)
                continue
            taken.add(name)
            names.append(name)
        if names:
            parts.append((plugin, schema_cls, tuple(names)))
    return ExtraFields(parts) if parts else None


def _validate_extra(to_org: Organisation, from_org: Organisation | None, extra: dict
                    ) -> tuple[dict, dict[str, list[str]]]:
    """Validate ``extra`` with the plugins' fields; errors keyed ``extra.<field>``."""
    merged = extra_fields(to_org, from_org)
    if merged is None:
        return {}, {f"extra.{key}": [f"{to_org.name} n'attend pas de champs "
                                     "complémentaires."] for key in extra}
    try:
        return merged.load(extra), {}
    except ValidationError as exc:
        labels = merged.labels()
        return {}, {f"extra.{key}": [f"{labels.get(key, key)} : {m}" for m in messages]
                    for key, messages in _flat_messages(exc).items()}


# -- writing -------------------------------------------------------------------------------


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _tenant(tenant):
    if tenant is not None:
        return tenant

    return g.get("tenant")


def submit(session, actor, data: ReferralInput, attachments=(), tenant=None,
           at: datetime | None = None) -> Referral:
    """A referrer (or its API client) sends a referral on behalf of its organisation."""
    tenant = _tenant(tenant)
    attachments = list(attachments or [])
    from_org, to_org, amount, extra = _validate(session, actor, data, attachments, tenant)
    now = _now(at)
    return _create(session, dict(
        from_organisation_id=from_org.id, to_organisation_id=to_org.id,
        created_by_id=actor.id, first_name=data.first_name.strip(),
        last_name=data.last_name.strip(), birth_date=data.birth_date,
        phone=(data.phone or "").strip() or None, email=(data.email or "").strip() or None,
        purpose=Purpose(data.purpose).value, amount_requested=amount,
        note=(data.note or "").strip(), consent=True, consent_at=now,
        consent_by=actor.full_name or actor.email, consent_method="referrer", extra=extra,
    ), attachments, actor, tenant, now, known=(from_org, to_org))


def _held(session, known, org_id) -> Organisation | None:
    """The organisation ``org_id`` as ``session`` holds it: one of ``known`` (objects
    the caller has) when the session holds that one, else the session's own (a lookup
    in its identity map, or a read)."""
    for org in known:
        if org.id == org_id and org in session:
            return org
    return session.get(Organisation, (tenancy.require_tenant_id(), org_id))


def _create(session, values: dict, attachments, actor, tenant, now, known=()) -> Referral:
    """Write a new referral (``values`` by column), its first status and its
    attachments at once (``core.adopted_rows.inserted``: the unit of work's flush of
    these new rows cost more than the rows), audit it and tell the plugins.
    ``known``: organisations the caller holds (the sender and the receiver)."""
    session.flush()  # what came before (a case's reorientation) is written first
    referral_id = uuid.uuid4()
    organisations = {name: _held(session, known, values[f"{name}_id"])
                     for name in ("from_organisation", "to_organisation")}
    referral = adopted_rows.inserted(session, Referral, {
        **values, "id": referral_id, "status": ReferralStatus.sent, "created_at": now,
        "updated_at": now, "status_changed_at": now}, **organisations)
    sent = adopted_rows.inserted(session, ReferralStatusChange, {
        "id": uuid.uuid4(), "referral_id": referral_id, "from_status": None,
        "to_status": ReferralStatus.sent.value, "at": now,
        "actor_label": audit.actor_label(actor)})
    stored = [adopted_rows.inserted(session, ReferralAttachment, {
        "id": uuid.uuid4(), "referral_id": referral_id,
        "filename": item.filename.strip()[:200],
        "content_type": item.content_type.split(";")[0].strip().lower(),
        "size": len(item.content), "content": item.content, "created_at": now,
    }) for item in attachments]
    # a new referral's history and attachments are known: set, not read back
    set_committed_value(referral, "history", [sent])
    set_committed_value(referral, "attachments", stored)
    audit.record_now(session, "referral.create", referral, actor=actor,
                     to_organisation=str(referral.to_organisation_id))
    plugins.hooks().ccas_referral_received(referral=referral, tenant=tenant,
                                           session=session)
    return referral


def set_status(session, referral: Referral, new: ReferralStatus | str, actor=None,
               reason: str | None = None, message: str = "", tenant=None,
               at: datetime | None = None) -> bool:
    """Record a status change (history, audit, plugins, outbox). ``False`` if unchanged."""
    new = ReferralStatus(new)
    old = ReferralStatus(referral.status)
    if new == old:
        return False
    now = _now(at)
    referral.status = new
    referral.status_changed_at = referral.updated_at = now
    session.add(ReferralStatusChange(
        referral_id=referral.id, from_status=old.value, to_status=new.value, at=now,
        actor_label=audit.actor_label(actor), reason_code=reason, message=message or "",
    ))
    audit.record(session, "referral.status", referral, actor=actor, source=old.value,
                 target=new.value, reason=reason)
    session.flush()
    session.expire(referral, ["history"])  # read again when asked, with this change
    plugins.hooks().ccas_referral_status_changed(
        referral=referral, old_status=old.value, new_status=new.value, message=message or "",
        tenant=_tenant(tenant), session=session)
    return True


def mark_received(session, referral: Referral, actor, tenant=None,
                  at: datetime | None = None) -> bool:
    """The receiving organisation opened the referral: ``sent`` → ``received``."""
    if referral.status != ReferralStatus.sent or not is_receiver(actor, referral):
        return False
    return set_status(session, referral, ReferralStatus.received, actor, tenant=tenant, at=at)


def _require_answerable(actor, referral: Referral) -> None:
    if not is_receiver(actor, referral):
        raise NotFound("Cette orientation")
    if referral.status not in AWAITING_ANSWER:
        raise UserError(
            f"Cette orientation a déjà une réponse ({referral.status_label}).", status=409)


def accept(session, referral: Referral, actor, tenant=None,
           at: datetime | None = None) -> Case | None:
    """Accept a referral. To the CCAS: a case is opened, pre-filled from the referral (the
    person is reused when exactly one person of the tenant has the same names and birth
    date). To a partner: the status only."""
    tenant = _tenant(tenant)
    _require_answerable(actor, referral)
    case = None
    if referral.to_organisation.kind == OrganisationKind.ccas:
        if referral.amount_requested is None:
            raise UserError("Montant demandé manquant : la demande ne peut pas être ouverte.",
                            status=422)
        same = cases.find_duplicates(session, referral.first_name, referral.last_name,
                                     referral.birth_date)
        if len(same) == 1:
            person = same[0]
            completed = {k: getattr(referral, k) for k in ("phone", "email")
                         if not getattr(person, k) and getattr(referral, k)}
            for name, value in completed.items():
                setattr(person, name, value)
            if completed:
                audit.record(session, "person.update", person, actor=actor,
                             fields=sorted(completed), source="referral")
        else:
            person = cases.create_person(session, cases.PersonData(
                referral.first_name, referral.last_name, referral.birth_date,
                phone=referral.phone, email=referral.email))
        case = cases.open_case(
            session, person, referral.purpose, referral.amount_requested, actor=actor,
            project=referral.note, source="referral",
            referring_organisation_id=referral.from_organisation_id, tenant=tenant)
        referral.case_id = case.id
    set_status(session, referral, ReferralStatus.accepted, actor, tenant=tenant, at=at)
    return case


def decline(session, referral: Referral, actor, reason: str, message: str = "",
            tenant=None, at: datetime | None = None) -> None:
    """Decline with a coded reason (``core.workflow.reasons`` "decline") and an optional message
    for the referrer."""
    tenant = _tenant(tenant)
    _require_answerable(actor, referral)
    codes = reasons.reasons(tenant, "decline")
    if not reason:
        raise UserError("Indiquez un motif.", status=422, field="reason")
    if reason not in codes:
        raise UserError(f"Motif inconnu : {reason!r} (attendu : {', '.join(codes)}).",
                        status=422, field="reason")
    message = (message or "").strip()
    if len(message) > 2000:
        raise UserError("Message : 2 000 caractères au plus.", status=422, field="message")
    referral.decline_reason = reason
    set_status(session, referral, ReferralStatus.declined, actor, reason=reason,
               message=message, tenant=tenant, at=at)


#: Statuses from which the receiving partner reports progress and an outcome.
FOLLOW_UP = frozenset({ReferralStatus.accepted, ReferralStatus.in_progress})
#: How a person's consent to a reorientation may be given (asked by the CCAS).
CONSENT_METHODS = {"in_person": "De vive voix, en entretien", "phone": "Par téléphone",
                   "written": "Par écrit (courrier, formulaire signé)"}


def _require_follow_up(actor, referral: Referral) -> None:
    if not is_receiver(actor, referral):
        raise NotFound("Cette orientation")
    if referral.to_organisation.kind == OrganisationKind.ccas:
        raise UserError("Les suites d'une orientation vers le CCAS suivent sa demande.",
                        status=409)
    if referral.status not in FOLLOW_UP:
        raise UserError(f"Cette orientation n'est pas en cours ({referral.status_label}) : "
                        "acceptez-la d'abord.", status=409)


def start(session, referral: Referral, actor, message: str = "", tenant=None,
          at: datetime | None = None) -> bool:
    """The receiving partner is working on an accepted referral (``in_progress``)."""
    _require_follow_up(actor, referral)
    return set_status(session, referral, ReferralStatus.in_progress, actor,
                      message=(message or "").strip()[:2000], tenant=_tenant(tenant), at=at)


def report_outcome(session, referral: Referral, actor, outcome: str, message: str = "",
                   tenant=None, at: datetime | None = None) -> None:
    """The receiving partner tells what came of the referral, with a coded outcome
    (``core.workflow.reasons`` "outcome") and an optional message for the referrer."""
    tenant = _tenant(tenant)
    _require_follow_up(actor, referral)
    codes = reasons.reasons(tenant, "outcome")
    if not outcome:
        raise UserError("Indiquez la suite donnée.", status=422, field="outcome")
    if outcome not in codes:
        raise UserError(f"Suite inconnue : {outcome!r} (attendu : {', '.join(codes)}).",
                        status=422, field="outcome")
    message = (message or "").strip()
    if len(message) > 2000:
        raise UserError("Message : 2 000 caractères au plus.", status=422, field="message")
    referral.outcome = outcome
    set_status(session, referral, ReferralStatus.done, actor, reason=outcome,
               message=message, tenant=tenant, at=at)


def remind_and_expire(session, tenant, now: datetime | None = None) -> tuple[int, int]:
    """Remind the receiving organisation of referrals unanswered after
    ``remind_after_days`` (once) and expire those unanswered after ``expire_after_days``.
    Runs in the tenant's scope; returns ``(reminded, expired)``."""
    now = _now(now)
    conf = settings(tenant)
    remind_before = now - timedelta(days=conf["remind_after_days"])
    expire_before = now - timedelta(days=conf["expire_after_days"])
    reminded = expired = 0
    pending = session.scalars(
        select(Referral).where(Referral.status.in_([s.value for s in AWAITING_ANSWER]),
                               Referral.created_at <= remind_before)
        .order_by(Referral.created_at)
    ).all()
    for referral in pending:
        if referral.created_at <= expire_before:
            set_status(session, referral, ReferralStatus.expired, None, tenant=tenant, at=now)
            expired += 1
        elif referral.reminded_at is None:
            referral.reminded_at = now
            audit.record(session, "referral.reminder", referral)
            notifications.referral_reminder(session, tenant, referral)
            reminded += 1
    return reminded, expired


# -- ties to the case workflow ---------------------------------------------------------------


@hookimpl
def ccas_reorientation_destinations(session) -> list[Destination]:
    """The tenant's partner organisations as reorientation destinations ``org:<id>``."""
    known = organisation_list.organisations(session)
    if known is not None:  # gathering destinations: the list read once (by name)
        orgs = [o for o in known if o.kind in PARTNER_KINDS]
    else:
        orgs = session.scalars(
            select(Organisation).where(Organisation.kind.in_([k.value for k in PARTNER_KINDS]))
            .order_by(Organisation.name)
        ).all()
    return [Destination(f"{ORG_DESTINATION_PREFIX}{o.id}",
                        f"{o.name} (orientation partenaire)", o.name) for o in orgs]


def organisation_of_destination(session, destination: str | None) -> Organisation | None:
    """The tenant's organisation a destination ``org:<id>`` names (any kind), or ``None``."""
    if not destination or not destination.startswith(ORG_DESTINATION_PREFIX):
        return None
    try:
        org_id = uuid.UUID(destination[len(ORG_DESTINATION_PREFIX):])
    except ValueError:
        return None
    return session.scalar(select(Organisation).where(Organisation.id == org_id))


def destination_label(session, code: str | None, destinations: dict | None = None) -> str:
    """Where a case was reoriented, in words, whatever its state now: a scheme, a plugin's
    destination, or the organisation's name (kept even when it is no longer a partner).
    ``destinations``: the tenant's current ones (``workflow.destinations()``), if at hand."""
    if not code:
        return ""
    known = {**reasons.CORE_DESTINATIONS, **(destinations or workflow.destinations())}
    if code in known:
        return known[code]
    organisation = organisation_of_destination(session, code)
    return organisation.name if organisation is not None else "Une autre structure"


def _destination_organisation(session, destination: str | None) -> Organisation | None:
    org = organisation_of_destination(session, destination)
    return org if org is not None and org.kind in PARTNER_KINDS else None


def consent_problem(session, transition, data) -> str | None:
    """A reorientation to a partner organisation needs the person's consent, asked and
    recorded explicitly (how it was given); ``None`` when given or not needed."""
    if transition.name != "reorient":
        return None
    data = data or {}
    to_org = _destination_organisation(session, data.get("destination"))
    if to_org is None:
        return None
    if str(data.get("consent") or "").lower() not in ("yes", "on", "true", "1"):
        return (f"Demandez à la personne si elle accepte d'être orientée vers {to_org.name} "
                "(et que ses coordonnées lui soient transmises), puis cochez son accord.")
    if data.get("consent_method") not in CONSENT_METHODS:
        return "Indiquez comment la personne a donné son accord."
    return None


@hookimpl
def ccas_case_before_transition(case, transition, data, session):
    return consent_problem(session, transition, data)


@hookimpl(tryfirst=True)
def ccas_case_after_transition(case, transition, actor, data, tenant, session) -> None:
    """The referrals that opened ``case`` follow its milestones, and a reorientation to a
    partner organisation is an outgoing referral to it (same transaction)."""
    _mirror_case_milestone(session, case, transition, actor)
    _reorient_to_partner(session, case, transition, actor, data, tenant)


def _mirror_case_milestone(session, case, transition, actor) -> None:
    new = CASE_MILESTONES.get(transition.target)
    if new is None:
        state = workflow.current().states.get(transition.target)
        new = OUTCOME_STATUS.get(state.outcome) if state and state.terminal else None
    if new is None:
        return
    for referral in session.scalars(select(Referral).where(Referral.case_id == case.id)):
        set_status(session, referral, new, actor)


def _reorient_to_partner(session, case, transition, actor, data, tenant) -> None:
    if transition.name != "reorient":
        return
    to_org = _destination_organisation(session, (data or {}).get("destination"))
    if to_org is None:
        return
    from_org = getattr(actor, "organisation", None)
    if from_org is None or from_org.id == to_org.id:
        from_org = ccas_organisation(session)
    person = case.person
    reason_label = reasons.reasons(tenant, "reorient").get((data or {}).get("reason") or "", "")
    now = clock.now()
    _create(session, dict(
        from_organisation_id=from_org.id, to_organisation_id=to_org.id,
        created_by_id=getattr(actor, "id", None), first_name=person.first_name,
        last_name=person.last_name, birth_date=person.birth_date, phone=person.phone,
        email=person.email, purpose=str(case.purpose), amount_requested=case.amount_requested,
        note=f"Réorientation par le CCAS : {reason_label}" if reason_label else
        "Réorientation par le CCAS.",
        consent=True, consent_at=now,
        consent_by=(getattr(actor, "full_name", "") or getattr(actor, "email", "") or "")[:200],
        consent_method=(data or {}).get("consent_method"),
        extra={}, source_case_id=case.id,
    ), [], actor, tenant, now, known=(from_org, to_org))
