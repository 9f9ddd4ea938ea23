"""Property tests: the fast integer-cent generator agrees with a plain Decimal
implementation of the rules, and every schedule satisfies the invariants."""

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.loans import (
    build_schedule,
    effective_annual_rate,
    subsidy_amount,
)

D = Decimal
CENT = D("0.01")

amounts = st.integers(1, 100_000_000).map(lambda cents: D(cents).scaleb(-2))
platform_amounts = st.integers(30_000, 300_000).map(lambda cents: D(cents).scaleb(-2))
rates = st.integers(0, 1_000_000).map(lambda basis: D(basis).scaleb(-4))  # 0-100 %, 4 decimals
platform_rates = st.integers(0, 2_000).map(lambda basis: D(basis).scaleb(-2))  # 0-20 %
shares = st.one_of(
    st.sampled_from([D(0), D(100)]), st.integers(0, 10_000).map(lambda basis: D(basis).scaleb(-2))
)
methods = st.sampled_from(["annuity", "linear"])
start_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


def reference_rows(amount, months, annual_rate, method, share):
    """The rules written plainly with Decimal at 60 digits, one period at a time.

    The interest is ``balance * annual_rate / 1200``: multiplying before dividing keeps exact
    half-cent ties exact (a Decimal monthly rate such as 3.04 / 1200 is a rounded value).
    """
    with localcontext() as context:
        context.prec = 60
        rate = annual_rate / 1200
        if method == "linear" or rate == 0:
            step = (amount / months).quantize(CENT, ROUND_HALF_UP)
        else:
            step = (amount * rate / (1 - (1 + rate) ** -months)).quantize(CENT, ROUND_HALF_UP)
        balance = amount
        rows = []
        for number in range(1, months + 1):
            interest = (balance * annual_rate / 1200).quantize(CENT, ROUND_HALF_UP)
            if number == months:
                principal = balance
            else:
                principal = min(step - interest if method == "annuity" else step, balance)
            balance -= principal
            subsidy = subsidy_amount(interest, share)
            payment = principal + interest
            rows.append((payment, principal, interest, balance, payment - subsidy, subsidy))
        return step, rows


def actual_rows(sched):
    return [
        (row.payment, row.principal, row.interest, row.balance, row.borrower_payment, row.subsidy)
        for row in sched.installments
    ]


def annuity_is_near_a_half_cent_tie(amount, months, annual_rate):
    """True when the exact annuity is within 1e-30 cent of a half cent, where a Decimal
    computation of ``(1 + r) ** -n`` may round either way (e.g. n = 1: A = P (1 + r))."""
    with localcontext() as context:
        context.prec = 80
        rate = annual_rate / 1200
        if rate == 0:
            return False
        cents = amount * rate / (1 - (1 + rate) ** -months) * 100
        return abs(cents % 1 - D("0.5")) < D("1e-30")


@settings(max_examples=300, deadline=None)
@given(amounts, st.integers(1, 600), rates, methods, shares)
def test_fast_generator_matches_the_plain_decimal_rules_to_the_cent(
    amount, months, annual_rate, method, share
):
    sched = build_schedule(
        amount,
        months,
        annual_rate,
        start_date=date(2025, 1, 31),
        method=method,
        subsidy_share=share,
    )
    assume(method == "linear" or not annuity_is_near_a_half_cent_tie(amount, months, annual_rate))
    step, rows = reference_rows(amount, months, annual_rate, method, share)
    if method == "annuity":
        assert sched.installment == step
    assert actual_rows(sched) == rows


@settings(max_examples=300, deadline=None)
@given(amounts, st.integers(1, 600), rates, methods, shares)
def test_principal_sums_to_the_amount_and_balances_never_go_negative(
    amount, months, annual_rate, method, share
):
    sched = build_schedule(
        amount,
        months,
        annual_rate,
        start_date=date(2025, 1, 1),
        method=method,
        subsidy_share=share,
    )
    rows = sched.installments
    assert len(rows) == months
    assert sum(row.principal for row in rows) == amount
    assert rows[-1].balance == 0
    assert all(row.balance >= 0 and row.principal >= 0 and row.interest >= 0 for row in rows)
    balances = [amount] + [row.balance for row in rows]
    assert all(later <= earlier for earlier, later in zip(balances, balances[1:], strict=False))
    for row in rows:
        assert row.payment == row.principal + row.interest
        assert 0 <= row.subsidy <= row.interest
        assert row.borrower_payment == row.payment - row.subsidy >= row.principal
        assert row.payment.as_tuple().exponent == -2
    assert sched.total_interest == sum(row.interest for row in rows)
    assert sched.total_subsidy == sum(row.subsidy for row in rows)


