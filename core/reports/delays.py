"""Time per step of the process, for the manager's dashboard. PURE.

The milestones are the tenant's workflow's (``core.workflow.definitions``: the core's
request, first interview, instruction, submission and decision, and what the tenant's
plugins add, e.g. the lender's own check): a case reaches a milestone the first time one
of its recorded transitions matches it. The first interview is also reached on the date
of the first recorded interview when that is earlier.

:func:`median_delays` gives, for each step of the workflow (consecutive milestones, then
the whole way), the median number of days over the cases that reached both ends of the
step, and how many cases that is.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

#: The milestone a recorded interview may reach earlier than the transition.
FIRST_INTERVIEW = "evaluation"


@dataclass(frozen=True)
class TransitionPoint:
    """The part of a recorded transition the delays need."""

    case_id: object
    from_state: str | None
    to_state: str
    at: datetime


@dataclass(frozen=True)
class StepDelay:
    start: str
    end: str
    label: str
    median_days: float | None
    cases: int


def milestones(
    transitions: Iterable[TransitionPoint],
    marks: Sequence,
    first_interviews: Mapping[object, date] | None = None,
) -> dict[object, dict[str, datetime]]:
    """``{case_id: {milestone key: first datetime reached}}`` for the ``marks``
    (``Milestone`` objects of the workflow)."""
    out: dict[object, dict[str, datetime]] = {}

    def reach(case_id, name: str, at: datetime) -> None:
        reached = out.setdefault(case_id, {})
        if name not in reached or at < reached[name]:
            reached[name] = at

    for t in transitions:
        for mark in marks:
            if mark.reached_by(t.from_state, t.to_state):
                reach(t.case_id, mark.key, t.at)
    if any(m.key == FIRST_INTERVIEW for m in marks):
        for case_id, day in (first_interviews or {}).items():
            if case_id in out:
                reach(case_id, FIRST_INTERVIEW, datetime.combine(day, time(12), tzinfo=UTC))
    return out


def median_delays(reached: Mapping[object, Mapping[str, datetime]],
                  steps: Sequence[tuple[str, str, str, str]]) -> list[StepDelay]:
    """Median days of each step ``(key, start, end, label)`` (``None`` when no case has
    both ends)."""
    result = []
    for _key, start, end, label in steps:
        days = [
            max((m[end] - m[start]).total_seconds(), 0) / 86400
            for m in reached.values()
            if start in m and end in m
        ]
        median = round(statistics.median(days), 1) if days else None
        result.append(StepDelay(start, end, label, median, len(days)))
    return result
