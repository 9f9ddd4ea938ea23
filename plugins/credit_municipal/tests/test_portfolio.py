"""The portfolio over time: outstanding, PAR30 and default rate at each month's end, as
accessible SVG charts with their table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from plugins.credit_municipal import guarantees, portfolio
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import Loan

from .loan_helpers import D, disbursed_loan

BASE = "/t/alpha/p/credit_municipal"


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin, monkeypatch):
    enable_plugin(tenant, "credit_municipal")
    from core.features import accompaniment

    monkeypatch.setattr(accompaniment, "has_final_summary", lambda session, case: True)


def test_month_ends_are_the_last_twelve():
    ends = portfolio.month_ends(date(2026, 6, 15))
    assert ends[0] == date(2025, 7, 31) and ends[-2] == date(2026, 5, 31)
    assert ends[-1] == date(2026, 6, 15) and len(ends) == 12


def test_outstanding_par30_and_default_rate_by_month(session, tenant, in_tenant, users, clock):
    clock.travel_to("2026-06-15T10:00")
    first = disbursed_loan(session, tenant, in_tenant, users, amount="3000", months=36,
                           disbursed_days_ago=120)
    disbursed_loan(session, tenant, in_tenant, users, amount="1000", months=10,
                   disbursed_days_ago=20, name=("Paul", "Durand"))
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, first.id))
        guarantees.declare_default(session, loan, users["lender_agent"],
                                   service.today() - timedelta(days=5))
        session.commit()
        months = {m.end: m for m in portfolio.by_month(session, service.today())}
    may = months[date(2026, 5, 31)]
    # end of May: 3,000 never repaid (first instalment mid-March, over 60 days late) and
    # 1,000 disbursed on 26 May: PAR30 3,000 / 4,000 = 75 %
    assert may.outstanding == D("4000.00") and may.par30 == D("75.00")
    june = months[date(2026, 6, 15)]
    assert june.outstanding == D("1000.00") and june.par30 == D("0.00")
    # 3,000 defaulted in June out of 4,000 outstanding at the end of May
    assert june.defaulted == D("3000.00") and june.default_rate == D("75.00")
    assert months[date(2026, 4, 30)].par30 == D("100.00")


def test_the_portfolio_page_has_three_charts_and_their_table(client, login, session, tenant,
                                                            in_tenant, users):
    disbursed_loan(session, tenant, in_tenant, users, amount="1200", months=12,
                   disbursed_days_ago=100)
    login(client, users["manager"])
    page = client.get(f"{BASE}/portfolio")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('role="img"') == 3 and "Encours en fin de mois" in html
    assert "<desc" in html and "Données des graphiques" in html and "PAR30" in html
