"""The social worker's appointments: the evaluation and instruction meetings of the past
(held, a few missed), and a full agenda this week and next (held before now, planned
after), with the cases waiting for their meeting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..models import Appointment
from .cases import Made
from .cast import Cast
from .rows import Rows

#: Start times of the day's slots (local), 60 minutes each with a break between.
SLOTS = (time(9, 0), time(10, 30), time(14, 0), time(15, 30))
PLACE = "CCAS de Toulouse, 17 place de la Daurade, bureau 2"
#: States in which a case waits for a meeting with the social worker.
WAITING = ("documents_requested", "evaluation", "instruction", "adjourned", "signing",
           "repaying")


def week_bounds(monday: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of Monday 00:00 and the next Monday 00:00 in ``zone``."""
    start = datetime.combine(monday, time(0), zone).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0), zone).astimezone(UTC)
    return start, end


def _at(day: date, slot: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, slot, zone).astimezone(UTC)


def add(rows: Rows, made: list[Made], cast: Cast, today: date, zone: ZoneInfo,
        now: datetime) -> None:
    rng = rows.rng
    worker = cast.user_id("social_worker")
    if worker is None:
        return
    monday = today - timedelta(days=today.weekday())
    taken: set[tuple[date, int]] = set()
    label = cast.label("secretary")

    def book(case_id, day: date, kind: str, past_only: bool) -> None:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        free = [i for i in range(len(SLOTS)) if (day, i) not in taken]
        if not free:
            return
        slot = free[0] if past_only else rng.choice(free)
        taken.add((day, slot))
        starts = _at(day, SLOTS[slot], zone)
        if starts > now:
            status, outcome_at = "planned", None
        else:
            status = "missed" if rng.random() < 0.08 else "held"
            outcome_at = starts + timedelta(minutes=60)
        rows.add(Appointment, case_id=case_id, social_worker_id=worker, starts_at=starts,
                 duration_minutes=60, mode="in_person" if rng.random() < 0.85 else "phone",
                 place=PLACE, kind=kind, status=status, outcome_at=outcome_at,
                 outcome_note="Entretien tenu." if status == "held" else
                 "Personne absente, à rappeler." if status == "missed" else "",
                 created_at=starts - timedelta(days=7), created_by_label=label)

    for item in made:
        story = item.story
        for state, kind in (("evaluation", "intake"), ("submitted_to_lender", "instruction")):
            day = story.day_of(state)
            if day is not None and day < monday:
                book(item.case.id, day, kind, past_only=True)
    waiting = [m for m in made if m.story.state in WAITING]
    rng.shuffle(waiting)
    days = [monday + timedelta(days=d) for d in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11)]
    for n, item in enumerate(waiting[:2 * len(days)]):
        kind = {"repaying": "accompaniment", "signing": "accompaniment",
                "instruction": "instruction", "adjourned": "instruction"}.get(
                    item.story.state, "intake")
        book(item.case.id, days[n % len(days)], kind, past_only=False)
