"""APR (TAEG): actuarial definition, exact zero, fees, rounding, cross-checks with
numpy-financial."""

from datetime import date
from decimal import Decimal, localcontext

import pytest

from core.loans import (
    annual_percentage_rate,
    build_schedule,
    effective_annual_rate,
    round_apr,
)

D = Decimal


def present_value(payments, apr):
    """sum(payment_k / (1 + apr) ** (k / 12)) at high precision, apr in percent."""
    with localcontext() as context:
        context.prec = 60
        monthly_factor = (1 + apr / 100) ** (D(1) / 12)
        return sum(payment / monthly_factor**k for k, payment in enumerate(payments, 1))


def test_apr_is_exactly_zero_when_the_borrower_repays_exactly_what_was_received():
    apr = annual_percentage_rate(D("1000"), [D("500"), D("500")])
    assert apr == 0
    assert str(apr) == "0"


def test_apr_of_one_percent_a_month_is_1_01_to_the_twelfth_minus_one():
    # 100 received, 101 paid one month later: (1.01 ** 12 - 1) = 12.682503013196972066...%
    apr = annual_percentage_rate(D("100"), [D("101")])
    assert abs(apr - D("12.6825030131969720661201")) < D("1e-20")


def test_apr_of_a_single_payment_after_twelve_months_is_the_simple_annual_rate():
    apr = annual_percentage_rate(D("100"), [D(0)] * 11 + [D("110")])
    assert abs(apr - 10) < D("1e-20")


def test_apr_can_be_negative_when_the_borrower_repays_less_than_received():
    apr = annual_percentage_rate(D("100"), [D(0)] * 11 + [D("99")])
    assert abs(apr - (-1)) < D("1e-20")


def test_apr_discounts_the_borrower_payments_to_the_net_amount():
    sched = build_schedule(D(3000), 36, D("3.04"), start_date=date(2025, 1, 1), fees=D(45))
    payments = [row.borrower_payment for row in sched.installments]
    assert abs(present_value(payments, sched.apr) - D(2955)) < D("1e-20")


def test_fees_raise_the_apr():
    aprs = [
        build_schedule(D(1500), 24, D("3.04"), start_date=date(2025, 1, 1), fees=D(fees)).apr
        for fees in ("0", "10", "50", "100")
    ]
    assert aprs == sorted(aprs)
    assert len(set(aprs)) == 4


def test_a_fully_subsidised_loan_with_fees_has_the_apr_of_the_fees_alone():
    # linear: the principal is 100.00 every month, and the City pays all the interest
    sched = build_schedule(
        D(1200),
        12,
        D("3.04"),
        start_date=date(2025, 1, 1),
        method="linear",
        subsidy_share=D(100),
        fees=D(12),
    )
    principal_only = annual_percentage_rate(D(1188), [D(100)] * 12)
    assert sched.apr == principal_only > 0


def test_round_apr_rounds_half_up_to_two_decimals():
    assert round_apr(D("3.085")) == D("3.09")
    assert round_apr(D("3.0849999")) == D("3.08")
    assert str(round_apr(D(0))) == "0.00"


def test_effective_annual_rate_compounds_the_monthly_rate():
    # (1 + 0.12 / 12) ** 12 - 1 = 12.6825030131969720661201 %
    assert abs(effective_annual_rate(D(12)) - D("12.6825030131969720661201")) < D("1e-20")
    assert effective_annual_rate(D(0)) == 0


@pytest.mark.parametrize(
    ("net", "payments"),
    [
        (D(0), [D(1)]),
        (D(-1), [D(1)]),
        (D(100), [D(-1), D(102)]),
        (D(100), [D(0), D(0)]),
    ],
)
def test_apr_rejects_cash_flows_without_a_meaningful_rate(net, payments):
    with pytest.raises(ValueError):
        annual_percentage_rate(net, payments)


# --------------------------------------------------------------------------- numpy-financial


LOANS = [
    (D(amount), months, D(rate))
    for amount in ("300", "1234.56", "3000")
    for months in (1, 6, 12, 24, 36)
    for rate in ("0.5", "3.04", "7.99", "19.99")
]


@pytest.mark.parametrize(("amount", "months", "rate"), LOANS)
def test_annuity_instalment_is_within_half_a_cent_of_numpy_financial_pmt(amount, months, rate):
    npf = pytest.importorskip("numpy_financial")
    sched = build_schedule(amount, months, rate, start_date=date(2025, 1, 1))
    expected = -npf.pmt(float(rate) / 1200, months, float(amount))
    assert abs(float(sched.installment) - expected) <= 0.005 + 1e-9


@pytest.mark.parametrize(("amount", "months", "rate"), LOANS)
def test_apr_agrees_with_numpy_financial_irr(amount, months, rate):
    npf = pytest.importorskip("numpy_financial")
    sched = build_schedule(amount, months, rate, start_date=date(2025, 1, 1), fees=D(20))
    flows = [float(amount - 20)] + [-float(row.borrower_payment) for row in sched.installments]
    monthly = npf.irr(flows)
    assert abs(float(sched.apr) - ((1 + monthly) ** 12 - 1) * 100) < 1e-6