@settings(max_examples=150, deadline=None)
@given(amounts, st.integers(1, 120), rates, methods)
def test_without_fees_the_apr_is_the_nominal_equivalent_up_to_cent_rounding(
    amount, months, annual_rate, method
):
    # Each period's interest is the balance times r, rounded to the cent, so the schedule is
    # exactly a loan whose rate in period k is r_k = interest_k / opening balance_k. The APR
    # of such a loan lies between the annualised smallest and largest r_k; without the
    # rounding every r_k would equal r and the APR would be (1 + r) ** 12 - 1.
    sched = build_schedule(amount, months, annual_rate, start_date=date(2025, 1, 1), method=method)
    with localcontext() as context:
        context.prec = 60
        opening = [amount] + [row.balance for row in sched.installments]
        period_rates = [
            row.interest / balance
            for row, balance in zip(sched.installments, opening, strict=False)
            if balance > 0
        ]
        low, high = (
            (1 + rate) ** 12 * 100 - 100 for rate in (min(period_rates), max(period_rates))
        )
        assert low - D("1e-20") <= sched.apr <= high + D("1e-20")
        nominal = effective_annual_rate(annual_rate)
        rounding_tolerance = max(abs(low - nominal), abs(high - nominal)) + D("1e-20")
        assert abs(sched.apr - nominal) <= rounding_tolerance


@settings(max_examples=150, deadline=None)
@given(platform_amounts, st.integers(1, 36), platform_rates, methods)
def test_platform_loans_have_an_apr_within_five_hundredths_of_the_nominal_equivalent(
    amount, months, annual_rate, method
):
    # Rounding each of the n interests moves it by at most half a cent, so the present value
    # of the payments at the nominal rate is off by at most n * 0.005 EUR, while its slope
    # in the monthly rate is about P * (n + 1) / 2: the monthly rate moves by at most about
    # 0.01 / P = 3.3e-5 for P = 300 EUR, i.e. 12 * 1.2 * 3.3e-5 = 0.05 point a year at
    # 20 %. (Seen in practice: 0.031 for 300.33 EUR over 2 months at 18.36 %.)
    sched = build_schedule(amount, months, annual_rate, start_date=date(2025, 1, 1), method=method)
    assert abs(sched.apr - effective_annual_rate(annual_rate)) <= D("0.05")


@settings(max_examples=100, deadline=None)
@given(amounts, st.integers(1, 120), rates, methods)
def test_a_fully_subsidised_loan_without_fees_has_an_apr_of_exactly_zero(
    amount, months, annual_rate, method
):
    sched = build_schedule(
        amount,
        months,
        annual_rate,
        start_date=date(2025, 1, 1),
        method=method,
        subsidy_share=D(100),
    )
    assert sched.apr == 0
    assert sched.total_cost == 0


@settings(max_examples=100, deadline=None)
@given(platform_amounts, st.integers(1, 36), platform_rates, shares, st.integers(1, 20_000))
def test_fees_always_raise_the_apr(amount, months, annual_rate, share, fee_cents):
    fees = min(D(fee_cents).scaleb(-2), amount - CENT)
    common = {"start_date": date(2025, 1, 1), "subsidy_share": share}
    without = build_schedule(amount, months, annual_rate, **common)
    with_fees = build_schedule(amount, months, annual_rate, fees=fees, **common)
    assert with_fees.apr > without.apr


@settings(max_examples=200, deadline=None)
@given(start_dates, st.integers(1, 120))
def test_due_dates_are_monthly_on_the_start_day_clamped_to_month_end(start, months):
    sched = build_schedule(D(1000), months, D("3.04"), start_date=start)
    for k, row in enumerate(sched.installments, 1):
        years, month_index = divmod(start.month - 1 + k, 12)
        year, month = start.year + years, month_index + 1
        assert (row.due_date.year, row.due_date.month) == (year, month)
        assert row.due_date.day == min(start.day, calendar.monthrange(year, month)[1])
