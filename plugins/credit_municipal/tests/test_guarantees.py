"""Guarantee layers: the Fonds de cohésion sociale's share of the outstanding, the City's
cover of the rest within its cap, and declaring a default."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import CaseTransition
from core.plugin_api import State, UserError
from plugins.credit_municipal import guarantees as g
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import GuaranteeCall, Loan, LoanStatus

from .loan_helpers import disbursed_loan

D = Decimal
LAYERS = g.layers_from_settings({"fcs_guarantee": D("50"), "city_guarantee": D("15")})


def calls_of(result):
    return {c.guarantor: c.amount for c in result}


def test_the_fund_pays_half_the_outstanding_and_the_city_the_rest_within_its_cap():
    result = g.compute_calls(D("1000.00"), LAYERS, amount_lent=D("100000"))
    assert calls_of(result) == {"fcs": D("500.00"), "city": D("500.00"), "lender": D("0.00")}


def test_the_city_pays_no_more_than_what_is_left_under_its_cap():
    # cap = 15 % of 10,000 = 1,500; 1,200 already called
    result = g.compute_calls(D("1000.00"), LAYERS, amount_lent=D("10000"),
                             already_called={"city": D("1200.00")})
    assert calls_of(result) == {"fcs": D("500.00"), "city": D("300.00"), "lender": D("200.00")}


def test_an_exhausted_cap_leaves_the_rest_to_the_lender():
    result = g.compute_calls(D("801.01"), LAYERS, amount_lent=D("10000"),
                             already_called={"city": D("1500.00")})
    assert calls_of(result) == {"fcs": D("400.51"), "city": D("0.00"), "lender": D("400.50")}


def test_cap_usage_shows_the_calls_against_the_cap():
    (usage,) = g.cap_usage(LAYERS, D("20000"), {"city": D("1000.00")})
    assert usage.cap == D("3000.00") and usage.called == D("1000.00")
    assert usage.remaining == D("2000.00")


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


def test_declaring_a_default_records_each_call_and_closes_the_case(session, tenant,
                                                                   in_tenant, users,
                                                                   monkeypatch):
    from core.features import accompaniment

    # the final accompaniment summary (another feature's check) is recorded
    monkeypatch.setattr(accompaniment, "has_final_summary", lambda session, case: True)
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="3000", months=36,
                          disbursed_days_ago=200)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        g.declare_default(session, loan, users["manager"], service.today())
        session.commit()
        calls = {c.guarantor: c.amount for c in session.scalars(select(GuaranteeCall))}
        assert loan.status == LoanStatus.defaulted and loan.default_outstanding == D("3000.00")
        # cap: 15 % of the 3,000 lent = 450; the fund pays 1,500 of the 3,000
        assert calls == {"fcs": D("1500.00"), "city": D("450.00")}
        assert loan.case.state == State.closed
        close = session.scalar(select(CaseTransition).where(
            CaseTransition.case_id == loan.case_id, CaseTransition.to_state == "closed"))
        assert close.reason_code == "default"


def test_only_a_loan_being_repaid_can_default(session, tenant, in_tenant, users):
    from .loan_helpers import granted_loan

    loan = granted_loan(session, tenant, in_tenant, users)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        with pytest.raises(UserError):
            g.declare_default(session, loan, users["manager"], service.today())
