"""The lender's section of the yearly review: the figures the reports map to "loans"."""

from __future__ import annotations

import pytest

from core.plugin_api import hooks
from plugins.credit_municipal import loans as service

from .loan_helpers import disbursed_loan, granted_loan


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


def test_the_report_section_gives_the_loan_figures_of_the_year(session, tenant, in_tenant,
                                                               users):
    disbursed_loan(session, tenant, in_tenant, users, amount="3000", disbursed_days_ago=0)
    disbursed_loan(session, tenant, in_tenant, users, amount="1000", months=10,
                   disbursed_days_ago=0)
    granted_loan(session, tenant, in_tenant, users, amount="500", months=10)
    with in_tenant(tenant):
        year = service.today().year
        (section,) = [s for s in hooks().ccas_report_sections(tenant=tenant, year=year,
                                                              session=session)
                      if s.name == "credit_municipal"]
        loans = section.data["loans"]
    assert section.title == "Crédit Municipal"
    assert {"amount_lent", "average", "outstanding", "par30", "defaults", "guarantee_calls",
            "city_subsidy_cost"} <= set(loans)
    assert loans["granted"] == 3 and loans["disbursed"] == 2
    assert loans["amount_lent"] == "4000.00" and loans["average"] == "2000.00"
    assert loans["outstanding"] == "4000.00" and loans["par30"] == "0.00"
    assert loans["defaults"] == 0 and loans["guarantee_calls"] == "0.00"
    assert loans["city_subsidy_cost"] != "0.00"


def test_a_year_without_loans_gives_zeros(session, tenant, in_tenant):
    with in_tenant(tenant):
        (section,) = [s for s in hooks().ccas_report_sections(tenant=tenant, year=2001,
                                                              session=session)
                      if s.name == "credit_municipal"]
    assert section.data["loans"]["amount_lent"] == "0.00"
    assert section.data["loans"]["par30"] is None
