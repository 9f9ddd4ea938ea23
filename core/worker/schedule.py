"""Schedules of the worker's jobs (PURE).

A job runs once per **slot**: the periods of ``every`` counted from midnight UTC of
2000-01-01 shifted by ``at``. ``every=1 day, at=05:00`` gives one slot a day starting at
05:00 UTC; ``every=1 minute`` one slot a minute. A worker that was stopped does not catch
up the slots it missed: it runs the current one.

``CCAS_WORKER_SCHEDULE`` overrides the jobs' own schedules: comma-separated
``name=EVERY[@HH:MM]`` or ``name=off``, EVERY being a number and a unit ``s``, ``m``,
``h`` or ``d`` (``outbox.drain=30s, referrals.remind=1d@05:00, privacy.purge=off``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_ENTRY = re.compile(r"^(?P<n>\d+)(?P<unit>[smhd])(?:@(?P<hh>\d{1,2}):(?P<mm>\d{2}))?$")


@dataclass(frozen=True)
class Schedule:
    every: timedelta
    at: timedelta = timedelta(0)

    def __str__(self) -> str:
        text = describe(self.every)
        if self.at:
            minutes = int(self.at.total_seconds() // 60)
            text += f" à {minutes // 60:02d}:{minutes % 60:02d} UTC"
        return text


OFF = None


def describe(every: timedelta) -> str:
    """``timedelta(days=1)`` → ``"1 j"``, 5 minutes → ``"5 min"`` (for people)."""
    seconds = int(every.total_seconds())
    for size, unit in ((86400, "j"), (3600, "h"), (60, "min")):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def slot_of(now: datetime, schedule: Schedule) -> datetime:
    """Start of the slot holding ``now`` (aware UTC)."""
    anchor = EPOCH + schedule.at
    periods = (now - anchor) // schedule.every
    return anchor + periods * schedule.every


def parse_overrides(text: str | None) -> dict[str, Schedule | None]:
    """``CCAS_WORKER_SCHEDULE`` → ``{job name: Schedule or None (off)}``; ``ValueError``
    with a French message naming the bad entry."""
    out: dict[str, Schedule | None] = {}
    for raw in (text or "").split(","):
        entry = raw.strip()
        if not entry:
            continue
        name, sep, value = (part.strip() for part in entry.partition("="))
        if not sep or not name:
            raise ValueError(f"CCAS_WORKER_SCHEDULE : attendu nom=période, reçu {entry!r}.")
        if value.lower() == "off":
            out[name] = OFF
            continue
        match = _ENTRY.match(value.replace(" ", ""))
        if not match or int(match["n"]) == 0:
            raise ValueError(f"CCAS_WORKER_SCHEDULE : période invalide pour {name} : {value!r} "
                             "(exemples : 30s, 5m, 1h, 1d@05:00, off).")
        every = timedelta(**{UNITS[match["unit"]]: int(match["n"])})
        at = timedelta(0)
        if match["hh"] is not None:
            hours, minutes = int(match["hh"]), int(match["mm"])
            if hours > 23 or minutes > 59:
                raise ValueError(f"CCAS_WORKER_SCHEDULE : heure invalide pour {name} : {value!r}.")
            at = timedelta(hours=hours, minutes=minutes)
        out[name] = Schedule(every, at)
    return out
