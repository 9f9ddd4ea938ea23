"""The City's interest subsidy cost per year, past and forecast, from the live schedules.

The City pays ``subsidy_share`` % of each instalment's interest (Toulouse: all of it); the
instalment rows carry that ``subsidy``. Instalments due up to today are the past cost;
those still to come on loans being repaid are the forecast. A defaulted loan costs
nothing after its default; an early repayment already replaced the instalments it
cancelled. Aggregated in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Integer, and_, cast, extract, func, or_, select

from .models import Installment, Loan, LoanStatus

CENT = Decimal("0.01")


@dataclass(frozen=True)
class YearCost:
    year: int
    past: Decimal
    forecast: Decimal

    @property
    def total(self) -> Decimal:
        return self.past + self.forecast


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _counted():
    """Instalments that cost the City: not after a declared default, not on loans that
    were withdrawn."""
    return and_(
        Loan.status != LoanStatus.withdrawn,
        or_(Loan.default_declared_on.is_(None),
            Installment.due_date <= Loan.default_declared_on),
    )


def cost_by_year(session, today: date) -> list[YearCost]:
    """Past (due by ``today``) and forecast (due later, loans being repaid) per year."""
    year = cast(extract("year", Installment.due_date), Integer)
    past = func.sum(
        func.coalesce(_when(Installment.due_date <= today, Installment.subsidy), 0)
    )
    forecast = func.sum(func.coalesce(
        _when(and_(Installment.due_date > today, Loan.status == LoanStatus.repaying),
              Installment.subsidy), 0,
    ))
    rows = session.execute(
        select(year, past, forecast)
        .select_from(Installment)
        .join(Loan, Loan.id == Installment.loan_id)
        .where(_counted())
        .group_by(year)
        .order_by(year)
    ).all()
    return [YearCost(int(y), _money(p), _money(f)) for y, p, f in rows
            if _money(p) or _money(f)]


def cost_of_year(session, year: int, today: date) -> YearCost:
    for item in cost_by_year(session, today):
        if item.year == year:
            return item
    return YearCost(year, Decimal("0.00"), Decimal("0.00"))


def _when(condition, value):
    from sqlalchemy import case

    return case((condition, value), else_=None)
