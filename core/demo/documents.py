"""The documents checklist of every case that reached « pièces demandées »: received
once the case moved on, partly received (one missing at least) while it still waits or
when it stopped there."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ..features.documents import tenant_documents
from ..models import CaseDocument
from .cases import Made, instant
from .cast import Cast
from .rows import Rows


def add(rows: Rows, made: list[Made], cast: Cast, tenant, zone: ZoneInfo,
        last_day: date) -> None:
    """``last_day``: the last day of activity (no document received after it)."""
    rng = rows.rng
    requirements = tenant_documents(tenant)
    secretary = cast.users.get("secretary")
    label = cast.label("secretary")
    for item in made:
        story = item.story
        asked = story.day_of("documents_requested")
        if asked is None:
            continue
        moved_on = story.reached("evaluation")
        later = [s.day for s in story.steps if s.day > asked]
        done_by = later[0] if later else min(last_day, asked + timedelta(days=14))
        requested_at = instant(asked, 60, zone)
        # a case that never got past the documents misses one at least
        missing = None if moved_on or not requirements else rng.randint(1, len(requirements))
        for position, req in enumerate(requirements, start=1):
            received = moved_on or (position != missing and rng.random() < 0.45)
            waived = received and req.code == "tax_notice" and rng.random() < 0.2
            # before the day the case moved on (the move is made once they are in)
            day = asked + timedelta(days=rng.randint(0, max(0, (done_by - asked).days
                                                            - (1 if later else 0))))
            at = instant(day, 90 + position, zone)
            status = "waived" if waived else "received" if received else "requested"
            rows.add(CaseDocument, case_id=item.case.id, code=req.code, label=req.label,
                     source="tenant", position=position, status=status,
                     requested_at=requested_at,
                     received_at=at if status == "received" else None,
                     status_changed_at=at if received else requested_at,
                     updated_by_id=secretary.id if secretary else None,
                     updated_by_label=label)
