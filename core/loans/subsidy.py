"""Split of each instalment's interest between the subsidiser (the City) and the borrower.

The subsidiser pays ``share`` percent (0-100) of the interest of every instalment:
``subsidy = interest * share / 100`` rounded half-up to the cent, and the borrower pays
``payment - subsidy``. Share 100 means the City pays all the interest, 0 that the
borrower pays it all. Because the interest is a whole number of cents and the share is
at most 100 %, the subsidy never exceeds the interest.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal

_CENT = Decimal("0.01")
_EXACT = Context(prec=60)


def subsidy_amount(interest: Decimal, share: Decimal) -> Decimal:
    """Part of ``interest`` paid by the subsidiser for a share in percent, to the cent."""
    exact = _EXACT.divide(_EXACT.multiply(interest, share), 100)
    return exact.quantize(_CENT, rounding=ROUND_HALF_UP, context=_EXACT)


def subsidy_cents(interest_cents: Iterable[int], share: Decimal) -> tuple[int, ...]:
    """Subsidy in cents for each interest amount in cents (exact integer half-up rounding).

    Gives the same results as :func:`subsidy_amount` on the corresponding Decimals.
    """
    numerator, denominator = share.as_integer_ratio()
    denominator *= 100
    if numerator == 0:
        return tuple(0 for _ in interest_cents)
    if numerator == denominator:
        return tuple(interest_cents)
    twice_numerator = 2 * numerator
    twice_denominator = 2 * denominator
    # floor((2 * x + 1) / 2) is x rounded half-up for x >= 0; here x = i * num / den.
    return tuple(
        (interest * twice_numerator + denominator) // twice_denominator
        for interest in interest_cents
    )
