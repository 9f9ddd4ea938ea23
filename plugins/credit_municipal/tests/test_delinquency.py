"""Delinquency: ageing buckets (pure and in SQL, on the dashboard, in the reports with the
funders' suppression), defaults proposed by rule, write-off with the guarantee layers and
recoveries returned pro rata (property: the splits sum to the loss)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.reports.suppression import funder_view
from plugins.credit_municipal import delinquency, guarantees, reporting
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import Loan, LoanStatus, RecoveryShare

from .loan_helpers import D, disbursed_loan

BASE = "/t/alpha/p/credit_municipal"
LAYERS = guarantees.layers_from_settings({"fcs_guarantee": D("50"), "city_guarantee": D("15")})


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal", default_after_days=60,
                  contact_email="pret@credit-municipal.example")


@pytest.fixture
def closable(monkeypatch):
    from core.features import accompaniment

    monkeypatch.setattr(accompaniment, "has_final_summary", lambda session, case: True)


def test_ageing_buckets_count_loans_and_outstanding_by_days_late():
    buckets = delinquency.ageing([(D("100"), 0), (D("200"), 1), (D("300"), 30), (D("400"), 31),
                                  (D("500"), 90), (D("600"), 91), (D("700"), 400)])
    assert [(b.code, b.count, b.outstanding) for b in buckets] == [
        ("1-30", 2, D("500")), ("31-60", 1, D("400")), ("61-90", 1, D("500")),
        ("90+", 2, D("1300"))]
    assert buckets[3].label == "Plus de 90 jours"


def _portfolio(session, tenant, in_tenant, users):
    """Three loans: up to date (disbursed 10 days ago), ~40 days late, ~100 days late."""
    fresh = disbursed_loan(session, tenant, in_tenant, users, amount="1000", months=10,
                           disbursed_days_ago=10)
    month = disbursed_loan(session, tenant, in_tenant, users, amount="1200", months=12,
                           disbursed_days_ago=71, name=("Paul", "Durand"))
    long = disbursed_loan(session, tenant, in_tenant, users, amount="3000", months=36,
                          disbursed_days_ago=131, name=("Zoé", "Petit"))
    return fresh, month, long


def test_ageing_in_sql_matches_the_loans_arrears(session, tenant, in_tenant, users):
    fresh, month, long = _portfolio(session, tenant, in_tenant, users)
    with in_tenant(tenant):
        today = service.today()
        positions = {loan.id: days for loan, _a, days in
                     delinquency.positions_as_of(session, today)}
        assert positions[fresh.id] == 0 and 35 <= positions[month.id] <= 45
        assert 95 <= positions[long.id] <= 105
        buckets = {b.code: b for b in delinquency.ageing_on(session, today)}
        assert buckets["31-60"].count == 1 and buckets["31-60"].outstanding == D("1200.00")
        assert buckets["90+"].count == 1 and buckets["90+"].outstanding == D("3000.00")
        assert buckets["1-30"].count == 0


def test_a_default_is_proposed_by_rule_then_lifted_when_caught_up(session, tenant, in_tenant,
                                                                  users):
    _fresh, month, long = _portfolio(session, tenant, in_tenant, users)
    with in_tenant(tenant):
        proposed, lifted = delinquency.propose_defaults(session, tenant, service.today())
        session.commit()
        assert [loan.id for loan in proposed] == [long.id] and lifted == []
        # a second run proposes nothing new
        assert delinquency.propose_defaults(session, tenant, service.today()) == ([], [])
        from plugins.credit_municipal import repayments

        loan = session.get(Loan, (tenant.id, long.id))
        ledger = repayments.ledger_of(session, loan)
        owed = sum((r.borrower_payment for r in ledger.rows if r.due_date <= service.today()),
                   D(0))
        repayments.record(session, loan, service.today(), owed, users["lender_agent"])
        proposed, lifted = delinquency.propose_defaults(session, tenant, service.today())
        assert proposed == [] and [loan.id for loan in lifted] == [long.id]
        assert loan.default_proposed_on is None
        assert month.id not in {loan.id for loan in proposed}


def test_the_propose_defaults_command(ccas, session, tenant, in_tenant, users):
    _portfolio(session, tenant, in_tenant, users)
    result = ccas("credit-municipal", "propose-defaults", "--tenant", "alpha")
    assert result.exit_code == 0, result.output
    assert "défaillance proposée" in result.output and "1 proposition(s)" in result.output


def test_the_dashboard_and_loan_list_show_the_buckets(client, login, session, tenant,
                                                      in_tenant, users):
    _portfolio(session, tenant, in_tenant, users)
    login(client, users["lender_agent"])
    page = client.get("/t/alpha/").get_data(as_text=True)
    assert "Retards de remboursement" in page and "Plus de 90 jours" in page
    page = client.get(f"{BASE}/loans").get_data(as_text=True)
    assert "Prêts en retard par ancienneté" in page and "31 à 60 jours" in page


def test_the_report_gives_the_buckets_and_the_funders_view_hides_small_ones(
        session, tenant, in_tenant, users):
    _portfolio(session, tenant, in_tenant, users)
    with in_tenant(tenant):
        figures = reporting.loan_figures(session, service.today().year, service.today())
    ageing = figures["ageing"]
    # each bucket names the count its amount derives from (the funders' view reads it)
    assert ageing["90+"] == {"count": 1, "outstanding": "3000.00",
                             "derived_from": {"outstanding": "count"}}
    funder = funder_view({"loans": figures})["loans"]["ageing"]
    assert funder["90+"]["count"] == "< 5" and funder["90+"]["outstanding"] == "masqué"
    from core.reports.export import tables

    table = next(t for t in tables({"loans": figures}) if "ancienneté" in t.title)
    assert table.rows[3][:2] == ["Plus de 90 jours", 1]


# -- guarantee layers, write-off and recoveries ------------------------------------------------

money = st.integers(1, 1_000_000).map(lambda c: D(c).scaleb(-2))


@settings(max_examples=200, deadline=None)
@given(loss=money, lent=st.integers(0, 10_000_000).map(lambda c: D(c).scaleb(-2)),
       already=st.integers(0, 1_000_000).map(lambda c: D(c).scaleb(-2)),
       fcs=st.integers(0, 100).map(D), city=st.integers(0, 100).map(D))
def test_guarantee_calls_and_the_lenders_part_sum_to_the_loss(loss, lent, already, fcs, city):
    layers = guarantees.layers_from_settings({"fcs_guarantee": fcs, "city_guarantee": city})
    calls = guarantees.compute_calls(loss, layers, lent, {"city": already})
    assert sum(c.amount for c in calls) == loss
    assert all(c.amount >= 0 for c in calls)


@settings(max_examples=100, deadline=None)
@given(loss=money, data=st.data())
def test_recoveries_are_split_pro_rata_and_sum_to_the_loss(loss, data):
    calls = guarantees.compute_calls(loss, LAYERS, D("3000"))
    shares = guarantees.loss_shares(loss, {c.guarantor: c.amount for c in calls[:-1]})
    assert sum(shares.values()) == loss
    recovered, returned = D("0.00"), {party: D("0.00") for party in shares}
    left = loss
    for step in range(5):
        if left <= 0:
            break
        cents = data.draw(st.integers(1, int(left * 100))) if step < 4 else int(left * 100)
        amount = D(cents).scaleb(-2)
        parts = guarantees.recovery_split(amount, shares, returned)
        assert sum(parts.values()) == amount and all(p >= 0 for p in parts.values())
        recovered += amount
        left -= amount
        for party, part in parts.items():
            returned[party] += part
            assert returned[party] <= shares[party]
    assert returned == shares  # fully recovered: each gets back exactly what it bore


def test_write_off_then_recoveries_return_to_the_guarantors_pro_rata(
        session, tenant, in_tenant, users, closable):
    """3,000 € defaulted with 3,000 outstanding: the fund bears 1,500 (50 %), the City
    450 (its cap, 15 % of the 3,000 lent), the lender 1,050. A recovery of 600 returns
    1,500/3,000 x 600 = 300 to the fund, 450/3,000 x 600 = 90 to the City and 210 to the
    lender."""
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="3000", months=36,
                          disbursed_days_ago=200)
    agent = users["lender_agent"]
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        today = service.today()
        with pytest.raises(service.UserError):
            guarantees.write_off(session, loan, agent, today)
        guarantees.declare_default(session, loan, agent, today - timedelta(days=5))
        guarantees.write_off(session, loan, agent, today)
        session.commit()
        loss, shares = guarantees.loan_loss(session, loan)
        assert shares == {"fcs": D("1500.00"), "city": D("450.00"), "lender": D("1050.00")}
        guarantees.record_recovery(session, loan, today, D("600.00"), agent)
        session.commit()
        parts = {s.party: s.amount for s in session.scalars(select(RecoveryShare))}
        assert parts == {"fcs": D("300.00"), "city": D("90.00"), "lender": D("210.00")}
        with pytest.raises(service.UserError) as caught:
            guarantees.record_recovery(session, loan, today, D("2400.01"), agent)
        assert "2 400,00" in caught.value.message.replace("\u202f", " ")
        assert loan.status == LoanStatus.defaulted


def test_the_lender_writes_off_and_records_a_recovery_from_the_loan_page(
        client, login, session, tenant, in_tenant, users, closable):
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="3000", months=36,
                          disbursed_days_ago=200)
    login(client, users["lender_agent"])
    today = service.today().isoformat()
    assert client.post(f"{BASE}/loans/{loan.id}/default",
                       data={"declared_on": today}).status_code == 302
    page = client.get(f"{BASE}/loans/{loan.id}").get_data(as_text=True)
    assert "Répartition de la perte" in page and "Passer le prêt en perte" in page
    assert client.post(f"{BASE}/loans/{loan.id}/write-off",
                       data={"written_off_on": today}).status_code == 302
    bad = client.post(f"{BASE}/loans/{loan.id}/recoveries",
                      data={"received_on": today, "recovery_amount": "-3"})
    assert bad.status_code == 422
    ok = client.post(f"{BASE}/loans/{loan.id}/recoveries",
                     data={"received_on": today, "recovery_amount": "600"})
    assert ok.status_code == 302
    page = client.get(f"{BASE}/loans/{loan.id}").get_data(as_text=True)
    assert "Recouvrement du" in page and "300,00" in page


def test_the_worker_runs_the_default_rule_every_morning(session, tenant, in_tenant, users):
    from plugins.credit_municipal import arrears

    jobs = {job.name: job for job in arrears.scheduled_jobs()}
    assert "credit_municipal.defaults" in jobs
    _portfolio(session, tenant, in_tenant, users)
    with in_tenant(tenant):
        message = jobs["credit_municipal.defaults"].run(tenant, session, None)
        assert message == "1 défaillance proposée, 0 proposition levée"
