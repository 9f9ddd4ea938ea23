"""Repayment schedules: hand-computed figures, rounding rules, dates, subsidy, validation,
early repayment and serialisation."""

import csv
import dataclasses
import io
import json
from datetime import date
from decimal import ROUND_DOWN, Decimal, localcontext

import pytest

from core.loans import (
    LoanInputError,
    add_months,
    annuity_installment,
    build_schedule,
    due_dates,
    effective_annual_rate,
    remaining_schedule,
    schedule_to_csv_rows,
    schedule_to_dict,
    schedule_to_table,
    validate_loan_inputs,
)

D = Decimal
START = date(2025, 1, 15)


def schedule(amount, months, rate, **options):
    options.setdefault("start_date", START)
    return build_schedule(D(amount), months, D(rate), **options)


def column(sched, name):
    return [str(getattr(row, name)) for row in sched.installments]


# --------------------------------------------------------------------------- known figures


def test_annuity_of_3000_over_36_months_at_3_04_percent_is_87_30():
    sched = schedule("3000", 36, "3.04")
    assert sched.installment == D("87.30")
    assert annuity_installment(D(3000), 36, D("3.04")) == D("87.30")
    assert all(row.payment == D("87.30") for row in sched.installments[:-1])


@pytest.mark.parametrize("method", ["annuity", "linear"])
@pytest.mark.parametrize("months", [1, 2, 7, 12, 24, 36, 120])
@pytest.mark.parametrize("amount", ["300", "333.33", "1234.56", "2999.99", "3000", "0.01"])
def test_principal_repaid_sums_exactly_to_the_amount(amount, months, method):
    sched = schedule(amount, months, "3.04", method=method)
    assert sum(row.principal for row in sched.installments) == D(amount)
    assert sched.installments[-1].balance == 0
    assert len(sched.installments) == months


def test_annuity_1000_over_3_months_at_12_percent_matches_hand_computation():
    # r = 12 % / 12 = 0.01 per month.
    # A = 1000 * 0.01 / (1 - 1.01 ** -3) = 10 / 0.0294098... = 340.0221... -> 340.02
    # 1: interest 1000.00 * 0.01 = 10.00, principal 340.02 - 10.00 = 330.02, balance 669.98
    # 2: interest 669.98 * 0.01 = 6.6998 -> 6.70, principal 333.32, balance 336.66
    # 3: interest 336.66 * 0.01 = 3.3666 -> 3.37, principal = balance 336.66,
    #    payment 336.66 + 3.37 = 340.03 (the last instalment absorbs the remainder)
    sched = schedule("1000", 3, "12")
    assert sched.installment == D("340.02")
    assert column(sched, "payment") == ["340.02", "340.02", "340.03"]
    assert column(sched, "interest") == ["10.00", "6.70", "3.37"]
    assert column(sched, "principal") == ["330.02", "333.32", "336.66"]
    assert column(sched, "balance") == ["669.98", "336.66", "0.00"]
    assert sched.total_interest == D("20.07")


def test_linear_1000_over_3_months_at_12_percent_matches_hand_computation():
    # principal 1000 / 3 = 333.333... -> 333.33, the last one absorbs: 1000 - 666.66 = 333.34
    # 1: interest 1000.00 * 0.01 = 10.00, payment 343.33, balance 666.67
    # 2: interest 666.67 * 0.01 = 6.6667 -> 6.67, payment 340.00, balance 333.34
    # 3: interest 333.34 * 0.01 = 3.3334 -> 3.33, payment 336.67, balance 0
    sched = schedule("1000", 3, "12", method="linear")
    assert column(sched, "principal") == ["333.33", "333.33", "333.34"]
    assert column(sched, "interest") == ["10.00", "6.67", "3.33"]
    assert column(sched, "payment") == ["343.33", "340.00", "336.67"]
    assert column(sched, "balance") == ["666.67", "333.34", "0.00"]
    assert sched.installment == D("343.33")  # a linear schedule reports its first payment


def test_linear_principal_is_constant_and_payments_decrease():
    sched = schedule("3000", 36, "3.04", method="linear")
    principals = [row.principal for row in sched.installments]
    assert set(principals[:-1]) == {D("83.33")}
    assert principals[-1] == D("3000") - 35 * D("83.33")
    payments = [row.payment for row in sched.installments]
    assert payments == sorted(payments, reverse=True)


