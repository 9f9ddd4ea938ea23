"""The manager's RGPD pages: find a person, see what is held about them, export it (JSON
and PDF, every read audited), rectify their identity (audited, field names only) and erase
them (anonymise now) unless a legal reason keeps the data (an open loan)."""

from __future__ import annotations

import re
import uuid
from datetime import date

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from .. import audit
from ..db import db
from ..errors import UserError
from ..models import Case, Person
from ..policy import allow
from ..privacy import export, purge
from ..privacy.registry import descriptors
from . import sections

bp = Blueprint("privacy", __name__, url_prefix="/t/<tenant>/admin/privacy")

sections.nav_item("Données personnelles (RGPD)", "privacy.search", {"manager"}, order=905)
sections.case_section("privacy", "privacy/_case_section.html", {"manager"}, order=200)

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
    out = {name: getattr(person, name) or "" for name, *_ in FIELDS}
    out["birth_date"] = person.birth_date.isoformat() if person.birth_date else ""
    return out


@bp.route("/")
@allow("manager")
def search():
    q = (request.args.get("q") or "").strip()[:100]
    rows = []
    if len(q) >= 2:
        literal = q.lower()
        for char in ("\\", "%", "_"):
            literal = literal.replace(char, "\\" + char)
        pattern = f"%{literal}%"
        rows = db.session.scalars(
            select(Person).where(or_(func.lower(Person.last_name).like(pattern, escape="\\"),
                                     func.lower(Person.first_name).like(pattern, escape="\\")))
            .order_by(Person.last_name, Person.first_name).limit(50)).all()
        audit.record(db.session, "person.search", None, results=len(rows))
        db.session.commit()
    return render_template("privacy/search.html", q=q, rows=rows)


@bp.route("/persons/<uuid:person_id>")
@allow("manager")
def person_page(person_id: uuid.UUID):
    person = _person(person_id)
    context = _context(person)
    audit.record(db.session, "person.read", person, page="privacy")
    db.session.commit()
    return render_template("privacy/person.html", **context)


@bp.route("/persons/<uuid:person_id>/export.json")
@allow("manager")
def export_json(person_id: uuid.UUID):
    person = _person(person_id)
    data = export.subject_data(db.session, person, g.tenant)
    audit.record(db.session, "person.export", person, format="json")
    db.session.commit()
    return Response(export.to_json(data), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="donnees-{person.id.hex[:8]}.json"'})


@bp.route("/persons/<uuid:person_id>/export.pdf")
@allow("manager")
def export_pdf(person_id: uuid.UUID):
    person = _person(person_id)
    data = export.subject_data(db.session, person, g.tenant)
    content = export.to_pdf(data, person.full_name, g.tenant.name)
    audit.record(db.session, "person.export", person, format="pdf")
    db.session.commit()
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="donnees-{person.id.hex[:8]}.pdf"'})


def _rectified(form) -> tuple[dict, dict]:
    values, errors = {}, {}
    for name, label, limit, required in FIELDS:
        raw = (form.get(name) or "").strip()
        if required and not raw:
            errors[name] = f"{label} : obligatoire."
        elif len(raw) > limit:
            errors[name] = f"{label} : {limit} caractères au plus."
        values[name] = raw
    if values["birth_date"]:
        try:
            born = date.fromisoformat(values["birth_date"])
        except ValueError:
            errors["birth_date"] = "Date de naissance : date invalide (jj/mm/aaaa)."
        else:
            if not date(1900, 1, 1) <= born <= date.today():
                errors["birth_date"] = "Date de naissance : date invalide."
    if values["email"] and not EMAIL_RE.match(values["email"]):
        errors["email"] = "Courriel : adresse invalide."
    return values, errors


@bp.route("/persons/<uuid:person_id>/rectify", methods=["POST"])
@allow("manager")
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
    for name, *_ in FIELDS:
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
@allow("manager")
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
