"""The City's interest subsidy cost per year, past and forecast, from live schedules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from plugins.credit_municipal import guarantees, subsidy
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import Installment, Loan

from .loan_helpers import disbursed_loan

D = Decimal


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


def test_past_and_forecast_add_up_to_the_interest_of_the_live_schedule(session, tenant,
                                                                       in_tenant, users):
    loan = disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=400)
    with in_tenant(tenant):
        today = service.today()
        rows = session.scalars(select(Installment).where(Installment.loan_id == loan.id)).all()
        years = subsidy.cost_by_year(session, today)
        assert sum(y.total for y in years) == sum(r.interest for r in rows) == D("142.70")
        assert sum(y.past for y in years) == sum(r.subsidy for r in rows
                                                 if r.due_date <= today)
        assert sum(y.forecast for y in years) == sum(r.subsidy for r in rows
                                                     if r.due_date > today)
        for y in years:
            assert y.total == sum(r.subsidy for r in rows if r.due_date.year == y.year)


def test_a_borrower_paying_the_interest_costs_the_city_nothing(session, tenant, in_tenant,
                                                              users, enable_plugin):
    enable_plugin(tenant, "credit_municipal", interest_paid_by_city="0")
    disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=100)
    with in_tenant(tenant):
        assert subsidy.cost_by_year(session, service.today()) == []


def test_a_defaulted_loan_has_no_forecast(session, tenant, in_tenant, users):
    loan = disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=100)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        guarantees.declare_default(session, loan, users["manager"], service.today())
        session.commit()
        years = subsidy.cost_by_year(session, service.today())
        assert sum(y.forecast for y in years) == 0 and sum(y.past for y in years) > 0
