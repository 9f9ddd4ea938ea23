"""The household budget: consumption units, remaining income, bearable instalment. PURE.

* Consumption units on the OECD-modified scale: 1 for the first adult, 0.5 for each other
  person aged 14 or more, 0.3 for each child under 14.
* Remaining income ("reste à vivre") = monthly resources - monthly fixed charges; per unit
  and per month, and per unit and per day (a month counts :data:`DAYS_PER_MONTH` days).
* The largest bearable monthly instalment keeps the remaining income per unit per day at
  or above the tenant's floor ``tenant.settings["budget"]["min_remaining_per_unit_per_day"]``
  (default :data:`DEFAULT_MIN_REMAINING_PER_UNIT_PER_DAY` €), rounded down to the cent,
  never negative.

No Flask, no session: data in, data out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

#: Days in a month for the per-day figures (the usual convention of French budget tools).
DAYS_PER_MONTH = Decimal(30)
#: Default floor of remaining income per consumption unit per day, in euros.
DEFAULT_MIN_REMAINING_PER_UNIT_PER_DAY = Decimal("10.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class BudgetFigures:
    consumption_units: Decimal
    resources: Decimal
    charges: Decimal
    remaining: Decimal
    remaining_per_unit_month: Decimal
    remaining_per_unit_day: Decimal
    min_remaining_per_unit_per_day: Decimal
    max_instalment: Decimal


def consumption_units(adults: int, children_ages: Iterable[int] = ()) -> Decimal:
    """OECD-modified units of a household of ``adults`` (including the applicant, at least
    1) and children of the given ages (a child aged 14 or more counts as an adult)."""
    adults = max(int(adults or 1), 1)
    units = Decimal(1) + Decimal("0.5") * (adults - 1)
    for age in children_ages or ():
        units += Decimal("0.5") if int(age) >= 14 else Decimal("0.3")
    return units


def min_remaining_setting(settings: Mapping | None) -> Decimal:
    """The tenant's floor (``settings["budget"]["min_remaining_per_unit_per_day"]``)."""
    value = ((settings or {}).get("budget") or {}).get("min_remaining_per_unit_per_day")
    if value is None or value == "":
        return DEFAULT_MIN_REMAINING_PER_UNIT_PER_DAY
    return Decimal(str(value))


def compute(
    resources: Iterable[Decimal],
    charges: Iterable[Decimal],
    adults: int,
    children_ages: Iterable[int] = (),
    min_remaining_per_unit_per_day: Decimal = DEFAULT_MIN_REMAINING_PER_UNIT_PER_DAY,
) -> BudgetFigures:
    """Every figure of the budget sheet from monthly amounts and the household."""
    total_resources = sum((Decimal(x) for x in resources), Decimal(0))
    total_charges = sum((Decimal(x) for x in charges), Decimal(0))
    units = consumption_units(adults, children_ages)
    remaining = total_resources - total_charges
    per_unit_month = (remaining / units).quantize(CENT, rounding=ROUND_HALF_UP)
    per_unit_day = (remaining / units / DAYS_PER_MONTH).quantize(CENT, rounding=ROUND_HALF_UP)
    floor = Decimal(min_remaining_per_unit_per_day)
    bearable = remaining - floor * DAYS_PER_MONTH * units
    max_instalment = max(bearable, Decimal(0)).quantize(CENT, rounding=ROUND_DOWN)
    return BudgetFigures(
        consumption_units=units,
        resources=total_resources.quantize(CENT),
        charges=total_charges.quantize(CENT),
        remaining=remaining.quantize(CENT),
        remaining_per_unit_month=per_unit_month,
        remaining_per_unit_day=per_unit_day,
        min_remaining_per_unit_per_day=floor,
        max_instalment=max_instalment,
    )
