"""Time per step of the process, for the manager. PURE.

Milestones of a case, read from its recorded transitions:

* ``intake``: the case was opened (transition into ``intake``);
* ``ficp_result``: the case left ``ficp_pending`` towards ``documents_requested`` (check
  clear) or ``ficp_registered`` (the lender found an incident);
* ``first_interview``: the case entered ``evaluation`` (the first interview), or the
  date of its first recorded interview when it is earlier and known;
* ``submission``: the case entered ``submitted_to_lender``.

:func:`median_delays` gives, for each step, the median number of days over the cases that
reached both ends of the step, and how many cases that is.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

MILESTONES = ("intake", "ficp_result", "first_interview", "submission")
STEPS = (
    ("intake", "ficp_result"),
    ("ficp_result", "first_interview"),
    ("first_interview", "submission"),
    ("intake", "submission"),
)
STEP_LABELS = {
    ("intake", "ficp_result"): "Fiche recueil → résultat FICP",
    ("ficp_result", "first_interview"): "Résultat FICP → premier entretien",
    ("first_interview", "submission"): "Premier entretien → transmission au prêteur",
    ("intake", "submission"): "Fiche recueil → transmission au prêteur (total)",
}


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
    first_interviews: Mapping[object, date] | None = None,
) -> dict[object, dict[str, datetime]]:
    """``{case_id: {milestone: first datetime reached}}``."""
    out: dict[object, dict[str, datetime]] = {}

    def reach(case_id, name: str, at: datetime) -> None:
        marks = out.setdefault(case_id, {})
        if name not in marks or at < marks[name]:
            marks[name] = at

    for t in transitions:
        if t.to_state == "intake" and t.from_state is None:
            reach(t.case_id, "intake", t.at)
        elif t.from_state == "ficp_pending" and t.to_state in (
            "documents_requested", "ficp_registered"
        ):
            reach(t.case_id, "ficp_result", t.at)
        elif t.to_state == "evaluation":
            reach(t.case_id, "first_interview", t.at)
        elif t.to_state == "submitted_to_lender":
            reach(t.case_id, "submission", t.at)
    for case_id, day in (first_interviews or {}).items():
        if case_id in out:
            reach(case_id, "first_interview", datetime.combine(day, time(12), tzinfo=UTC))
    return out


def median_delays(marks: Mapping[object, Mapping[str, datetime]]) -> list[StepDelay]:
    """Median days of each step (``None`` when no case has both ends)."""
    result = []
    for start, end in STEPS:
        days = [
            max((m[end] - m[start]).total_seconds(), 0) / 86400
            for m in marks.values()
            if start in m and end in m
        ]
        median = round(statistics.median(days), 1) if days else None
        result.append(StepDelay(start, end, STEP_LABELS[(start, end)], median, len(days)))
    return result
