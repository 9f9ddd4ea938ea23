"""Rescheduling (payment holiday, new duration): golden cases hand-checked to the cent, and
properties: the new rows repay exactly the outstanding principal."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.loans import LoanInputError, build_schedule, round_apr
from core.loans.reschedule import reschedule

D = Decimal


def toulouse_loan(share="100"):
    return build_schedule(D("3000"), 36, D("3.04"), start_date=date(2026, 1, 5),
                          subsidy_share=D(share))


def test_two_missed_instalments_and_a_three_month_holiday_golden():
    """3,000 € / 36 months / 3.04 %, instalment 87.30 €, first due 05/02/2026.

    Hand computation (monthly rate 3.04 / 1200; interest = balance x rate, half-up):
    - Feb: 3000.00 x 0.0025333.. = 7.60, principal 87.30 - 7.60 = 79.70, balance 2920.30
    - Mar: 2920.30 -> 7.398.. = 7.40, principal 79.90, balance 2840.40
    - Apr: 2840.40 -> 7.1957 = 7.20, principal 80.10, balance 2760.30
    - May: 2760.30 -> 6.9928 = 6.99, principal 80.31, balance 2679.99
    The borrower misses June and July, rescheduled in July with a 3-month holiday:
    outstanding 2679.99; interest of each interest-only month 2679.99 x 3.04 / 1200 =
    6.7893 -> 6.79 (June, July overdue; Aug, Sep, Oct holiday), all paid by the City
    (100 %), so the borrower owes 0.00 for those five months. Then 2679.99 over the 32
    remaining instalments from 05/11/2026: annuity 2679.99 x r / (1 - (1 + r)^-32)
    = 6.7893 / (1 - 0.922227) = 87.2962.. -> 87.30, first interest 6.79, principal
    80.51; last instalment on 05/06/2029. APR of the borrower's flows: 0 % (the City
    pays every cent of interest).
    """
    original = toulouse_loan()
    paid = original.installments[:4]
    assert [r.interest for r in paid] == [D("7.60"), D("7.40"), D("7.20"), D("6.99")]
    outstanding = paid[-1].balance
    assert outstanding == D("2679.99")
    new = reschedule(outstanding, D("3.04"), next_due_date=date(2026, 8, 5), months=32,
                     holiday_months=3, overdue_due_dates=[date(2026, 6, 5), date(2026, 7, 5)],
                     subsidy_share=D("100"), first_number=5)
    interest_only = new.rows[:5]
    assert [r.due_date for r in interest_only] == [
        date(2026, 6, 5), date(2026, 7, 5), date(2026, 8, 5), date(2026, 9, 5),
        date(2026, 10, 5)]
    assert {(r.payment, r.principal, r.interest, r.subsidy, r.borrower_payment, r.balance)
            for r in interest_only} == {
        (D("6.79"), D("0.00"), D("6.79"), D("6.79"), D("0.00"), D("2679.99"))}
    first = new.rows[5]
    assert (first.number, first.due_date, first.payment, first.interest, first.principal) == (
        10, date(2026, 11, 5), D("87.30"), D("6.79"), D("80.51"))
    assert new.installment == D("87.30")
    assert new.last_due_date == date(2029, 6, 5)
    assert len(new.rows) == 37
    assert sum(r.principal for r in new.rows) == outstanding
    assert new.apr == 0


def test_holiday_without_subsidy_shows_the_apr_golden():
    """Same loan, the borrower pays all the interest (subsidy 0 %), a 1-month holiday
    then 24 months, no overdue month.

    Holiday interest 2679.99 x 3.04 / 1200 = 6.79 paid by the borrower; amortisation
    2679.99 x r / (1 - (1 + r)^-24), r = 0.0025333.., 2679.99 x r = 6.7893,
    (1 + r)^-24 = 0.941084, 6.7893 / 0.058916 = 115.2366.. -> 115.24. The APR of 6.79
    then 24 x ~115.24 on 2679.99 is the effective rate of 3.04 % compounded monthly,
    3.08 %, as on the original offer.
    """
    new = reschedule(D("2679.99"), D("3.04"), next_due_date=date(2026, 6, 5), months=24,
                     holiday_months=1, subsidy_share=D("0"))
    assert new.rows[0].borrower_payment == D("6.79")
    assert new.installment == D("115.24")
    assert sum(r.principal for r in new.rows) == D("2679.99")
    assert round_apr(new.apr) == D("3.08")


def test_a_new_duration_without_holiday_lowers_the_instalment_golden():
    """1,000.00 € over 12 months at 3.04 % without subsidy: 1000 x r = 2.5333,
    (1 + r)^-12 = 0.970095, 2.5333 / 0.029905 = 84.7119.. -> 84.71; first interest
    2.53, principal 84.71 - 2.53 = 82.18."""
    new = reschedule(D("1000.00"), D("3.04"), next_due_date=date(2027, 1, 31), months=12)
    assert (new.rows[0].payment, new.rows[0].interest, new.rows[0].principal) == (
        D("84.71"), D("2.53"), D("82.18"))
    assert new.rows[1].due_date == date(2027, 2, 28)  # clamped, day 31 kept
    assert new.rows[2].due_date == date(2027, 3, 31)


@pytest.mark.parametrize("holiday", [-1, 4])
def test_a_holiday_lasts_one_to_three_months(holiday):
    with pytest.raises(LoanInputError) as caught:
        reschedule(D("100"), D("3.04"), next_due_date=date(2027, 1, 5), months=6,
                   holiday_months=holiday)
    assert caught.value.field == "holiday_months"


def test_overdue_dates_must_precede_the_next_due_date():
    with pytest.raises(LoanInputError):
        reschedule(D("100"), D("3.04"), next_due_date=date(2027, 1, 5), months=6,
                   overdue_due_dates=[date(2027, 1, 5)])


@settings(max_examples=150, deadline=None)
@given(
    cents=st.integers(1, 300_000),
    rate=st.integers(0, 2000).map(lambda b: D(b).scaleb(-2)),
    months=st.integers(1, 120),
    holiday=st.integers(0, 3),
    overdue=st.integers(0, 4),
    method=st.sampled_from(["annuity", "linear"]),
    share=st.integers(0, 100).map(D),
)
def test_a_rescheduled_schedule_repays_exactly_the_outstanding_principal(
        cents, rate, months, holiday, overdue, method, share):
    outstanding = D(cents).scaleb(-2)
    next_due = date(2027, 5, 31)
    overdue_dates = [date(2027, 5 - k, 1) for k in range(overdue, 0, -1)]
    new = reschedule(outstanding, rate, next_due_date=next_due, months=months,
                     holiday_months=holiday, overdue_due_dates=overdue_dates, method=method,
                     subsidy_share=share, first_number=7)
    assert sum(r.principal for r in new.rows) == outstanding
    assert len(new.rows) == overdue + holiday + months
    assert [r.number for r in new.rows] == list(range(7, 7 + len(new.rows)))
    assert new.rows[-1].balance == 0
    for row in new.rows:
        assert row.payment == row.principal + row.interest
        assert row.borrower_payment == row.payment - row.subsidy
        assert D(0) <= row.subsidy <= row.interest
    dates = [r.due_date for r in new.rows]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
