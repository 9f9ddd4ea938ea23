"""Collective budget workshops: themes, a session a month over the period and two to
come, borrowers and applicants invited, attendance and evaluations of the past ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..features.accompaniment import add_months
from ..models import TimeEntry, WorkshopInvitation, WorkshopSession, WorkshopTheme
from .cases import Made
from .cast import Cast
from .rows import Rows

THEMES = (
    ("Tenir son budget au mois le mois", "Outils simples pour suivre ses dépenses."),
    ("Banque, crédit et frais bancaires", "Comprendre ses relevés et éviter les frais."),
    ("Réduire ses factures d'énergie", "Éco-gestes et aides (chèque énergie)."),
)
HOUR = timedelta(hours=1)
PLACE = "Maison des solidarités, salle Garonne"
COMMENTS = ("Très utile, j'ai compris mes frais bancaires.", "Bon échange avec le groupe.",
            "", "Un peu court.", "")


def add(rows: Rows, made: list[Made], cast: Cast, first: date, today: date,
        zone: ZoneInfo, now: datetime) -> None:
    """Sessions from ``first`` to next month, inviting people of ``made`` (a sample of
    the cases is enough) who had come to the CCAS before the invitation. What was done
    (the session scheduled, invitations sent, registrations) is dated before ``now``."""
    rng = rows.rng
    worker = cast.user_id("social_worker")
    if not made:
        return
    themes = [rows.add(WorkshopTheme, title=title, description=text)
              for title, text in THEMES]
    borrowers = [m for m in made if m.story.reached("withdrawal_period")]
    others = [m for m in made if m.story.reached("evaluation")
              and not m.story.reached("withdrawal_period")]
    month, n = add_months(first.replace(day=1), 2), 0
    starts = []
    while month <= add_months(today.replace(day=1), 1):
        day = month + timedelta(days=(3 - month.weekday()) % 7 + 7)  # second Thursday
        starts.append(day)
        month = add_months(month, 1)
    starts.append(today + timedelta(days=(3 - today.weekday()) % 7 + 7))
    for day in sorted(set(starts)):
        n += 1
        at = datetime.combine(day, time(14), zone).astimezone(UTC)
        session_id = rows.add(WorkshopSession, theme_id=themes[n % len(themes)],
                              starts_at=at, duration_minutes=120, place=PLACE, capacity=12,
                              animator_id=worker,
                              created_at=min(at - timedelta(days=30), now - HOUR * 3))
        past = day < today
        invited_at = min(at - timedelta(days=21), now - HOUR * 2)
        registered_at = min(at - timedelta(days=10), now - HOUR)
        sent = invited_at.astimezone(zone).date()
        pool = [m for m in borrowers + others if m.story.intake_date < sent]
        invited = rng.sample(pool, min(len(pool), rng.randint(8, 14)))
        seen = set()
        for item in invited:
            if item.person_id in seen:
                continue
            seen.add(item.person_id)
            draw = rng.random()
            if past:
                status = "attended" if draw < 0.65 else "absent"
            else:
                status = "registered" if draw < 0.5 else "invited"
            rows.add(WorkshopInvitation, session_id=session_id, person_id=item.person_id,
                     case_id=item.case.id, status=status, invited_at=invited_at,
                     registered_at=registered_at if status != "invited" else None,
                     score=rng.randint(3, 5) if status == "attended" and rng.random() < 0.7
                     else None,
                     comment=rng.choice(COMMENTS) if status == "attended" else "",
                     updated_at=at if past else registered_at if status != "invited"
                     else invited_at)
        if past and worker is not None:
            rows.add(TimeEntry, user_id=worker, activity="workshop", category="accompaniment",
                     minutes=180, day=day, note="Atelier budgétaire (préparation et séance)",
                     source=f"workshop:{session_id}")
