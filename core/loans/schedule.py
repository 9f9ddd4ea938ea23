"""Repayment schedules of fixed-rate loans: annuity (constant instalment) and linear
(constant principal), computed exactly in integer cents.

Rules, for an amount P, n monthly instalments and an annual rate R given in percent:

* monthly rate ``r = R / 12 / 100``;
* interest of a period = opening balance x r, rounded half-up to the cent;
* annuity: instalment ``A = P r / (1 - (1 + r) ** -n)`` rounded half-up to the cent
  (``P / n`` when r = 0), principal of a period = A - interest;
* linear: principal of a period = P / n rounded half-up to the cent, payment = principal +
  interest;
* the last instalment absorbs the remainder: its principal is the remaining balance, so the
  principal repaid equals P exactly, and its payment is that principal plus its interest;
* a principal is never larger than the remaining balance (this only matters for tiny
  amounts spread over many months, where the rounded-up instalment would otherwise repay
  more than was lent before the last month).

Speed: every quantity is an exact rational number of cents, so the generator works on
Python integers with exact half-up rounding, ``floor((2 * a + b) / (2 * b))`` for ``a / b``.
This is what Decimal arithmetic at sufficient precision gives, including on exact half-cent
ties that a Decimal monthly rate such as 3.04 / 1200 = 0.0025333... cannot represent. The
annuity instalment is computed once per schedule from an exact ratio cached per
(rate, months). The schedule keeps this integer-cent ledger; the Decimal
:class:`Installment` rows are built from it on first access.
"""


from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Context, Decimal
from functools import cached_property, lru_cache
from itertools import accumulate
from math import gcd

from .apr import annual_percentage_rate
from .dates import add_months, due_dates
from .subsidy import subsidy_cents as _subsidy_cents
from .validation import (
    MAX_AMOUNT,
    MAX_MONTHS,
    MAX_RATE,
    MAX_SHARE,
    METHODS,
    MONEY_DECIMALS,
    RATE_DECIMALS,
    LoanInputError,
    _check_date,
    _check_dates,
    _check_due_day,
    _monthly_rate,
    _parse_terms,
    validate_loan_inputs,
)

__all__ = [
    "MAX_AMOUNT", "MAX_MONTHS", "MAX_RATE", "MAX_SHARE", "METHODS", "MONEY_DECIMALS",
    "RATE_DECIMALS", "Installment", "LoanInputError", "Schedule", "add_months",
    "annuity_installment", "build_schedule", "due_dates", "remaining_schedule",
    "validate_loan_inputs",
]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_EXACT = Context(prec=40)  # money arithmetic must not depend on the caller's context


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True, slots=True)
class Installment:
    """One monthly instalment. Money fields are Decimals with two decimals.

    ``payment = principal + interest`` is due at ``due_date``; ``balance`` is the principal
    still owed after it; ``subsidy`` is the part of the interest paid by the subsidiser and
    ``borrower_payment = payment - subsidy`` what the borrower pays.
    """

    number: int
    due_date: date
    payment: Decimal
    principal: Decimal
    interest: Decimal
    balance: Decimal
    borrower_payment: Decimal
    subsidy: Decimal


