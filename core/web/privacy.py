"""The manager's RGPD pages: find a person, see what is held about them, export it (JSON
and PDF, every read audited), rectify their identity (audited, field names only) and erase
them (anonymise now) unless a legal reason keeps the data (an open loan).

A person known only through partners' referrals that never became a case has no
``Person`` row: the search finds them too (``core.privacy.referred``), and their pages
(``/referrals/<id>``) give the same rights over all their referrals: access (JSON and PDF),
rectification of a referral's personal fields, erasure (the purge's anonymisation, now).
A referral that belongs to a person's file sends to that person's pages."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import func, or_, select

from .. import audit, clock
from .. import referrals as referral_service
from ..db import db
from ..errors import UserError
from ..features import stored_documents
from ..hookspecs import hookimpl
from ..models import Case, Person, Referral, utcnow
from ..plugins.types import NavItem, Panel
from ..policy import MANAGER, allow
from ..privacy import export, notice, purge, referred
from ..privacy.registry import descriptors

bp = Blueprint("privacy", __name__, url_prefix="/t/<tenant>/admin/privacy")



@hookimpl
def ccas_nav_items():
    return [NavItem("Données personnelles (RGPD)", "privacy.search", MANAGER, order=905,
                    section="Administration")]


@hookimpl
def ccas_case_panels(user):
    if str(user.role) in MANAGER:
        return [Panel("Données personnelles", template="privacy/_case_section.html",
                      order=200)]
    return None

#: Identity fields the manager may rectify: (name, label, max length, required).
FIELDS = (
    ("last_name", "Nom", 100, True),
    ("first_name", "Prénom", 100, True),
    ("birth_date", "Date de naissance", 10, False),
    ("phone", "Téléphone", 30, False),
    ("email", "Courriel", 254, False),
    ("address", "Adresse", 300, False),
    ("postal_code", "Code postal", 10, False),
    ("city", "Ville", 120, False),
)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _person(person_id: uuid.UUID) -> Person:
    person = db.session.scalar(select(Person).where(Person.id == person_id))
    if person is None:
        abort(404)
    return person


def _context(person: Person, errors=None, values=None, refusal=None) -> dict:
    registry = descriptors()
    ids = purge.linked_ids(db.session, person.id, registry)
    held = {d.table: len(ids.get(d.table, ())) for d in registry.values() if ids.get(d.table)}
    return {
        "person": person,
        "cases": db.session.scalars(select(Case).where(Case.person_id == person.id)
                                    .order_by(Case.intake_date)).all(),
        "held": held,
        "labels": {d.table: d.label or d.table for d in registry.values()},
        "holds": purge.hold_reasons(db.session, ids, registry),
        "retention_months": purge.retention_months(g.tenant),
        "fields": FIELDS,
        "errors": errors or {},
        "values": values or _values(person),
        "refusal": refusal,
    }


def _values(person: Person) -> dict:
    out = {name: getattr(person, name) or "" for name, *_rest in FIELDS}
    out["birth_date"] = person.birth_date.isoformat() if person.birth_date else ""
    return out


def _searched_date(q: str) -> date | None:
    """The birth date searched for (``jj/mm/aaaa`` or ISO), or None: a name."""
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(q, fmt).date()
        except ValueError:
            continue
    return None


@bp.route("/", methods=["GET", "POST"])
@allow(MANAGER)
def search():
    """Find a person. The name is sent by POST: never in a URL, an access log or the
    browser's history (issue 18)."""
    q = (request.form.get("q") or "").strip()[:100] if request.method == "POST" else ""
    rows, referred_rows = [], []
    if len(q) >= 2:
        born = _searched_date(q)
        if born is not None:
            rows = db.session.scalars(
                select(Person).where(Person.birth_date == born)
                .order_by(Person.last_name, Person.first_name).limit(50)).all()
            referred_rows = referred.search(db.session, born=born)
        else:
            literal = q.lower()
            for char in ("\\", "%", "_"):
                literal = literal.replace(char, "\\" + char)
            pattern = f"%{literal}%"
            rows = db.session.scalars(
                select(Person).where(or_(
                    func.lower(Person.last_name).like(pattern, escape="\\"),
                    func.lower(Person.first_name).like(pattern, escape="\\")))
                .order_by(Person.last_name, Person.first_name).limit(50)).all()
            referred_rows = referred.search(db.session, pattern=pattern)
        # How many people were found, never the query (the trail must hold no names).
        audit.record(db.session, "person.search", None,
                     results=len(rows) + len(referred_rows), ids=[str(p.id) for p in rows])
        db.session.commit()
    return render_template("privacy/search.html", q=q, rows=rows, referred=referred_rows)


