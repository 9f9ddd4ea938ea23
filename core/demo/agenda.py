"""The social worker's appointments: the evaluation and instruction meetings of the past
(held, a few missed), and a full agenda this week and next (held before now, planned
after), with the cases waiting for their meeting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..models import Appointment
from .cases import DAY_MINUTES, Made, instant
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


class Agenda:
    """The social worker's slots, booked chunk after chunk (no two meetings at once)."""

    def __init__(self, rows: Rows, cast: Cast, today: date, zone: ZoneInfo, now: datetime,
                 until: date | None = None):
        self.rows, self.cast, self.today, self.zone, self.now = rows, cast, today, zone, now
        #: The first day this agenda leaves alone (the next round's first intake day), so
        #: that rounds drawn apart never book the same slot; ``None``: no bound.
        self.until = until
        self.worker = cast.user_id("social_worker")
        self.monday = today - timedelta(days=today.weekday())
        self.taken: set[tuple[date, int]] = set()
        self.label = cast.label("secretary")

    def past(self, made: list[Made]) -> None:
        """The evaluation and instruction meetings held before this week."""
        for item in made:
            story = item.story
            for state, kind in (("evaluation", "intake"),
                                ("submitted_to_lender", "instruction")):
                day = story.day_of(state)
                if day is not None and day < self.monday:
                    self._book(item.case.id, day, kind, first_free=True)

    def weeks(self, made: list[Made]) -> None:
        """This week's and next week's meetings of cases waiting for one."""
        waiting = [m for m in made if m.story.state in WAITING]
        self.rows.rng.shuffle(waiting)
        days = [self.monday + timedelta(days=d) for d in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11)]
        for n, item in enumerate(waiting[:2 * len(days)]):
            kind = {"repaying": "accompaniment", "signing": "accompaniment",
                    "instruction": "instruction", "adjourned": "instruction"}.get(
                        item.story.state, "intake")
            # a meeting about the state the case waits in: after it got there
            day = next((d for d in days[n % len(days):] + days
                        if d > item.story.last_day), None)
            if day is None:
                continue
            self._book(item.case.id, day, kind, first_free=False,
                       after=instant(item.story.last_day, DAY_MINUTES, self.zone))

    def _book(self, case_id, day: date, kind: str, first_free: bool,
              after: datetime | None = None) -> None:
        """Book the first (or a random) free slot of ``day``: booked a week before, not
        before ``after`` (the case's last move) nor after now."""
        rng = self.rows.rng
        if self.worker is None:
            return
        while day.weekday() >= 5:
            day += timedelta(days=1)
        if self.until is not None and day >= self.until:
            return
        free = [i for i in range(len(SLOTS)) if (day, i) not in self.taken]
        if not free:
            return
        slot = free[0] if first_free else rng.choice(free)
        self.taken.add((day, slot))
        starts = _at(day, SLOTS[slot], self.zone)
        booked = starts - timedelta(days=7)
        if after is not None:
            booked = min(max(booked, after), self.now - timedelta(minutes=5))
        if starts > self.now:
            status, outcome_at = "planned", None
        else:
            status = "missed" if rng.random() < 0.08 else "held"
            outcome_at = starts + timedelta(minutes=60)
        mode = "in_person" if rng.random() < 0.85 else "phone"
        self.rows.add(
            Appointment, case_id=case_id, social_worker_id=self.worker, starts_at=starts,
            duration_minutes=60, mode=mode, place=PLACE if mode == "in_person" else "",
            kind=kind, status=status, outcome_at=outcome_at,
            outcome_note="Entretien tenu." if status == "held" else
            "Personne absente, à rappeler." if status == "missed" else "",
            created_at=booked, created_by_label=self.label)
