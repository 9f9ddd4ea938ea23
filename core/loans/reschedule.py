"""Rescheduling a loan in difficulty: payment holiday and/or a new duration.

A rescheduling replaces every instalment the borrower has not paid by a new sequence built
from the **outstanding principal** ``P`` (PURE, exact to the cent):

1. **overdue months**: one row per replaced instalment already due, on its due date,
   interest only: interest ``P x r`` rounded half-up, no principal (the principal of a
   missed instalment is rescheduled; its interest stays due, on the balance really owed);
2. **payment holiday** of ``holiday_months`` (0 to 3): the next due dates, interest only,
   the same way (the interest is not capitalised: no interest on interest);
3. **amortisation**: ``P`` repaid over ``months`` instalments with the loan's method and
   rate (:func:`~core.loans.schedule.build_schedule`), the first one due the month after
   the holiday.

So the principal of the new rows sums to ``P`` exactly, whatever the holiday, and the City
keeps paying its share of every month's interest (``subsidy_share``). The APR shown on the
rider is the APR of the borrower's cash flows from the rescheduling on: ``P`` received,
the holiday and amortisation payments paid monthly (the overdue interest is the past's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .apr import annual_percentage_rate
from .dates import add_months, due_dates
from .schedule import (
    Installment,
    Schedule,
    _annuity_cents,
    _half_up,
    _money,
    _to_cents,
    build_schedule,
)
from .subsidy import subsidy_cents
from .validation import LoanInputError, _monthly_rate

__all__ = ["MAX_HOLIDAY_MONTHS", "Rescheduling", "months_for_installment", "reschedule"]

#: A payment holiday lasts one to three months.
MAX_HOLIDAY_MONTHS = 3


@dataclass(frozen=True)
class Rescheduling:
    """The rows replacing a loan's unpaid instalments, numbered from ``first_number``."""

    outstanding: Decimal
    overdue_months: int
    holiday_months: int
    months: int
    rows: tuple[Installment, ...]
    amortisation: Schedule

    @property
    def installment(self) -> Decimal:
        """The new constant instalment (annuity) or first instalment (linear)."""
        return self.amortisation.installment

    @property
    def last_due_date(self) -> date:
        return self.rows[-1].due_date

    @property
    def total_interest(self) -> Decimal:
        return sum((row.interest for row in self.rows), Decimal("0.00"))

    @property
    def total_subsidy(self) -> Decimal:
        return sum((row.subsidy for row in self.rows), Decimal("0.00"))

    @property
    def apr(self) -> Decimal:
        """APR in percent (unrounded) of the borrower's payments from the rescheduling on."""
        future = [row.borrower_payment for row in self.rows[self.overdue_months:]]
        return annual_percentage_rate(self.outstanding, future)


def reschedule(
    outstanding: Decimal,
    annual_rate: Decimal,
    *,
    next_due_date: date,
    months: int,
    holiday_months: int = 0,
    overdue_due_dates: Sequence[date] = (),
    method: str = "annuity",
    subsidy_share: Decimal = Decimal(0),
    due_day: int | None = None,
    first_number: int = 1,
) -> Rescheduling:
    """The new rows of a loan rescheduled over ``months`` after ``holiday_months``.

    :param outstanding: principal still owed (the principal of every replaced instalment).
    :param next_due_date: first due date after the rescheduling (first holiday month, or
        first amortisation instalment without a holiday).
    :param overdue_due_dates: due dates of the replaced instalments already due.
    :param due_day: day of the month of the due dates (default: ``next_due_date``'s).
    Raises :class:`LoanInputError` on invalid input.
    """
    if not isinstance(holiday_months, int) or not 0 <= holiday_months <= MAX_HOLIDAY_MONTHS:
        raise LoanInputError(
            "holiday_months", f"holiday_months must be between 0 and {MAX_HOLIDAY_MONTHS}"
        )
    if any(day >= next_due_date for day in overdue_due_dates):
        raise LoanInputError("overdue_due_dates", "overdue dates must precede next_due_date")
    day = next_due_date.day if due_day is None else due_day
    first_amortisation = add_months(next_due_date, holiday_months, day_of_month=day)
    amortisation = build_schedule(
        outstanding, months, annual_rate,
        start_date=add_months(first_amortisation, -1, day_of_month=day), method=method,
        first_due_date=first_amortisation, due_day=day, subsidy_share=subsidy_share,
    )
    principal = _to_cents(amortisation.amount)
    rate_num, rate_den = _monthly_rate(amortisation.annual_rate)
    interest = _half_up(principal * rate_num, rate_den)
    subsidy = subsidy_cents([interest], amortisation.subsidy_share)[0]
    interest_only_dates = (*overdue_due_dates,
                           *due_dates(next_due_date, holiday_months, day)[:holiday_months])
    rows = [
        Installment(0, when, _money(interest), _money(0), _money(interest), _money(principal),
                    _money(interest - subsidy), _money(subsidy))
        for when in interest_only_dates
    ]
    rows.extend(amortisation.installments)
    numbered = tuple(
        Installment(first_number + index, row.due_date, row.payment, row.principal,
                    row.interest, row.balance, row.borrower_payment, row.subsidy)
        for index, row in enumerate(rows)
    )
    return Rescheduling(amortisation.amount, len(overdue_due_dates), holiday_months, months,
                        numbered, amortisation)


def months_for_installment(
    outstanding: Decimal, annual_rate: Decimal, installment: Decimal, *,
    method: str = "annuity", max_months: int,
) -> int:
    """Fewest monthly instalments repaying ``outstanding`` without exceeding ``installment``
    (annuity: the constant instalment; linear: the principal of a month), at most
    ``max_months`` (PURE). Used when an early repayment shortens the loan instead of
    lowering its instalment: the borrower keeps paying about the same each month.
    """
    cents = _to_cents(outstanding)
    ceiling = _to_cents(installment)
    if method == "linear":
        return max(1, min(max_months, -(-cents // max(ceiling, 1))))
    rate_num, rate_den = _monthly_rate(annual_rate)
    for months in range(1, max_months + 1):
        if _annuity_cents(cents, months, rate_num, rate_den) <= ceiling:
            return months
    return max_months
