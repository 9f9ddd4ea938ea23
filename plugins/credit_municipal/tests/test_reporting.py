"""The lender's section of the yearly review: the figures the reports map to "loans"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.plugin_api import build_schedule, hooks

from .loan_helpers import disbursed_loan, granted_loan


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


def _section(session, tenant, in_tenant, year):
    with in_tenant(tenant):
        (section,) = [s for s in hooks().ccas_report_sections(tenant=tenant, year=year,
                                                              session=session)
                      if s.name == "credit_municipal"]
    return section


def _interest_due_in(amount, months, disbursed_on: date, year: int) -> Decimal:
    """The City's share for one loan: the interest of its instalments due in ``year``."""
    rows = build_schedule(Decimal(amount), months, Decimal("3.04"),
                          start_date=disbursed_on).installments
    return sum((r.interest for r in rows if r.due_date.year == year), Decimal("0.00"))


@pytest.mark.parametrize("today", [
    "2026-06-15T10:00",  # six instalments fall in the year
    "2026-12-15T10:00",  # the first instalment falls next year: no cost this year
    "2026-12-31T23:30",  # the last evening of the year, in Paris (22:30 UTC)
])
def test_the_report_section_gives_the_loan_figures_of_the_year(session, tenant, in_tenant,
                                                               users, clock, today):
    clock.travel_to(today)
    disbursed_on = clock.today()
    disbursed_loan(session, tenant, in_tenant, users, amount="3000", disbursed_days_ago=0)
    disbursed_loan(session, tenant, in_tenant, users, amount="1000", months=10,
                   disbursed_days_ago=0)
    granted_loan(session, tenant, in_tenant, users, amount="500", months=10)
    section = _section(session, tenant, in_tenant, 2026)
    loans = section.data["loans"]
    assert section.title == "Crédit Municipal"
    assert {"amount_lent", "average", "outstanding", "par30", "defaults", "guarantee_calls",
            "city_subsidy_cost"} <= set(loans)
    assert loans["granted"] == 3 and loans["disbursed"] == 2
    assert loans["amount_lent"] == "4000.00" and loans["average"] == "2000.00"
    assert loans["outstanding"] == "4000.00" and loans["par30"] == "0.00"
    assert loans["defaults"] == 0 and loans["guarantee_calls"] == "0.00"
    this_year = (_interest_due_in("3000", 36, disbursed_on, 2026)
                 + _interest_due_in("1000", 10, disbursed_on, 2026))
    assert loans["city_subsidy_cost"] == f"{this_year:.2f}"
    # The instalments of next year are the City's cost of next year (forecast part).
    next_year = (_interest_due_in("3000", 36, disbursed_on, 2027)
                 + _interest_due_in("1000", 10, disbursed_on, 2027))
    assert next_year > 0
    assert _section(session, tenant, in_tenant, 2027).data["loans"]["city_subsidy_cost"] == (
        f"{next_year:.2f}")


def test_the_first_interest_figures_of_a_june_loan(session, tenant, in_tenant, users, clock):
    """Hand-checked: 3,000 € at 3.04 % from 15 June 2026, first due 15 July: the interest
    of July is 3,000 × 3.04 % / 12 = 7.60 €."""
    clock.travel_to("2026-06-15T10:00")
    disbursed_loan(session, tenant, in_tenant, users, amount="3000", disbursed_days_ago=0)
    first = build_schedule(Decimal("3000"), 36, Decimal("3.04"),
                           start_date=date(2026, 6, 15)).installments[0]
    assert first.interest == Decimal("7.60") and first.due_date == date(2026, 7, 15)
    cost = _section(session, tenant, in_tenant, 2026).data["loans"]["city_subsidy_cost"]
    assert Decimal(cost) > Decimal("7.60") * 5  # six decreasing interests from 7.60 €


def test_a_year_without_loans_gives_zeros(session, tenant, in_tenant):
    with in_tenant(tenant):
        (section,) = [s for s in hooks().ccas_report_sections(tenant=tenant, year=2001,
                                                              session=session)
                      if s.name == "credit_municipal"]
    assert section.data["loans"]["amount_lent"] == "0.00"
    assert section.data["loans"]["par30"] is None


# -- the funders' view (issue 18, finding 8) -----------------------------------------------


def test_one_default_called_on_two_guarantors_leaks_no_amount_to_funders(
        session, tenant, in_tenant, users, clock):
    from core.reports import suppression

    from ..models import GuaranteeCall

    clock.travel_to("2026-06-15T10:00")
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="3000",
                          disbursed_days_ago=100)
    with in_tenant(tenant):
        for guarantor, amount in (("ville", "2370.15"), ("fonds", "129.85")):
            session.add(GuaranteeCall(loan_id=loan.id, guarantor=guarantor, label=guarantor,
                                      amount=Decimal(amount), basis=Decimal("2500"),
                                      called_on=date(2026, 6, 1)))
        session.commit()
    section = _section(session, tenant, in_tenant, 2026)
    loans = section.data["loans"]
    assert loans["guarantee_calls"] == "2500.00" and loans["guarantee_call_loans"] == 1
    assert loans["guarantee_call_loans_by_guarantor"] == {"fonds": 1, "ville": 1}
    shown = suppression.funder_view({"loans": dict(loans),
                                     "sections": {"credit_municipal": {"data": section.data}}})
    for view in (shown["loans"], shown["sections"]["credit_municipal"]["data"]["loans"]):
        assert view["guarantee_calls"] == suppression.HIDDEN
        assert set(view["guarantee_calls_by_guarantor"].values()) == {suppression.HIDDEN}
        # one loan disbursed, running, subsidised: every amount derived from it is hidden
        for key in ("amount_lent", "average", "outstanding", "par30", "city_subsidy_cost"):
            assert view[key] == suppression.HIDDEN, key
        text = repr(view)
        assert "2370.15" not in text and "129.85" not in text and "3000" not in text


def test_amounts_over_enough_loans_stay_visible_to_funders():
    from core.reports import suppression

    loans = {"disbursed": 7, "amount_lent": "21000.00", "average": "3000.00",
             "active_loans": 7, "outstanding": "18000.00", "par30": "0.00",
             "guarantee_call_loans": 6, "guarantee_calls": "900.00", "defaults": 1,
             "guarantee_calls_by_guarantor": {"ville": "800.00", "fonds": "100.00"},
             "guarantee_call_loans_by_guarantor": {"ville": 6, "fonds": 1},
             "subsidised_loans": 7, "city_subsidy_cost": "300.00",
             "derived_from": {"amount_lent": "disbursed", "average": "disbursed",
                              "outstanding": "active_loans", "par30": "active_loans",
                              "guarantee_calls": "guarantee_call_loans",
                              "guarantee_calls_by_guarantor":
                                  "guarantee_call_loans_by_guarantor",
                              "city_subsidy_cost": "subsidised_loans"}}
    view = suppression.funder_view({"loans": loans})["loans"]
    assert view["amount_lent"] == "21000.00" and view["outstanding"] == "18000.00"
    assert view["guarantee_calls"] == "900.00" and view["defaults"] == suppression.SMALL
    # one guarantor's cell under 5: hidden, and the other too (else total − other = it)
    assert view["guarantee_calls_by_guarantor"] == {"ville": suppression.HIDDEN,
                                                    "fonds": suppression.HIDDEN}