def test_interest_on_an_exact_half_cent_is_rounded_up():
    # 250.50 * 0.01 = 2.505 -> 2.51 (half-even would give 2.50)
    sched = schedule("250.50", 1, "12")
    assert column(sched, "interest") == ["2.51"]
    assert column(sched, "payment") == ["253.01"]


def test_half_cent_tie_is_rounded_up_even_when_the_monthly_rate_is_not_a_finite_decimal():
    # 337.50 * 3.04 % / 12 = 337.50 * 304 / 120000 = 0.855 exactly -> 0.86. A Decimal monthly
    # rate 3.04 / 1200 = 0.0025333... is truncated, which would give 0.8549999... -> 0.85.
    sched = schedule("337.50", 1, "3.04")
    assert column(sched, "interest") == ["0.86"]


def test_zero_rate_annuity_splits_the_amount_evenly_and_the_last_absorbs_the_rest():
    sched = schedule("1000", 3, "0")
    assert sched.installment == D("333.33")
    assert column(sched, "payment") == ["333.33", "333.33", "333.34"]
    assert column(sched, "interest") == ["0.00", "0.00", "0.00"]
    assert sched.total_interest == 0
    assert sched.apr == 0


def test_zero_rate_linear_equals_zero_rate_annuity():
    annuity = schedule("2500", 7, "0")
    linear = schedule("2500", 7, "0", method="linear")
    assert annuity.installments == linear.installments


def test_tiny_amount_over_many_months_never_repays_more_than_was_lent():
    # 1.00 over 40 months at 0 %: 100 / 40 = 2.5 -> 3 cents, which would repay 1.17 in 39
    # months; each principal is capped at the balance still owed.
    for method in ("annuity", "linear"):
        sched = schedule("1.00", 40, "0", method=method)
        balances = [row.balance for row in sched.installments]
        assert min(balances) == 0 and balances[-1] == 0
        assert sum(row.principal for row in sched.installments) == D("1.00")
        assert column(sched, "principal")[:34] == ["0.03"] * 33 + ["0.01"]


# --------------------------------------------------------------------------- subsidy, APR, cost


def test_full_subsidy_means_the_borrower_repays_principal_only_and_apr_is_zero():
    sched = schedule("3000", 36, "3.04", subsidy_share=D(100))
    for row in sched.installments:
        assert row.subsidy == row.interest
        assert row.borrower_payment == row.principal
    assert sched.total_subsidy == sched.total_interest == D("142.70")
    assert sched.total_cost == 0
    assert sched.apr == 0
    assert str(sched.apr) == "0"


def test_no_subsidy_apr_equals_the_nominal_equivalent_within_a_hundredth():
    sched = schedule("3000", 36, "3.04")
    assert sched.total_subsidy == 0
    assert all(row.borrower_payment == row.payment for row in sched.installments)
    assert abs(sched.apr - effective_annual_rate(D("3.04"))) < D("0.01")


def test_partial_subsidy_rounds_each_instalment_half_up():
    # interests 10.00, 6.70, 3.37 (see the hand computation above); half of 3.37 = 1.685 -> 1.69
    sched = schedule("1000", 3, "12", subsidy_share=D(50))
    assert column(sched, "subsidy") == ["5.00", "3.35", "1.69"]
    assert column(sched, "borrower_payment") == ["335.02", "336.67", "338.34"]
    assert sched.total_subsidy == D("10.04")


def test_fees_raise_the_apr_and_the_total_cost():
    plain = schedule("3000", 36, "3.04")
    with_fees = schedule("3000", 36, "3.04", fees=D("30"))
    assert with_fees.apr > plain.apr
    assert with_fees.total_cost == plain.total_cost + 30
    subsidised = schedule("3000", 36, "3.04", subsidy_share=D(100), fees=D("30"))
    assert subsidised.apr > 0


def test_total_cost_is_borrower_payments_plus_fees_minus_amount():
    sched = schedule("1000", 3, "12", subsidy_share=D(50), fees=D("10"))
    repaid = sum(row.borrower_payment for row in sched.installments)
    assert sched.total_borrower_payments == repaid == D("1010.03")
    assert sched.total_cost == repaid + D("10") - D("1000") == D("20.03")


# --------------------------------------------------------------------------- due dates


