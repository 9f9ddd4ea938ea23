"""Validation of loan inputs: amounts in cents, rates as exact fractions, dates.

Invalid input raises :class:`LoanInputError` naming the parameter; validated terms carry
the amount in cents and the monthly rate as a reduced fraction, so that the schedule
generator works on integers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from math import gcd
from typing import NamedTuple

from .dates import add_months

METHODS = ("annuity", "linear")
MAX_AMOUNT = Decimal(1_000_000)
MAX_MONTHS = 600
MAX_RATE = Decimal(100)
MAX_SHARE = Decimal(100)
MONEY_DECIMALS = 2
RATE_DECIMALS = 6  # for the annual rate and the subsidy share, both in percent

_ZERO = Decimal(0)


class LoanInputError(ValueError):
    """Invalid loan parameter; ``field`` names the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def validate_loan_inputs(
    amount: Decimal,
    months: int,
    annual_rate: Decimal,
    *,
    method: str = "annuity",
    subsidy_share: Decimal = _ZERO,
    fees: Decimal = _ZERO,
) -> None:
    """Raise :class:`LoanInputError` if a loan parameter is invalid.

    amount: Decimal in (0, 1,000,000], at most 2 decimals; months: int in [1, 600];
    annual_rate: percent, Decimal in [0, 100], at most 6 decimals; method: "annuity" or
    "linear"; subsidy_share: percent of the interest paid by the subsidiser, Decimal in
    [0, 100], at most 6 decimals; fees: Decimal in [0, amount), at most 2 decimals.
    Integers are accepted wherever a Decimal is expected; floats never are.
    """
    _parse_terms(amount, months, annual_rate, method, subsidy_share, fees)


class _Terms(NamedTuple):
    """Validated loan terms; the monthly rate is the exact fraction ``rate_num / rate_den``."""

    amount: Decimal
    amount_cents: int
    annual_rate: Decimal
    rate_num: int
    rate_den: int
    subsidy_share: Decimal
    fees: Decimal


def _parse_terms(
    amount: object,
    months: object,
    annual_rate: object,
    method: object,
    subsidy_share: object,
    fees: object,
) -> _Terms:
    amount = _as_decimal(amount, "amount")
    if not _ZERO < amount <= MAX_AMOUNT:
        raise LoanInputError(
            "amount", f"amount must be greater than 0 and at most {MAX_AMOUNT} (got {amount})"
        )
    amount_cents = _cents(amount, "amount")
    if type(months) is not int:  # bool is rejected too
        raise LoanInputError("months", f"months must be an integer (got {months!r})")
    if not 1 <= months <= MAX_MONTHS:
        raise LoanInputError("months", f"months must be between 1 and {MAX_MONTHS} (got {months})")
    annual_rate = _as_decimal(annual_rate, "annual_rate")
    rate_num, rate_den = _monthly_rate(annual_rate)
    if method not in METHODS:
        raise LoanInputError(
            "method", f"method must be one of {', '.join(METHODS)} (got {method!r})"
        )
    subsidy_share = _as_decimal(subsidy_share, "subsidy_share")
    _check_share(subsidy_share)
    fees = _as_decimal(fees, "fees")
    if fees:
        if fees < 0:
            raise LoanInputError("fees", f"fees must not be negative (got {fees})")
        if fees >= amount:
            raise LoanInputError(
                "fees", f"fees must be lower than the amount (got {fees} for {amount})"
            )
        _cents(fees, "fees")
    return _Terms(amount, amount_cents, annual_rate, rate_num, rate_den, subsidy_share, fees)


def _as_decimal(value: object, name: str) -> Decimal:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise LoanInputError(name, f"{name} must be a finite number (got {value})")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise LoanInputError(name, f"{name} must be a Decimal or an int, not {type(value).__name__}")


def _check_places(value: Decimal, places: int, name: str) -> None:
    _, denominator = value.as_integer_ratio()
    if 10**places % denominator:
        raise LoanInputError(
            name, f"{name} must have at most {places} decimal places (got {value})"
        )


def _cents(value: Decimal, name: str) -> int:
    """Exact number of cents in ``value``; rejects sub-cent digits instead of truncating."""
    numerator, denominator = value.as_integer_ratio()
    if 100 % denominator:
        raise LoanInputError(
            name, f"{name} must have at most {MONEY_DECIMALS} decimal places (got {value})"
        )
    return numerator * (100 // denominator)


@lru_cache(maxsize=1024)
def _check_share(subsidy_share: Decimal) -> None:
    """Validate a subsidy share (cached: a platform uses few distinct shares)."""
    if not _ZERO <= subsidy_share <= MAX_SHARE:
        raise LoanInputError(
            "subsidy_share",
            f"subsidy_share must be a percentage from 0 to 100 (got {subsidy_share})",
        )
    _check_places(subsidy_share, RATE_DECIMALS, "subsidy_share")


@lru_cache(maxsize=1024)
def _monthly_rate(annual_rate: Decimal) -> tuple[int, int]:
    """Validated monthly rate ``annual_rate / 1200`` as a reduced fraction (num, den).

    Cached: a platform uses few distinct rates. Invalid rates raise and are not cached.
    """
    if annual_rate < 0:
        raise LoanInputError("annual_rate", f"annual_rate must not be negative (got {annual_rate})")
    if annual_rate > MAX_RATE:
        raise LoanInputError(
            "annual_rate",
            f"annual_rate is a percentage and must be at most 100 (got {annual_rate})",
        )
    _check_places(annual_rate, RATE_DECIMALS, "annual_rate")
    numerator, denominator = annual_rate.as_integer_ratio()
    denominator *= 1200
    common = gcd(numerator, denominator)
    return numerator // common, denominator // common


def _check_dates(
    start_date: object, first_due_date: object, due_day: object, months: int
) -> tuple[date, int]:
    """Validated (first due date, due day).

    By default the first instalment is due one month after ``start_date`` and the following
    ones on the day of ``start_date``; with an explicit ``first_due_date`` they fall on its
    day. In both cases ``due_day`` may be given to choose the day (clamped to month end).
    """
    _check_date(start_date, "start_date")
    _check_due_day(due_day)
    if first_due_date is None:
        if (start_date.year, start_date.month) == (date.max.year, 12):
            raise LoanInputError("start_date", "start_date is too late to schedule a loan")
        first_due_date = add_months(start_date, 1, day_of_month=due_day)
        due_day = due_day or start_date.day
    else:
        _check_date(first_due_date, "first_due_date")
        if first_due_date <= start_date:
            raise LoanInputError(
                "first_due_date",
                f"first_due_date must be after start_date ({first_due_date} <= {start_date})",
            )
        if due_day is None:
            due_day = first_due_date.day
        elif add_months(first_due_date, 0, day_of_month=due_day) != first_due_date:
            raise LoanInputError(
                "due_day", f"first_due_date {first_due_date} does not fall on due_day {due_day}"
            )
    if first_due_date.year + (first_due_date.month - 1 + months - 1) // 12 > date.max.year:
        raise LoanInputError("first_due_date", "the last due date would be after year 9999")
    return first_due_date, due_day


def _check_due_day(due_day: object) -> None:
    if due_day is not None and (type(due_day) is not int or not 1 <= due_day <= 31):
        raise LoanInputError(
            "due_day", f"due_day must be an integer from 1 to 31 (got {due_day!r})"
        )


def _check_date(value: object, name: str) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise LoanInputError(name, f"{name} must be a datetime.date (got {value!r})")