@dataclass(frozen=True)
class Schedule:
    """A complete repayment schedule.

    ``installment`` is the constant instalment of an annuity schedule (the last one may
    differ by a few cents) and the first, largest, payment of a linear schedule.
    ``interest_cents`` is the exact interest of each instalment in cents: with the terms
    it determines the whole schedule. Principals, payments, subsidies, due dates and the
    Decimal :attr:`installments` are derived from it on first access. Build schedules
    with :func:`build_schedule` or :func:`remaining_schedule`.
    """

    amount: Decimal
    months: int
    annual_rate: Decimal
    method: str
    installment: Decimal
    start_date: date
    first_due_date: date
    due_day: int
    subsidy_share: Decimal
    fees: Decimal
    interest_cents: tuple[int, ...] = field(repr=False)

    @cached_property
    def installments(self) -> tuple[Installment, ...]:
        """The instalments, numbered from 1."""
        principals = self.principal_cents
        interests = self.interest_cents
        payments = self.payment_cents
        subsidies = self.subsidy_cents
        borrower_payments = self.borrower_payment_cents
        balances = list(accumulate(principals, int.__sub__, initial=self.amount_cents))[1:]
        # Many amounts repeat (the instalment, zero subsidies): convert each one once.
        every_amount = {*principals, *interests, *payments, *subsidies, *balances}
        money = {cents: _money(cents) for cents in every_amount.union(borrower_payments)}
        dates = due_dates(self.first_due_date, self.months, self.due_day)
        return tuple(
            Installment(
                number + 1,
                dates[number],
                money[payments[number]],
                money[principals[number]],
                money[interests[number]],
                money[balances[number]],
                money[borrower_payments[number]],
                money[subsidies[number]],
            )
            for number in range(self.months)
        )

    @property
    def amount_cents(self) -> int:
        return _to_cents(self.amount)

    @cached_property
    def principal_cents(self) -> tuple[int, ...]:
        """Principal repaid by each instalment, in cents (sums to the amount)."""
        step = (
            _to_cents(self.installment)
            if self.method == "annuity"
            else _half_up(self.amount_cents, self.months)
        )
        rate_num, rate_den = _monthly_rate(self.annual_rate)
        principals, interests = _plain_ledger(
            self.amount_cents, self.months, self.method, step, rate_num, rate_den
        )
        if interests != self.interest_cents:
            raise ValueError("interest_cents do not match the terms: use build_schedule()")
        return principals

    @property
    def payment_cents(self) -> tuple[int, ...]:
        """Payment of each instalment (principal + interest), in cents."""
        return tuple(map(int.__add__, self.principal_cents, self.interest_cents))

    @cached_property
    def subsidy_cents(self) -> tuple[int, ...]:
        """Interest of each instalment paid by the subsidiser, in cents."""
        return _subsidy_cents(self.interest_cents, self.subsidy_share)

    @property
    def borrower_payment_cents(self) -> tuple[int, ...]:
        """What the borrower pays at each instalment, in cents."""
        return tuple(map(int.__sub__, self.payment_cents, self.subsidy_cents))

    @property
    def total_interest(self) -> Decimal:
        """Interest of all instalments, whoever pays it."""
        return _money(sum(self.interest_cents))

    @property
    def total_subsidy(self) -> Decimal:
        """Interest paid by the subsidiser."""
        return _money(sum(self.subsidy_cents))

    @property
    def total_borrower_payments(self) -> Decimal:
        """Everything the borrower pays back: amount + interest - subsidy (fees excluded)."""
        return _money(self.amount_cents + sum(self.interest_cents) - sum(self.subsidy_cents))

    @property
    def total_cost(self) -> Decimal:
        """Cost of the credit to the borrower: the interest left to the borrower plus fees.

        ``sum(borrower_payment) + fees - amount``; 0 for a fully subsidised loan without fees.
        """
        interest_left = sum(self.interest_cents) - sum(self.subsidy_cents)
        return _money(interest_left + _to_cents(self.fees))

    @cached_property
    def apr(self) -> Decimal:
        """APR (TAEG) in percent of the borrower's own cash flows, unrounded.

        Amount minus fees received at t = 0, ``borrower_payment`` paid at each month.
        """
        net_cents = self.amount_cents - _to_cents(self.fees)
        return annual_percentage_rate(
            _money(net_cents), [_money(c) for c in self.borrower_payment_cents]
        )


def _money(cents: int) -> Decimal:
    """A number of cents as a Decimal with exactly two decimals."""
    return _EXACT.multiply(Decimal(cents), _CENT)


