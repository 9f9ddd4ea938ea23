"""The "other aids first" suggestions of the cases under evaluation, through the real
service (``core.features.suggestions.refresh``: each enabled plugin suggests what applies
to the case). Few cases are open at a time, so this stays cheap."""

from __future__ import annotations

from sqlalchemy import select

from ..features import suggestions
from ..models import Case
from .cast import Cast

STATES = ("documents_requested", "evaluation")
#: At most this many cases (the latest): enough for the pages, cheap at any scale.
LIMIT = 50


def add(session, cast: Cast) -> int:
    """Refresh the suggestions of the cases waiting in :data:`STATES`; how many cases."""
    actor = cast.users.get("social_worker")
    cases = session.scalars(select(Case).where(Case.state.in_(STATES))
                            .order_by(Case.intake_date.desc()).limit(LIMIT)).all()
    for case in cases:
        suggestions.refresh(session, case, actor=actor)
    return len(cases)