def test_first_due_date_is_one_month_after_the_start_by_default():
    assert schedule("1000", 3, "3.04").installments[0].due_date == date(2025, 2, 15)


def test_due_dates_clamp_to_month_end_and_come_back_to_the_start_day():
    sched = schedule("1000", 5, "3.04", start_date=date(2024, 1, 31))
    assert [row.due_date for row in sched.installments] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
    ]
    sched = schedule("1000", 2, "3.04", start_date=date(2025, 1, 31))
    assert sched.installments[0].due_date == date(2025, 2, 28)


def test_explicit_first_due_date_sets_the_day_of_the_following_ones():
    sched = schedule("1000", 3, "3.04", first_due_date=date(2025, 3, 5))
    assert [row.due_date for row in sched.installments] == [
        date(2025, 3, 5),
        date(2025, 4, 5),
        date(2025, 5, 5),
    ]
    sched = schedule("1000", 3, "3.04", first_due_date=date(2025, 2, 28), due_day=31)
    assert [row.due_date for row in sched.installments][1:] == [
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]


def test_add_months_clamps_handles_leap_years_and_goes_backwards():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2100, 1, 31), 1) == date(2100, 2, 28)
    assert add_months(date(2000, 1, 31), 1) == date(2000, 2, 29)
    assert add_months(date(2024, 12, 15), 1) == date(2025, 1, 15)
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 10), -13) == date(2023, 12, 10)
    assert add_months(date(2025, 2, 28), 1, day_of_month=31) == date(2025, 3, 31)
    assert due_dates(date(2025, 1, 31), 3) == (
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
    )


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": D(0)}, "amount"),
        ({"amount": D("-5")}, "amount"),
        ({"amount": D("1000000.01")}, "amount"),
        ({"amount": D("100.005")}, "amount"),
        ({"amount": 100.5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"amount": D("NaN")}, "amount"),
        ({"months": 0}, "months"),
        ({"months": 601}, "months"),
        ({"months": 12.0}, "months"),
        ({"months": True}, "months"),
        ({"annual_rate": D("-0.01")}, "annual_rate"),
        ({"annual_rate": D("100.01")}, "annual_rate"),
        ({"annual_rate": D("3.0400001")}, "annual_rate"),
        ({"annual_rate": 3.04}, "annual_rate"),
        ({"method": "balloon"}, "method"),
        ({"subsidy_share": D("-1")}, "subsidy_share"),
        ({"subsidy_share": D("100.5")}, "subsidy_share"),
        ({"subsidy_share": 50.0}, "subsidy_share"),
        ({"fees": 0.0}, "fees"),
        ({"fees": D("-1")}, "fees"),
        ({"fees": D("1000")}, "fees"),
        ({"fees": D("0.001")}, "fees"),
    ],
)
def test_invalid_input_raises_loan_input_error_naming_the_field(changes, field):
    terms = {"amount": D(1000), "months": 12, "annual_rate": D("3.04"), "method": "annuity"}
    terms.update(changes)
    with pytest.raises(LoanInputError) as error:
        validate_loan_inputs(**terms)
    assert error.value.field == field
    assert field in str(error.value)
    with pytest.raises(ValueError):
        build_schedule(**terms, start_date=START)


def test_boundaries_are_accepted():
    validate_loan_inputs(D("0.01"), 1, D(0))
    validate_loan_inputs(D(1_000_000), 600, D(100), subsidy_share=D(100), fees=D("999999.99"))
    validate_loan_inputs(1000, 12, 3, method="linear", subsidy_share=50)
    validate_loan_inputs(D("100.000"), 12, D("3.040000"))  # trailing zeros are not digits


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"start_date": "2025-01-15"}, "start_date"),
        ({"first_due_date": date(2025, 1, 15)}, "first_due_date"),
        ({"first_due_date": date(2025, 2, 10), "due_day": 11}, "due_day"),
        ({"due_day": 32}, "due_day"),
    ],
)
def test_invalid_dates_raise_loan_input_error(options, field):
    options.setdefault("start_date", START)
    with pytest.raises(LoanInputError) as error:
        build_schedule(D(1000), 12, D("3.04"), **options)
    assert error.value.field == field


