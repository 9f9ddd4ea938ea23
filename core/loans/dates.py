"""Monthly due dates: calendar months, clamped to the end of shorter months."""

from __future__ import annotations

from datetime import date

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: date, months: int, *, day_of_month: int | None = None) -> date:
    """``day`` moved by ``months`` calendar months (may be negative), clamped to month end.

    The day of the result is ``day_of_month`` (default: the day of ``day``) or the last day
    of the month if that month is shorter.

    >>> add_months(date(2024, 1, 31), 1)
    datetime.date(2024, 2, 29)
    """
    years, month_index = divmod(day.month - 1 + months, 12)
    year = day.year + years
    last_day = _DAYS_IN_MONTH[month_index]
    if month_index == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last_day = 29
    wanted = day.day if day_of_month is None else day_of_month
    return date(year, month_index + 1, min(wanted, last_day))


def due_dates(first_due_date: date, months: int, due_day: int | None = None) -> tuple[date, ...]:
    """``months`` monthly due dates from ``first_due_date``, on ``due_day`` of each month.

    ``due_day`` defaults to the day of ``first_due_date``; it is clamped to each month's
    end without drifting: day 31 gives Jan 31, Feb 28 (or 29), Mar 31, Apr 30...
    """
    day = first_due_date.day if due_day is None else due_day
    return tuple(add_months(first_due_date, k, day_of_month=day) for k in range(months))
