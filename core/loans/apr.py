"""APR (French TAEG) of a borrower's cash flows, actuarial convention, monthly periods.

The APR is the annual rate ``a`` (returned in percent) such that what the borrower really
receives at t = 0 equals the present value of what the borrower pays at months 1..n::

    net_amount = sum(payment_k / (1 + a) ** (k / 12))

With ``v = (1 + a) ** (-1 / 12)`` this is the polynomial equation
``f(v) = sum(payment_k * v ** k) - net_amount = 0``. For non-negative payments ``f`` is
increasing and convex for ``v > 0``, so a Newton iteration safeguarded by bisection over
a bracketing interval converges to the unique positive root. Everything is computed with
Decimal at 60 significant digits; the result is rounded to 28 significant digits.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

_WORK = Context(prec=60, rounding=ROUND_HALF_EVEN)
_RESULT = Context(prec=28, rounding=ROUND_HALF_EVEN)
_RELATIVE_TOLERANCE = Decimal("1e-50")
_MAX_ITERATIONS = 2000
_HUNDREDTH = Decimal("0.01")
_ZERO = Decimal(0)
_ONE = Decimal(1)


def annual_percentage_rate(net_amount: Decimal, payments: Sequence[Decimal]) -> Decimal:
    """APR in percent of receiving ``net_amount`` now and paying ``payments[k - 1]`` at month k.

    ``net_amount`` is the amount lent minus the fees, and must be positive; every payment
    must be non-negative and at least one positive. When the payments add up exactly to
    ``net_amount`` (no interest and no fees left to the borrower) the APR is exactly 0.
    """
    if net_amount <= 0:
        raise ValueError("the net amount received by the borrower must be positive")
    if any(payment < 0 for payment in payments):
        raise ValueError("borrower payments must not be negative")
    with localcontext(_WORK):
        payments = [Decimal(payment) for payment in payments]
        net_amount = Decimal(net_amount)
        total = sum(payments, _ZERO)
        if total <= 0:
            raise ValueError("at least one borrower payment must be positive")
        if total == net_amount:
            return Decimal(0)
        discount = _solve_discount_factor(net_amount, payments)
        apr = ((_ONE / discount) ** 12 - 1) * 100
    return _RESULT.plus(apr)


def round_apr(apr: Decimal) -> Decimal:
    """APR rounded half-up to two decimals, as printed on contracts and documents."""
    return apr.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP, context=_WORK)


def effective_annual_rate(annual_rate: Decimal) -> Decimal:
    """Annual effective rate in percent of a nominal annual rate compounded monthly.

    ``((1 + annual_rate / 1200) ** 12 - 1) * 100``: the APR of a loan at that nominal rate
    with no fees, before any rounding of the instalments to the cent.
    """
    with localcontext(_WORK):
        effective = ((1 + Decimal(annual_rate) / 1200) ** 12 - 1) * 100
    return _RESULT.plus(effective)


def _present_value_and_slope(
    discount: Decimal, net_amount: Decimal, payments: Sequence[Decimal]
) -> tuple[Decimal, Decimal]:
    """``f(discount)`` and ``f'(discount)`` by Horner's scheme (payments at months 1..n)."""
    value = _ZERO  # sum(p_k * v ** (k - 1)), built from the last payment backwards
    slope = _ZERO
    for payment in reversed(payments):
        slope = slope * discount + value
        value = value * discount + payment
    # f(v) = v * value - net, f'(v) = value + v * value'
    return discount * value - net_amount, value + discount * slope


def _solve_discount_factor(net_amount: Decimal, payments: Sequence[Decimal]) -> Decimal:
    """Unique ``v > 0`` with ``sum(p_k * v ** k) = net_amount`` (working context active)."""
    low, high = _ZERO, _ONE  # f(0) = -net < 0
    value, slope = _present_value_and_slope(high, net_amount, payments)
    while value < 0:  # negative APR: the root lies above 1
        low, high = high, high * 2
        value, slope = _present_value_and_slope(high, net_amount, payments)
    guess = high
    for _ in range(_MAX_ITERATIONS):
        if value == 0:
            return guess
        if value > 0:
            high = guess
        else:
            low = guess
        step = value / slope if slope > 0 else _ZERO
        candidate = guess - step
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - guess) <= _RELATIVE_TOLERANCE * candidate:
            return candidate
        guess = candidate
        value, slope = _present_value_and_slope(guess, net_amount, payments)
    raise ArithmeticError("APR computation did not converge")  # pragma: no cover
