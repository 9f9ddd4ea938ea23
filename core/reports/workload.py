"""The figures of the team's dashboards (secretary, social worker): counts per week, per
day and per age. Pure: dates in, rows of ``(label, count)`` out (no request, no session);
``core.web.dashboards`` reads the tenant's data and draws them with ``core.reports.charts``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

DAY_NAMES = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def per_week(days: Iterable[date], today: date, weeks: int) -> list[tuple[str, date, int]]:
    """How many of ``days`` fall in each of the last ``weeks`` weeks (Monday to Sunday,
    the current week last): ``(label "sem. du 30/11", Monday, count)``. Days outside the
    window are not counted."""
    last = week_start(today)
    starts = [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    counts = Counter(week_start(d) for d in days)
    return [(f"{start:%d/%m}", start, counts.get(start, 0)) for start in starts]


def per_day(days: Iterable[date], first: date, count: int,
            skip_weekend: bool = True) -> list[tuple[str, date, int]]:
    """How many of ``days`` fall on each of the ``count`` days from ``first`` (week-ends
    left out when ``skip_weekend``, the CCAS being closed): ``(label "lun. 07/12", day,
    count)``."""
    counts = Counter(days)
    out, day = [], first
    while len(out) < count:
        if not (skip_weekend and day.weekday() >= 5):
            out.append((f"{DAY_NAMES[day.weekday()]} {day:%d/%m}", day, counts.get(day, 0)))
        day += timedelta(days=1)
    return out


def age_bands(ages: Iterable[int], bounds: Sequence[int]) -> list[tuple[str, int]]:
    """``ages`` in days grouped in bands cut at ``bounds`` (ascending): with ``(8, 15,
    31)``, "moins de 8 jours", "8 à 14 jours", "15 à 30 jours", "31 jours et plus"."""
    labels = [f"moins de {bounds[0]} jours"]
    labels += [f"{low} à {high - 1} jours" for low, high in zip(bounds, bounds[1:], strict=False)]
    labels.append(f"{bounds[-1]} jours et plus")
    counts = [0] * (len(bounds) + 1)
    for age in ages:
        counts[sum(1 for bound in bounds if age >= bound)] += 1
    return list(zip(labels, counts, strict=True))


def in_range(days: Iterable[date], first: date, last: date) -> int:
    """How many of ``days`` fall between ``first`` and ``last`` (both included)."""
    return sum(1 for d in days if first <= d <= last)
