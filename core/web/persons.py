"""The person page: one person across all their requests (``core.cases.person_history``),
for the CCAS team."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from .. import audit
from ..cases import household, person_history
from ..db import db
from ..models import Person
from ..policy import CCAS_STAFF, allow

bp = Blueprint("persons", __name__, url_prefix="/t/<tenant>/persons")


@bp.route("/<uuid:person_id>")
@allow(CCAS_STAFF)
def page(person_id: uuid.UUID):
    person = db.session.scalar(select(Person).where(Person.id == person_id))
    if person is None or person.anonymised_at is not None:
        abort(404)
    context = {
        "person": person,
        "cases": person_history.person_cases(db.session, person),
        "events": person_history.history(db.session, person),
        "kinds": person_history.KIND_LABELS,
        "members": household.members(db.session, person),
    }
    audit.record(db.session, "person.read", person, page="history")
    db.session.commit()
    return render_template("persons/page.html", **context)