def test_results_do_not_depend_on_the_callers_decimal_context():
    def build():
        sched = schedule("987654.32", 36, "3.04", subsidy_share=D("33.33"), fees=D("100.01"))
        return schedule_to_dict(sched), schedule_to_table(sched)

    expected = build()
    with localcontext() as context:
        context.prec = 3
        context.rounding = ROUND_DOWN
        assert build() == expected


def test_schedules_and_installments_are_immutable():
    sched = schedule("1000", 3, "12")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sched.amount = D(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sched.installments[0].payment = D(1)


# --------------------------------------------------------------------------- early repayment


def test_remaining_schedule_is_a_schedule_of_the_outstanding_principal():
    original = schedule("3000", 36, "3.04", start_date=date(2025, 1, 31))
    after_12 = original.installments[11]
    prepayment = D("500")
    rest = remaining_schedule(
        after_12.balance - prepayment,
        24,
        D("3.04"),
        original.installments[12].due_date,
        due_day=original.due_day,
    )
    assert rest == schedule(
        after_12.balance - prepayment,
        24,
        "3.04",
        start_date=date(2026, 1, 31),
        first_due_date=date(2026, 2, 28),
        due_day=31,
    )
    assert rest.installments[1].due_date == date(2026, 3, 31)
    assert rest.installment < original.installment
    assert sum(row.principal for row in rest.installments) == after_12.balance - prepayment
    assert rest.fees == 0


def test_remaining_schedule_of_an_unchanged_balance_keeps_the_instalment_within_a_cent():
    original = schedule("3000", 36, "3.04")
    rest = remaining_schedule(
        original.installments[11].balance, 24, D("3.04"), original.installments[12].due_date
    )
    assert abs(rest.installment - original.installment) <= D("0.01")


# --------------------------------------------------------------------------- serialisation


def test_schedule_to_dict_has_the_documented_json_ready_shape():
    data = schedule_to_dict(schedule("3000", 36, "3.04"))
    assert list(data) == [
        "amount",
        "months",
        "annual_rate",
        "method",
        "installment",
        "total_interest",
        "total_cost",
        "total_subsidy",
        "apr",
        "installments",
    ]
    assert data["amount"] == "3000.00"
    assert data["months"] == 36
    assert data["annual_rate"] == "3.04"
    assert data["method"] == "annuity"
    assert data["installment"] == "87.30"
    assert data["total_interest"] == "142.70"
    assert data["total_cost"] == "142.70"
    assert data["total_subsidy"] == "0.00"
    assert data["apr"] == "3.08"
    first = data["installments"][0]
    assert first == {
        "number": 1,
        "due_date": "2025-02-15",
        "payment": "87.30",
        "principal": "79.70",
        "interest": "7.60",
        "balance": "2920.30",
        "borrower_payment": "87.30",
        "subsidy": "0.00",
    }
    assert len(data["installments"]) == 36
    assert json.loads(json.dumps(data)) == data


def test_schedule_to_dict_normalises_rate_and_apr_to_two_decimals():
    data = schedule_to_dict(schedule("1000", 12, "3", subsidy_share=D(100)))
    assert data["annual_rate"] == "3.00"
    assert data["apr"] == "0.00"
    assert data["total_cost"] == "0.00"


def test_schedule_to_csv_rows_has_a_header_and_one_row_per_instalment():
    rows = schedule_to_csv_rows(schedule("1000", 3, "12"))
    assert rows[0] == [
        "number",
        "due_date",
        "payment",
        "principal",
        "interest",
        "balance",
        "borrower_payment",
        "subsidy",
    ]
    assert rows[3] == ["3", "2025-04-15", "340.03", "336.66", "3.37", "0.00", "340.03", "0.00"]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    assert len(buffer.getvalue().splitlines()) == 4


def test_schedule_to_table_is_plain_text_with_one_line_per_instalment_and_totals():
    table = schedule_to_table(schedule("1000", 3, "12"))
    lines = table.splitlines()
    assert len(lines) == 1 + 2 + 3 + 2  # summary, header and rule, rows, rule and totals
    assert "APR 12.68%" in lines[0]
    assert lines[3].split() == [
        "1",
        "2025-02-15",
        "340.02",
        "330.02",
        "10.00",
        "669.98",
        "340.02",
        "0.00",
    ]
    assert lines[-1].split() == ["Total", "1020.07", "1000.00", "20.07", "1020.07", "0.00"]
