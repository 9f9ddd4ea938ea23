"""Repayments: allocation interest first, early repayment with a recomputed schedule,
overpayment refused beyond the balance, closing the case, idempotent CSV import."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.models import CaseTransition
from core.plugin_api import State, UserError, build_schedule, format_money
from plugins.credit_municipal import loans as service
from plugins.credit_municipal import repayments
from plugins.credit_municipal.models import Installment, Loan, LoanStatus, Repayment
from plugins.credit_municipal.repayments import Ledger, Row

from .loan_helpers import disbursed_loan, fresh

D = Decimal


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    # The borrower pays the interest, so that the allocation is visible.
    enable_plugin(tenant, "credit_municipal", interest_paid_by_city="0")


def pure_ledger(amount="1200", months=12, rate="12", start=date(2025, 1, 10)) -> Ledger:
    s = build_schedule(D(amount), months, D(rate), start_date=start)
    rows = [Row(r.number, r.due_date, r.payment, r.principal, r.interest, r.subsidy,
                r.borrower_payment, r.balance) for r in s.installments]
    return Ledger(D(amount), D(rate), "annuity", D(0), s.due_day, rows, start=start)


def test_a_payment_goes_to_interest_first_then_principal():
    ledger = pure_ledger()
    first = ledger.rows[0]
    allocation = ledger.apply(first.due_date, D("5.00"))
    assert allocation.interest_part == D("5.00") and allocation.principal_part == 0
    allocation = ledger.apply(first.due_date, first.payment - D("5.00"))
    assert allocation.interest_part == first.interest - D("5.00")
    assert allocation.principal_part == first.principal and allocation.early == 0


def test_an_instalment_paid_a_few_days_early_is_a_regular_payment():
    ledger = pure_ledger()
    first = ledger.rows[0]
    allocation = ledger.apply(first.due_date - timedelta(days=3), first.payment)
    assert allocation.early == 0 and allocation.replaced_from is None
    assert allocation.interest_part == first.interest


def test_an_overpayment_is_an_early_repayment_that_recomputes_the_remaining_schedule():
    ledger = pure_ledger()
    first = ledger.rows[0]
    allocation = ledger.apply(first.due_date, first.payment + D("300.00"))
    assert allocation.early == D("300.00") and allocation.replaced_from == 2
    new = allocation.new_rows
    assert len(new) == 11 and new[0].due_date == ledger.rows[1].due_date
    assert new[0].payment < first.payment  # lower instalment, same end date
    assert new[-1].due_date == pure_ledger().rows[-1].due_date
    # principal of the live rows + early part = amount lent
    assert sum(r.principal for r in ledger.rows) + allocation.early == D("1200.00")


def test_a_payment_above_what_settles_the_loan_is_refused_with_the_payoff():
    ledger = pure_ledger()
    payoff = ledger.payoff(ledger.rows[0].due_date)
    assert payoff == D("1200.00") + ledger.rows[0].interest
    with pytest.raises(UserError) as err:
        ledger.apply(ledger.rows[0].due_date, payoff + D("0.01"))
    assert format_money(payoff) in err.value.message  # "1 212,00 €", never "1212.00"
    assert "." not in err.value.message.split("(")[1].rstrip(".")


def test_payments_out_of_order_are_refused():
    ledger = pure_ledger()
    ledger.apply(ledger.rows[1].due_date, ledger.rows[0].payment)
    with pytest.raises(UserError):
        ledger.apply(ledger.rows[0].due_date, D("10"))


def _loan(session, tenant, in_tenant, users, **kw) -> Loan:
    return disbursed_loan(session, tenant, in_tenant, users, amount="1200", months=12,
                          rate="12", **kw)


def _rows(session, loan):
    return session.scalars(select(Installment).where(Installment.loan_id == loan.id)
                           .order_by(Installment.number)).all()


def test_recording_an_early_repayment_replaces_the_instalments_still_to_come(
        session, tenant, in_tenant, users):
    loan = _loan(session, tenant, in_tenant, users, disbursed_days_ago=40)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        before = _rows(session, loan)
        repayments.record(session, loan, service.today(), before[0].payment + D("500"),
                          users["lender_agent"])
        session.commit()
        after = _rows(session, loan)
        assert len(after) == 12 and after[0].payment == before[0].payment
        assert after[1].payment < before[1].payment
        paid = session.scalar(select(Repayment))
        assert paid.early == D("500.00") and paid.interest_part == before[0].interest
        assert sum(r.principal for r in after) + paid.early == D("1200.00")


@pytest.fixture
def closable(monkeypatch):
    """With the final accompaniment summary recorded (another feature's check), the case
    closes as soon as the loan is settled."""
    from core.features import accompaniment

    monkeypatch.setattr(accompaniment, "has_final_summary", lambda session, case: True)


def test_paying_the_whole_balance_closes_the_case_as_early_repayment(
        session, tenant, in_tenant, users, closable):
    loan = _loan(session, tenant, in_tenant, users, disbursed_days_ago=40)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        payoff = repayments.ledger_of(session, loan).payoff(service.today())
        repayments.record(session, loan, service.today(), payoff, users["lender_agent"])
        session.commit()
        assert loan.status == LoanStatus.repaid and loan.case.state == State.closed
        close = session.scalar(select(CaseTransition).where(
            CaseTransition.case_id == loan.case_id, CaseTransition.to_state == "closed"))
        assert close.reason_code == "early_repayment"
        rows = _rows(session, loan)  # the first instalment, then the interest accrued
        assert len(rows) == 2 and rows[1].due_date == service.today()
        assert rows[1].principal == 0 and 0 < rows[1].interest < rows[0].interest


def test_the_last_scheduled_repayment_closes_the_case_as_repaid(
        session, tenant, in_tenant, users, closable):
    loan = _loan(session, tenant, in_tenant, users, disbursed_days_ago=380)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        for row in _rows(session, loan):
            repayments.record(session, loan, row.due_date, row.payment, users["lender_agent"])
        session.commit()
        assert loan.status == LoanStatus.repaid
        close = session.scalar(select(CaseTransition).where(
            CaseTransition.case_id == loan.case_id, CaseTransition.to_state == "closed"))
        assert close.reason_code == "repaid"


def test_a_settled_loan_whose_case_cannot_close_yet_tells_the_ccas(
        session, tenant, in_tenant, users, monkeypatch):
    from core.features import accompaniment
    from core.models import OutboxMessage

    # the core's own check refuses to close: no final accompaniment summary yet
    monkeypatch.setattr(accompaniment, "has_final_summary", lambda session, case: False)
    loan = _loan(session, tenant, in_tenant, users, disbursed_days_ago=40,
                 social_worker=users["social_worker"])
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        payoff = repayments.ledger_of(session, loan).payoff(service.today())
        repayments.record(session, loan, service.today(), payoff, users["lender_agent"])
        session.commit()
        assert loan.status == LoanStatus.repaid and loan.case.state == State.repaying
        mail = session.scalar(select(OutboxMessage).where(
            OutboxMessage.subject.like("%à clôturer%")))
        assert mail.recipient == users["social_worker"].email
        assert accompaniment.FINAL_SUMMARY_MISSING in mail.payload["text"]


def _csv(*lines, header="référence du prêt;date;montant") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def test_preview_shows_line_level_errors_and_writes_nothing(session, tenant, in_tenant,
                                                            users):
    loan = _loan(session, tenant, in_tenant, users, disbursed_days_ago=70)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        rows = _rows(session, loan)
        content = _csv(
            f"{loan.reference};{rows[0].due_date:%d/%m/%Y};{rows[0].payment}".replace(".", ","),
            "INCONNU-1;05/01/2026;10,00",
            f"{loan.reference};32/13/2026;10,00",
            f"{loan.reference};{rows[1].due_date:%d/%m/%Y};abc",
            f"{loan.reference};{rows[1].due_date:%d/%m/%Y};99999,00",
        )
        report = repayments.preview_import(session, content, "releve.csv")
        by_line = {line.number: line for line in report.lines}
        assert by_line[2].status == "new"
        assert "Prêt inconnu" in by_line[3].error
        assert "Date invalide" in by_line[4].error
        assert "Montant invalide" in by_line[5].error
        assert "solde le prêt" in by_line[6].error
        assert not report.ok
        assert session.scalar(select(func.count()).select_from(Repayment)) == 0
        with pytest.raises(UserError):
            repayments.run_import(session, content, "releve.csv", users["lender_agent"])
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Repayment)) == 0


def test_a_file_without_the_expected_columns_is_refused():
    report = repayments.parse_csv(b"pret,quand,combien\nA,01/01/2026,10\n")
    assert report.problems and "Colonnes manquantes" in report.problems[0]


def test_reimporting_the_same_file_creates_nothing_new(session, tenant, in_tenant, users):
    loan = _loan(session, tenant, in_tenant, users, disbursed_days_ago=70)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        rows = _rows(session, loan)
        content = _csv(*(f"{loan.reference};{r.due_date.isoformat()};{r.payment}"
                         for r in rows[:2]), header="loan reference,date,amount"
                       ).replace(b";", b",")
        _, created = repayments.run_import(session, content, "a.csv", users["lender_agent"])
        session.commit()
        assert created == 2
        report, created = repayments.run_import(session, content, "a.csv",
                                                users["lender_agent"])
        session.commit()
        assert created == 0 and len(report.already) == 2
        assert session.scalar(select(func.count()).select_from(Repayment)) == 2


def test_a_later_file_repeating_earlier_lines_imports_only_the_new_ones(
        session, tenant, in_tenant, users):
    loan = _loan(session, tenant, in_tenant, users, disbursed_days_ago=100)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        rows = _rows(session, loan)
        lines = [f"{loan.reference};{r.due_date:%d/%m/%Y};{r.payment}" for r in rows[:3]]
        repayments.run_import(session, _csv(*lines[:2]), "jan.csv", users["lender_agent"])
        session.commit()
        report, created = repayments.run_import(session, _csv(*lines), "feb.csv",
                                                users["lender_agent"])
        session.commit()
        assert created == 1 and len(report.already) == 2
        total = session.scalar(select(func.sum(Repayment.amount)))
        assert total == sum(r.payment for r in rows[:3])


def test_two_identical_payments_in_one_file_are_both_imported(session, tenant, in_tenant,
                                                              users):
    loan = _loan(session, tenant, in_tenant, users, disbursed_days_ago=70)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        day = service.today()
        content = _csv(f"{loan.reference};{day:%d/%m/%Y};50", f"{loan.reference};{day:%d/%m/%Y};50")
        _, created = repayments.run_import(session, content, "x.csv", users["lender_agent"])
        session.commit()
        assert created == 2


def test_a_manual_repayment_in_the_future_is_refused(session, tenant, in_tenant, users):
    loan = _loan(session, tenant, in_tenant, users, disbursed_days_ago=40)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        with pytest.raises(UserError) as err:
            repayments.record(session, loan, service.today() + timedelta(days=1), D("10"),
                              users["lender_agent"])
    assert "futur" in err.value.message
    assert fresh(session, tenant, in_tenant, Loan, loan.id).status == LoanStatus.repaying


def test_an_early_repayment_lowers_the_instalment_by_default_golden():
    """1,200 € / 12 months / 12 %: instalment 106.62, first interest 12.00. Paying the
    first instalment plus 300.00 on its due date leaves 1200 - 94.62 - 300 = 805.38;
    over the same 11 months: 805.38 x 0.01 / (1 - 1.01^-11) = 77.682.. -> 77.68."""
    ledger = pure_ledger()
    allocation = ledger.apply(ledger.rows[0].due_date, D("406.62"))
    assert allocation.early == D("300.00")
    assert len(allocation.new_rows) == 11 and allocation.new_rows[0].payment == D("77.68")


def test_the_borrower_may_shorten_the_loan_instead_golden():
    """Same payment, the borrower's choice of a shorter duration: the fewest months whose
    instalment stays at most 106.62: 8 months gives 805.38 x 0.01 / (1 - 1.01^-8) =
    105.255.. -> 105.26 (7 months would be 119.70). The loan ends 3 months sooner."""
    ledger = pure_ledger()
    allocation = ledger.apply(ledger.rows[0].due_date, D("406.62"), shorten=True)
    new = allocation.new_rows
    assert len(new) == 8 and new[0].payment == D("105.26")
    assert new[-1].due_date == pure_ledger().rows[8].due_date
    assert sum(r.principal for r in new) == D("805.38")


def test_settlement_charges_the_interest_accrued_to_the_day_without_penalty_golden():
    """Disbursed 10/01/2025, first due 10/02/2025 (31 days), interest 12.00. Settled on
    25/01/2025, 15 days in: accrued interest 12.00 x 15 / 31 = 5.806.. -> 5.81, so the
    payoff is 1,205.81 (not 1,212.00), and the schedule keeps one row of 5.81 interest."""
    ledger = pure_ledger()
    assert ledger.payoff(date(2025, 1, 25)) == D("1205.81")
    allocation = ledger.apply(date(2025, 1, 25), D("1205.81"))
    assert allocation.settles and allocation.interest_part == D("5.81")
    assert allocation.early == D("1200.00") and allocation.replaced_from == 1
    (accrued,) = allocation.new_rows
    assert (accrued.due_date, accrued.interest, accrued.principal) == (
        date(2025, 1, 25), D("5.81"), D("0.00"))


def test_the_citys_subsidy_stops_at_the_settlement_day_golden():
    """City pays all the interest: the borrower settles with the principal only, 1,200.00;
    the City's part of the cut-short instalment is 12.00 x 15 / 31 = 5.81 instead of
    12.00, and nothing after."""
    s = build_schedule(D("1200"), 12, D("12"), start_date=date(2025, 1, 10),
                       subsidy_share=D("100"))
    rows = [Row(r.number, r.due_date, r.payment, r.principal, r.interest, r.subsidy,
                r.borrower_payment, r.balance) for r in s.installments]
    ledger = Ledger(D("1200"), D("12"), "annuity", D("100"), s.due_day, rows,
                    start=date(2025, 1, 10))
    assert ledger.payoff(date(2025, 1, 25)) == D("1200.00")
    allocation = ledger.apply(date(2025, 1, 25), D("1200.00"))
    assert allocation.settles and allocation.new_rows[0].subsidy == D("5.81")
    assert sum(r.subsidy for r in ledger.rows) == D("5.81")