@bp.route("/persons/<uuid:person_id>")
@allow(MANAGER)
def person_page(person_id: uuid.UUID):
    person = _person(person_id)
    context = _context(person)
    audit.record(db.session, "person.read", person, page="privacy")
    db.session.commit()
    return render_template("privacy/person.html", **context)


@bp.route("/persons/<uuid:person_id>/export.json")
@allow(MANAGER)
def export_json(person_id: uuid.UUID):
    person = _person(person_id)
    data = export.subject_data(db.session, person, g.tenant)
    audit.record(db.session, "person.export", person, format="json")
    db.session.commit()
    return Response(export.to_json(data), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="donnees-{person.id.hex[:8]}.json"'})


@bp.route("/persons/<uuid:person_id>/export.pdf")
@allow(MANAGER)
def export_pdf(person_id: uuid.UUID):
    person = _person(person_id)
    data = export.subject_data(db.session, person, g.tenant)
    content = export.to_pdf(data, person.full_name, g.tenant.name)
    audit.record(db.session, "person.export", person, format="pdf")
    db.session.commit()
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="donnees-{person.id.hex[:8]}.pdf"'})


@bp.route("/registre")
@allow(MANAGER)
def processing_record():
    """The city's record of processing (RGPD article 30), printable."""
    record = notice.processing_record(g.tenant)
    audit.record(db.session, "privacy.record", None, format="html")
    db.session.commit()
    return render_template("privacy/record.html", record=record)


@bp.route("/registre.json")
@allow(MANAGER)
def processing_record_json():
    record = notice.processing_record(g.tenant)
    audit.record(db.session, "privacy.record", None, format="json")
    db.session.commit()
    return Response(export.to_json(record), mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="registre-des-traitements.json"'})


@bp.route("/persons/<uuid:person_id>/export.zip")
@allow(MANAGER)
def export_zip(person_id: uuid.UUID):
    """Everything held, the stored documents' files included (JSON, PDF and files)."""
    person = _person(person_id)
    data = export.subject_data(db.session, person, g.tenant)
    files = []
    for doc in export.stored_files(db.session, data):
        try:
            files.append((doc, stored_documents.content(doc)))
        except UserError:  # missing from the store: its row (and checksum) is in the JSON
            continue
    content = export.to_zip(data, files, export.to_pdf(data, person.full_name, g.tenant.name))
    audit.record(db.session, "person.export", person, format="zip", files=len(files))
    db.session.commit()
    return Response(content, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="donnees-{person.id.hex[:8]}.zip"'})


def _rectified(form, fields=FIELDS) -> tuple[dict, dict]:
    """The posted identity fields (``(name, label, limit, required)``), trimmed, and their
    errors: the person's page and a referral's page check them the same way."""
    values, errors = {}, {}
    for name, label, limit, required in fields:
        raw = (form.get(name) or "").strip()
        if required and not raw:
            errors[name] = _("%(label)s : obligatoire.", label=label)
        elif len(raw) > limit:
            errors[name] = _("%(label)s : %(limit)s caractères au plus.", label=label,
                             limit=limit)
        values[name] = raw
    if values["birth_date"]:
        try:
            born = date.fromisoformat(values["birth_date"])
        except ValueError:
            errors["birth_date"] = _("Date de naissance : date invalide (jj/mm/aaaa).")
        else:
            if not date(1900, 1, 1) <= born <= clock.today():
                errors["birth_date"] = _("Date de naissance : date invalide.")
    if values["email"] and not EMAIL_RE.match(values["email"]):
        errors["email"] = _("Courriel : adresse invalide.")
    return values, errors


@bp.route("/persons/<uuid:person_id>/rectify", methods=["POST"])
@allow(MANAGER)
def rectify(person_id: uuid.UUID):
    person = _person(person_id)
    if person.anonymised_at is not None:
        return render_template("privacy/person.html", **_context(
            person, refusal="Cette personne est anonymisée : rien à rectifier.")), 409
    values, errors = _rectified(request.form)
    if errors:
        return render_template("privacy/person.html",
                               **_context(person, errors=errors, values=values)), 400
    changed = []
    for name, *_rest in FIELDS:
        new = values[name] or None
        if name == "birth_date" and new:
            new = date.fromisoformat(new)
        if name in ("first_name", "last_name"):
            new = new or ""
        if getattr(person, name) != new:
            setattr(person, name, new)
            changed.append(name)
    if changed:
        # Field names only: the trail must not become a copy of the personal data.
        audit.record(db.session, "person.rectify", person, fields=changed)
        db.session.commit()
        flash("Identité rectifiée.")
    else:
        flash("Aucune modification.")
    return redirect(url_for("privacy.person_page", person_id=person.id))


@bp.route("/persons/<uuid:person_id>/erase", methods=["POST"])
@allow(MANAGER)
def erase(person_id: uuid.UUID):
    person = _person(person_id)
    if person.anonymised_at is not None:
        flash("Cette personne est déjà anonymisée.")
        return redirect(url_for("privacy.person_page", person_id=person.id))
    if request.form.get("confirm") != "yes":
        return render_template("privacy/person.html", **_context(
            person, errors={"confirm": "Cochez la case pour confirmer l'effacement."})), 400
    try:
        purge.anonymise_person(db.session, person, actor=current_user, reason="erasure")
    except UserError as exc:
        db.session.rollback()
        audit.record(db.session, "person.erase_refused", person, reason=exc.message)
        db.session.commit()
        return render_template("privacy/person.html",
                               **_context(person, refusal=exc.message)), exc.status
    db.session.commit()
    flash("Les données personnelles ont été effacées (personne anonymisée).")
    return redirect(url_for("privacy.person_page", person_id=person.id))


# -- people known only through referrals ---------------------------------------------------

#: A referral's personal fields the manager may rectify: (name, label, max length,
#: required); the plugins' fields (``extra``, receiving and sending sides) come from
#: their schemas.
REFERRAL_FIELDS = (
    ("last_name", _l("Nom"), 100, True),
    ("first_name", _l("Prénom"), 100, True),
    ("birth_date", _l("Date de naissance"), 10, False),
    ("phone", _l("Téléphone"), 30, False),
    ("email", _l("Courriel"), 254, False),
    ("note", _l("Message du prescripteur"), 5000, False),
)
EXTRA_PREFIX = "extra-"


def _referral(referral_id: uuid.UUID) -> Referral:
    referral = db.session.scalar(select(Referral).where(Referral.id == referral_id))
    if referral is None:
        abort(404)
    return referral


def _person_of(referral: Referral) -> Person:
    person = referred.linked_person(db.session, referral)
    if person is None:
        abort(404)
    return person


def _merged_extra(referral: Referral):
    """The plugins' fields of this referral, receiving and sending sides (``None`` when no
    enabled plugin adds any, or one of them fails: the stored values are then shown as
    they are and left untouched)."""
    try:
        return referral_service.extra_fields(referral.to_organisation,
                                             referral.from_organisation)
    except UserError:
        return None


def _extra_fields(referral: Referral) -> list[tuple[str, str]]:
    """``(name, label)`` of the plugins' fields (none when their plugins are off)."""
    merged = _merged_extra(referral)
    return [] if merged is None else list(merged.labels().items())


def _referral_values(referral: Referral) -> dict:
    out = {name: getattr(referral, name) or "" for name, *_rest in REFERRAL_FIELDS}
    out["birth_date"] = referral.birth_date.isoformat() if referral.birth_date else ""
    for name, value in (referral.extra or {}).items():
        out[EXTRA_PREFIX + name] = "" if value is None else str(value)
    return out


def _referral_context(referral: Referral, group: list[Referral], errors=None, values=None,
                      refusal=None) -> dict:
    registry = descriptors()
    ids = purge.linked_rows(db.session, {"referrals": {r.id for r in group}}, registry)
    return {
        "referral": referral,
        "group": group,
        "anonymised": referred.is_anonymised(referral),
        "last_activity": referred.last_activity,
        "held": {d.table: len(ids[d.table]) for d in registry.values() if ids.get(d.table)},
        "labels": {d.table: d.label or d.table for d in registry.values()},
        "holds": purge.hold_reasons(db.session, ids, registry),
        "retention_months": purge.retention_months(g.tenant),
        "fields": REFERRAL_FIELDS,
        "extra_fields": _extra_fields(referral),
        "extra_prefix": EXTRA_PREFIX,
        "errors": errors or {},
        "values": values or _referral_values(referral),
        "refusal": refusal,
    }


def _refused_for_a_case(referral: Referral, what: str) -> tuple[str, tuple]:
    """A referral of a person's file: its rights are the person's. ``(message, answer)``:
    the French reason (with the legal reason to keep the data if there is one) and the
    409 page pointing to the person's."""
    person = _person_of(referral)
    holds = purge.hold_reasons(db.session, purge.linked_ids(db.session, person.id))
    message = what + " " + _("Cette orientation fait partie du dossier d'une personne "
                             "suivie : ses droits s'exercent depuis la page de la personne.")
    if holds:
        message += " " + _("Raison légale de conservation :") + " " + " ; ".join(holds) + "."
    return message, (render_template("privacy/referral_of_person.html", referral=referral,
                                     person=person, refusal=message), 409)


@bp.route("/referrals/<uuid:referral_id>")
@allow(MANAGER)
def referral_page(referral_id: uuid.UUID):
    referral = _referral(referral_id)
    if referred.has_case(referral):
        return redirect(url_for("privacy.person_page", person_id=_person_of(referral).id))
    group = referred.same_person(db.session, referral)
    context = _referral_context(referral, group)
    for row in group:
        audit.record(db.session, "referral.read", row, page="privacy")
    db.session.commit()
    return render_template("privacy/referral.html", **context)


def _referred_export(referral_id: uuid.UUID, fmt: str):
    referral = _referral(referral_id)
    if referred.has_case(referral):
        endpoint = "privacy.export_pdf" if fmt == "pdf" else "privacy.export_json"
        return redirect(url_for(endpoint, person_id=_person_of(referral).id))
    group = referred.same_person(db.session, referral)
    data = export.referred_data(db.session, group, g.tenant)
    if fmt == "pdf":
        content = export.to_pdf(data, f"{referral.first_name} {referral.last_name}",
                                g.tenant.name)
        mimetype = "application/pdf"
    else:
        content, mimetype = export.to_json(data), "application/json"
    for row in group:
        audit.record(db.session, "referral.export", row, format=fmt)
    db.session.commit()
    return Response(content, mimetype=mimetype, headers={
        "Content-Disposition":
            f'attachment; filename="donnees-orientation-{referral.id.hex[:8]}.{fmt}"'})


@bp.route("/referrals/<uuid:referral_id>/export.json")
@allow(MANAGER)
def referral_export_json(referral_id: uuid.UUID):
    return _referred_export(referral_id, "json")


@bp.route("/referrals/<uuid:referral_id>/export.pdf")
@allow(MANAGER)
def referral_export_pdf(referral_id: uuid.UUID):
    return _referred_export(referral_id, "pdf")


def _referral_rectified(form, referral: Referral) -> tuple[dict, dict, dict | None]:
    """``(values, errors, new extra or None when the plugin's fields are not shown)``."""
    values, errors = _rectified(form, REFERRAL_FIELDS)
    extra = None
    merged = _merged_extra(referral)
    fields = [] if merged is None else list(merged.labels().items())
    if fields:
        raw_extra = {}
        for name, _label in fields:
            raw = (form.get(EXTRA_PREFIX + name) or "").strip()
            values[EXTRA_PREFIX + name] = raw
            if raw:
                raw_extra[name] = raw
        try:
            loaded = merged.load(raw_extra)
        except ValidationError as exc:
            labels = dict(fields)
            for name, messages in exc.normalized_messages().items():
                text = " ".join(map(str, messages)) if isinstance(messages, list) \
                    else str(messages)
                key = EXTRA_PREFIX + name if name in labels else EXTRA_PREFIX + fields[0][0]
                errors[key] = f"{labels.get(name, name)} : {text}"
        else:
            extra = {**(referral.extra or {}), **loaded}
    return values, errors, extra


@bp.route("/referrals/<uuid:referral_id>/rectify", methods=["POST"])
@allow(MANAGER)
def referral_rectify(referral_id: uuid.UUID):
    referral = _referral(referral_id)
    if referred.has_case(referral):
        return _refused_for_a_case(referral, _("Rectification impossible ici."))[1]
    group = referred.same_person(db.session, referral)
    if referred.is_anonymised(referral):
        return render_template("privacy/referral.html", **_referral_context(
            referral, group,
            refusal=_("Cette orientation est anonymisée : rien à rectifier."))), 409
    values, errors, extra = _referral_rectified(request.form, referral)
    if errors:
        return render_template("privacy/referral.html", **_referral_context(
            referral, group, errors=errors, values=values)), 400
    changed = []
    for name, *_rest in REFERRAL_FIELDS:
        new = values[name] or None
        if name == "birth_date" and new:
            new = date.fromisoformat(new)
        if name in ("first_name", "last_name", "note"):
            new = new or ""
        if getattr(referral, name) != new:
            setattr(referral, name, new)
            changed.append(name)
    if extra is not None:
        old = referral.extra or {}
        keys = sorted(k for k in set(old) | set(extra) if old.get(k) != extra.get(k))
        if keys:
            referral.extra = extra
            changed.extend(f"extra.{k}" for k in keys)
    if changed:
        # A write of the referral: its last activity (partners reading the API's
        # ``updated_since`` get the rectified values). Field names only in the trail.
        referral.updated_at = utcnow()
        audit.record(db.session, "referral.rectify", referral, fields=changed)
        db.session.commit()
        flash(_("Orientation rectifiée."))
    else:
        flash(_("Aucune modification."))
    return redirect(url_for("privacy.referral_page", referral_id=referral.id))


@bp.route("/referrals/<uuid:referral_id>/erase", methods=["POST"])
@allow(MANAGER)
def referral_erase(referral_id: uuid.UUID):
    referral = _referral(referral_id)
    if referred.has_case(referral):
        message, answer = _refused_for_a_case(referral, _("Effacement impossible ici."))
        audit.record(db.session, "referral.erase_refused", referral, reason=message)
        db.session.commit()
        return answer
    group = referred.same_person(db.session, referral)
    if referred.is_anonymised(referral):
        flash(_("Cette orientation est déjà anonymisée."))
        return redirect(url_for("privacy.referral_page", referral_id=referral.id))
    if request.form.get("confirm") != "yes":
        return render_template("privacy/referral.html", **_referral_context(
            referral, group,
            errors={"confirm": _("Cochez la case pour confirmer l'effacement.")})), 400
    try:
        result = purge.anonymise_referrals(db.session, group, actor=current_user,
                                           reason="erasure")
    except UserError as exc:
        db.session.rollback()
        audit.record(db.session, "referral.erase_refused", referral, reason=exc.message)
        db.session.commit()
        return render_template("privacy/referral.html", **_referral_context(
            referral, group, refusal=exc.message)), exc.status
    db.session.commit()
    flash(_("Les données personnelles ont été effacées (orientations anonymisées : "
            "%(count)s).", count=result.rows["referrals"]))
    return redirect(url_for("privacy.referral_page", referral_id=referral.id))
