"""Staff time: the secretary's intake calls, the social worker's instruction work and
accompaniment contacts, so that the manager's time split has its three parts."""

from __future__ import annotations

from datetime import date

from ..features.accompaniment import add_months
from ..models import TimeEntry
from .cases import Made
from .cast import Cast
from .rows import Rows


def add(rows: Rows, made: list[Made], cast: Cast, today: date) -> None:
    rng = rows.rng
    secretary, worker = cast.user_id("secretary"), cast.user_id("social_worker")
    for item in made:
        story, case_id = item.story, item.case.id
        if secretary is not None:
            rows.add(TimeEntry, user_id=secretary, case_id=case_id, activity="phone_call",
                     category="intake", minutes=rng.choice((10, 15, 15, 20)),
                     day=story.intake_date, note="Fiche recueil", source="manual")
            asked = story.day_of("documents_requested")
            if asked is not None:
                rows.add(TimeEntry, user_id=secretary, case_id=case_id,
                         activity="phone_call", category="intake", minutes=10, day=asked,
                         note="Liste des pièces et rendez-vous", source="manual")
        if worker is None:
            continue
        for step in story.steps:
            if step.target in ("submitted_to_lender", "instruction"):
                rows.add(TimeEntry, user_id=worker, case_id=case_id, activity="other",
                         category="instruction", minutes=rng.choice((60, 90, 120, 150)),
                         day=step.day, note="Montage du dossier", source="manual")
        signed = story.day_of("withdrawal_period")
        if signed is None:
            continue
        for month in (1, 3, 6, 12):
            day = add_months(signed, month)
            if day > today or (story.day_of("closed") and day > story.day_of("closed")):
                break
            rows.add(TimeEntry, user_id=worker, case_id=case_id, activity="follow_up",
                     category="accompaniment", minutes=rng.choice((20, 30, 45)), day=day,
                     note="Suivi de l'emprunteur", source="manual")