def _to_cents(value: Decimal) -> int:
    """The exact number of cents in a Decimal that has at most two decimals."""
    numerator, denominator = value.as_integer_ratio()
    return numerator * (100 // denominator)


# --------------------------------------------------------------------------- generation


def build_schedule(
    amount: Decimal,
    months: int,
    annual_rate: Decimal,
    *,
    start_date: date,
    method: str = "annuity",
    first_due_date: date | None = None,
    due_day: int | None = None,
    subsidy_share: Decimal = _ZERO,
    fees: Decimal = _ZERO,
) -> Schedule:
    """Repayment schedule of ``amount`` over ``months`` monthly instalments.

    ``annual_rate`` and ``subsidy_share`` are percentages. The first instalment is due
    one month after ``start_date`` unless ``first_due_date`` is given; the next ones fall
    monthly on ``due_day`` (default: the day of the start date, or of ``first_due_date``
    when given), clamped to the end of shorter months. ``fees`` (paid by the borrower at
    t = 0) only enter the APR and the total cost. Raises :class:`LoanInputError` on invalid
    input (see :func:`validate_loan_inputs`).
    """
    terms = _parse_terms(amount, months, annual_rate, method, subsidy_share, fees)
    first_due_date, due_day = _check_dates(start_date, first_due_date, due_day, months)
    amount_cents, rate_num, rate_den = terms.amount_cents, terms.rate_num, terms.rate_den
    if method == "annuity":
        installment = _annuity_cents(amount_cents, months, rate_num, rate_den)
        interests = _annuity_interests(amount_cents, months, installment, rate_num, rate_den)
    else:
        step = _half_up(amount_cents, months)
        interests = _linear_interests(amount_cents, months, step, rate_num, rate_den)
        installment = step + interests[0]  # the first payment (step <= amount)
    return Schedule(
        amount=terms.amount,
        months=months,
        annual_rate=terms.annual_rate,
        method=method,
        installment=_money(installment),
        start_date=start_date,
        first_due_date=first_due_date,
        due_day=due_day,
        subsidy_share=terms.subsidy_share,
        fees=terms.fees,
        interest_cents=interests,
    )


def remaining_schedule(
    outstanding_principal: Decimal,
    remaining_months: int,
    annual_rate: Decimal,
    next_due_date: date,
    *,
    method: str = "annuity",
    subsidy_share: Decimal = _ZERO,
    due_day: int | None = None,
    start_date: date | None = None,
) -> Schedule:
    """New schedule of the principal still owed, e.g. after an early partial repayment.

    ``outstanding_principal`` (after the repayment) is repaid over ``remaining_months``
    instalments, the first due on ``next_due_date`` and the next ones on ``due_day``
    (default: the day of ``next_due_date``; pass the original schedule's ``due_day`` to
    keep it, e.g. 31 after a February due date). ``start_date`` (the date of the
    recalculation) defaults to one month before ``next_due_date``, on ``due_day``.
    Origination fees are not charged again, so the schedule has no fees.
    """
    _check_date(next_due_date, "next_due_date")
    _check_due_day(due_day)
    if start_date is None:
        if (next_due_date.year, next_due_date.month) == (date.min.year, 1):
            raise LoanInputError("next_due_date", "next_due_date is too early")
        start_date = add_months(next_due_date, -1, day_of_month=due_day)
    return build_schedule(
        outstanding_principal,
        remaining_months,
        annual_rate,
        start_date=start_date,
        method=method,
        first_due_date=next_due_date,
        due_day=due_day,
        subsidy_share=subsidy_share,
    )


def annuity_installment(amount: Decimal, months: int, annual_rate: Decimal) -> Decimal:
    """Constant instalment ``P r / (1 - (1 + r) ** -n)`` rounded half-up to the cent."""
    terms = _parse_terms(amount, months, annual_rate, "annuity", _ZERO, _ZERO)
    return _money(_annuity_cents(terms.amount_cents, months, terms.rate_num, terms.rate_den))


def _half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up, for a non-negative numerator."""
    return (2 * numerator + denominator) // (2 * denominator)


@lru_cache(maxsize=4096)
def _annuity_ratio(rate_num: int, rate_den: int, months: int) -> tuple[int, int]:
    """(X, Y) such that the exact annuity of P cents is ``P * X / Y`` cents.

    With r = a / b: ``P r / (1 - (1 + r) ** -n) = P a (a + b) ** n / (b ((a + b) ** n - b ** n))``.
    """
    if rate_num == 0:
        return 1, months
    growth = (rate_den + rate_num) ** months
    x = rate_num * growth
    y = rate_den * (growth - rate_den**months)
    common = gcd(x, y)
    return x // common, y // common


def _annuity_cents(amount_cents: int, months: int, rate_num: int, rate_den: int) -> int:
    x, y = _annuity_ratio(rate_num, rate_den, months)
    return _half_up(amount_cents * x, y)


def _plain_ledger(
    amount_cents: int, months: int, method: str, step: int, rate_num: int, rate_den: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(principals, interests) in cents: the rules applied one month at a time.

    ``step`` is the instalment (annuity) or the principal of a month (linear). A principal
    is capped at the balance and the last one is the remaining balance. This loop is the
    reference: it gives a schedule's principals on demand, and its interests when the cap
    applies (tiny amounts over many months); otherwise the faster generators below give
    the same interests.
    """
    principals: list[int] = []
    interests: list[int] = []
    balance = amount_cents
    for number in range(1, months + 1):
        interest = _half_up(balance * rate_num, rate_den)
        if number == months:
            principal = balance
        else:
            principal = min(step - interest if method == "annuity" else step, balance)
        balance -= principal
        principals.append(principal)
        interests.append(interest)
    return tuple(principals), tuple(interests)


def _annuity_interests(
    amount_cents: int, months: int, installment: int, rate_num: int, rate_den: int
) -> tuple[int, ...]:
    """Interests in cents of an annuity schedule (principal = instalment - interest).

    Hot loop: it tracks ``x = 2 * balance * a + b`` (monthly rate a / b) so that the
    interest rounded half-up is ``x // (2 * b)`` and repaying ``A - i`` lowers x by
    ``2 * a * (A - i)``.
    """
    twice_num = 2 * rate_num
    twice_den = 2 * rate_den
    x = amount_cents * twice_num + rate_den
    step = installment * twice_num
    interests = [0] * months
    for k in range(months - 1):
        interests[k] = interest = x // twice_den
        x += interest * twice_num - step
    last_balance = amount_cents - (months - 1) * installment + sum(interests)
    if last_balance < 0:  # the balance never increases, so it was never negative before
        return _plain_ledger(amount_cents, months, "annuity", installment, rate_num, rate_den)[1]
    interests[-1] = (last_balance * twice_num + rate_den) // twice_den
    return tuple(interests)


def _linear_interests(
    amount_cents: int, months: int, step: int, rate_num: int, rate_den: int
) -> tuple[int, ...]:
    """Interests in cents of a linear schedule with constant principal ``step``.

    Balances are known in advance (``P - k * step``), so no loop carries state.
    """
    if amount_cents - (months - 1) * step < 0:
        return _plain_ledger(amount_cents, months, "linear", step, rate_num, rate_den)[1]
    twice_num = 2 * rate_num
    twice_den = 2 * rate_den
    first = amount_cents * twice_num + rate_den
    decrement = step * twice_num
    return tuple([(first - k * decrement) // twice_den for k in range(months)])
