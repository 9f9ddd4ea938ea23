"""Budget sheet: OECD-modified units, remaining income, bearable instalment (pure)."""

from __future__ import annotations

from decimal import Decimal as D

from core.cases import budget


def test_single_adult_is_one_unit():
    assert budget.consumption_units(1) == D("1")


def test_other_persons_aged_14_or_more_count_half_and_younger_children_0_3():
    # couple, a 15-year-old and two children of 3 and 13
    assert budget.consumption_units(2, [15, 3, 13]) == D("1") + D("0.5") * 2 + D("0.3") * 2


def test_a_child_of_exactly_14_counts_as_an_adult():
    assert budget.consumption_units(1, [14]) == D("1.5")


def test_zero_adults_still_counts_the_applicant():
    assert budget.consumption_units(0) == D("1")


def test_remaining_income_per_unit_per_month_and_per_day():
    fig = budget.compute([D("1400"), D("150.50")], [D("550"), D("90")], adults=2,
                         children_ages=[4], min_remaining_per_unit_per_day=D("10"))
    assert fig.resources == D("1550.50") and fig.charges == D("640.00")
    assert fig.remaining == D("910.50")
    assert fig.consumption_units == D("1.8")
    assert fig.remaining_per_unit_month == D("505.83")  # 910.50 / 1.8
    assert fig.remaining_per_unit_day == D("16.86")  # / 30 days


def test_max_instalment_keeps_the_floor_per_unit_per_day():
    fig = budget.compute([D("1200")], [D("600")], adults=1,
                         min_remaining_per_unit_per_day=D("10"))
    # 600 left; the floor needs 10 x 30 x 1 = 300: at most 300 a month
    assert fig.max_instalment == D("300.00")
    after = (fig.remaining - fig.max_instalment) / fig.consumption_units / budget.DAYS_PER_MONTH
    assert after >= D("10")


def test_max_instalment_is_rounded_down_to_the_cent():
    fig = budget.compute([D("1000")], [D("500")], adults=1, children_ages=[2],
                         min_remaining_per_unit_per_day=D("7.77"))
    # 500 - 7.77 x 30 x 1.3 = 196.97
    assert fig.max_instalment == D("196.97")


def test_max_instalment_is_never_negative():
    fig = budget.compute([D("500")], [D("600")], adults=1)
    assert fig.remaining == D("-100.00") and fig.max_instalment == D("0.00")


def test_the_floor_comes_from_the_tenant_setting_with_a_default():
    assert budget.min_remaining_setting({}) == budget.DEFAULT_MIN_REMAINING_PER_UNIT_PER_DAY
    assert budget.min_remaining_setting(None) == D("10.00")
    setting = {"budget": {"min_remaining_per_unit_per_day": "12.5"}}
    assert budget.min_remaining_setting(setting) == D("12.5")


def test_money_stays_decimal():
    fig = budget.compute([D("0.10"), D("0.20")], [], adults=1)
    assert fig.resources == D("0.30") and isinstance(fig.max_instalment, D)
