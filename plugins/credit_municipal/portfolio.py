"""The portfolio over time: outstanding principal, PAR30 and default rate at each month's
end, for the lender's page (charts with their table).

* outstanding: principal owed on the loans in the portfolio at the month's end;
* PAR30: share of it held by loans more than 30 days late (percent);
* default rate: outstanding defaulted during the month (at the default) over the
  outstanding at the end of the previous month (percent).

Read on the live schedules (``delinquency.positions_as_of``), one query per month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from core.plugin_api import add_months

from .arrears import PAR_DAYS
from .delinquency import positions_as_of
from .models import Loan

ZERO = Decimal("0.00")
MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
             "oct.", "nov.", "déc.")


@dataclass(frozen=True)
class Month:
    end: date
    outstanding: Decimal
    par30: Decimal | None  # percent, two decimals
    defaulted: Decimal
    default_rate: Decimal | None  # percent, two decimals

    @property
    def label(self) -> str:
        return f"{MONTHS_FR[self.end.month - 1]} {self.end:%y}"


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole <= 0:
        return None
    return (part * 100 / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def month_ends(today: date, count: int = 12) -> list[date]:
    """The last ``count`` month ends up to today (the current month ends today)."""
    first_of_month = today.replace(day=1)
    ends = [today]
    for back in range(1, count):
        ends.append(add_months(first_of_month, -back + 1) - timedelta(days=1))
    return sorted(ends)


def by_month(session, today: date, count: int = 12) -> list[Month]:
    ends = month_ends(today, count)
    previous_end = add_months(ends[0].replace(day=1), 0) - timedelta(days=1)
    totals = {}
    for end in [previous_end, *ends]:
        total = at_risk = ZERO
        for _loan_id, amount, days in positions_as_of(session, end, entities=False):
            total += amount
            if days > PAR_DAYS:
                at_risk += amount
        totals[end] = (total, at_risk)
    out, before = [], previous_end
    for end in ends:
        defaulted = Decimal(str(session.scalar(
            select(func.coalesce(func.sum(Loan.default_outstanding), 0))
            .where(Loan.default_declared_on > before, Loan.default_declared_on <= end))))
        total, at_risk = totals[end]
        out.append(Month(end, total, _percent(at_risk, total), defaulted.quantize(ZERO),
                         _percent(defaulted, totals[before][0])))
        before = end
    return out
