"""Arrears: days past due, PAR30 (pure and in SQL on a fixture portfolio), the social
worker's alert at the first missed instalment, the CLI command."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core import plugins
from core.models import OutboxMessage
from core.plugin_api import PluginInfo, hookimpl
from plugins.credit_municipal import arrears, repayments
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import Installment, Loan

from .loan_helpers import disbursed_loan

D = Decimal


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


def rows(*due_dates, payment="100.00"):
    return [SimpleNamespace(due_date=d, borrower_payment=D(payment)) for d in due_dates]


def test_days_past_due_count_from_the_oldest_unpaid_instalment():
    schedule = rows(date(2026, 1, 5), date(2026, 2, 5), date(2026, 3, 5))
    a = arrears.loan_arrears(schedule, D("150.00"), date(2026, 3, 10))
    assert a.oldest_unpaid_due == date(2026, 2, 5) and a.days_past_due == 33
    assert a.amount_late == D("150.00")


def test_an_instalment_due_today_is_not_late_yet():
    schedule = rows(date(2026, 1, 5))
    assert arrears.loan_arrears(schedule, D(0), date(2026, 1, 5)).days_past_due == 0
    assert arrears.loan_arrears(schedule, D(0), date(2026, 1, 6)).days_past_due == 1


def test_a_loan_paid_up_is_not_late():
    schedule = rows(date(2026, 1, 5), date(2026, 2, 5))
    assert arrears.loan_arrears(schedule, D("200.00"), date(2026, 6, 1)).days_past_due == 0


def test_par30_is_the_outstanding_of_loans_over_30_days_late_over_the_total():
    portfolio = [(D("1000"), 0), (D("500"), 31), (D("300"), 30), (D("200"), 90)]
    assert arrears.par(portfolio) == D("0.3500")
    assert arrears.par([]) is None


def _portfolio(session, tenant, in_tenant, users):
    """Three loans of 1,200 € over 12 months disbursed 100 days ago (three instalments
    due): one paid up, one 1 instalment behind (under 30 days late), one that never paid
    (more than 60 days late)."""
    made = []
    for name in ("Up", "Behind", "Never"):
        made.append(disbursed_loan(session, tenant, in_tenant, users, amount="1200",
                                   months=12, rate="3.04", disbursed_days_ago=100,
                                   name=("Test", name)))
    with in_tenant(tenant):
        loans = [session.get(Loan, (tenant.id, m.id)) for m in made]
        today = service.today()
        for loan, paid in zip(loans, (3, 2, 0), strict=True):
            due = session.scalars(select(Installment).where(Installment.loan_id == loan.id)
                                  .order_by(Installment.number)).all()
            for row in due[:paid]:
                repayments.record(session, loan, row.due_date, row.borrower_payment,
                                  users["lender_agent"])
        session.commit()
        return loans, today


def test_par30_on_a_fixture_portfolio_in_sql_matches_the_pure_rule(session, tenant,
                                                                  in_tenant, users):
    loans, today = _portfolio(session, tenant, in_tenant, users)
    with in_tenant(tenant):
        positions = arrears.positions(session, today)
        dpd = {p.loan.id: p.arrears.days_past_due for p in positions}
        assert dpd[loans[0].id] == 0
        assert 0 < dpd[loans[1].id] <= 31
        assert dpd[loans[2].id] > 60
        summary = arrears.portfolio_at_risk(session, today)
        expected = arrears.par((p.outstanding, p.arrears.days_past_due) for p in positions)
        assert summary["par"] == expected
        never = next(p for p in positions if p.loan.id == loans[2].id)
        assert summary["at_risk"] == never.outstanding == D("1200.00")
        assert summary["outstanding"] == sum(p.outstanding for p in positions)


def _recorder():
    events = []

    class Recorder:
        @hookimpl
        def ccas_plugin_info(self):
            return PluginInfo(name="recorder", label="Recorder", version="1")

        @hookimpl
        def ccas_loan_event(self, loan, event, data):
            events.append((loan.reference, event, data))

    return Recorder(), events


def test_the_social_worker_is_alerted_once_at_the_first_missed_instalment(
        app, session, tenant, in_tenant, users, enable_plugin):
    recorder, events = _recorder()
    plugins.registry().register(recorder, "recorder")
    try:
        enable_plugin(tenant, "recorder")
        loan = disbursed_loan(session, tenant, in_tenant, users, amount="1200", months=12,
                              disbursed_days_ago=40, social_worker=users["social_worker"])
        with in_tenant(tenant):
            today = service.today()
            first = arrears.check_arrears(session, today)
            session.commit()
            second = arrears.check_arrears(session, today + timedelta(days=1))
            session.commit()
            mails = session.scalars(select(OutboxMessage).where(
                OutboxMessage.topic.like("credit_municipal.late.%"))).all()
        assert [alerted for _, alerted in first] == [True]
        assert [alerted for _, alerted in second] == [False]
        late = [e for e in events if e[1] == "late"]
        assert len(late) == 1 and late[0][0] == loan.reference and late[0][2]["days_late"] > 0
        assert len(mails) == 1 and mails[0].recipient == users["social_worker"].email
        assert "impayée" in mails[0].subject
    finally:
        plugins.registry().unregister("recorder")


def test_catching_up_ends_the_episode_so_a_new_miss_alerts_again(session, tenant, in_tenant,
                                                                 users):
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="1200", months=12,
                          disbursed_days_ago=40, social_worker=users["social_worker"])
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        arrears.check_arrears(session, service.today())
        assert loan.late_since is not None
        row = session.scalar(select(Installment).where(Installment.loan_id == loan.id,
                                                       Installment.number == 1))
        repayments.record(session, loan, service.today(), row.borrower_payment,
                          users["lender_agent"])
        assert loan.late_since is None




def test_the_arrears_command_lists_late_loans_and_par30(ccas, session, tenant, in_tenant,
                                                       users):
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="1200", months=12,
                          disbursed_days_ago=100)
    result = ccas("credit-municipal", "arrears", "--tenant", "alpha")
    assert result.exit_code == 0, result.output
    assert loan.reference in result.output and "alerte envoyée" in result.output
    assert "PAR30 : 100,00 %" in result.output or "PAR30 : 100.00 %" in result.output


def test_the_arrears_command_refuses_a_tenant_without_the_plugin(ccas, make_tenant):
    make_tenant("gamma")
    result = ccas("credit-municipal", "arrears", "--tenant", "gamma")
    assert result.exit_code == 1 and "n'est pas activée" in result.output


def test_the_worker_runs_the_arrears_check_for_the_tenants_with_the_lender(
        app, session, tenant, in_tenant, users, make_tenant):
    from core.worker.runner import Worker

    make_tenant("gamma")  # without the lender: not visited
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="1200", months=12,
                          disbursed_days_ago=40, social_worker=users["social_worker"])
    reports = {r.job: r for r in Worker(app, only=[
        "credit_municipal.arrears", "credit_municipal.defaults"]).run_due()}
    report = reports["credit_municipal.arrears"]
    assert report.status == "ok" and report.tenants_ok == 1
    assert report.lines == ["alpha : 1 prêt en retard, 1 alerte envoyée"]
    # 40 days late: below the default threshold, nothing proposed
    defaults = reports["credit_municipal.defaults"]
    assert defaults.status == "ok" and defaults.tenants_ok == 1 and defaults.lines == []
    with in_tenant(tenant):
        session.expire_all()
        assert session.get(Loan, (tenant.id, loan.id)).late_since is not None
