"""The loan's life at the lender: eligibility veto, decision, signing record, withdrawal
period (in the tenant's timezone), withdrawal, disbursement and schedule."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core import cases, clock
from core.models import CaseTransition, OutboxMessage
from core.plugin_api import (
    Case,
    State,
    TransitionError,
    TransitionRequest,
    apply_transition,
)
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import Installment, Loan, LoanStatus

from .loan_helpers import D, disbursed_loan, fresh, granted_loan, open_case_at, signature


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


def _submit(session, case, actor):
    apply_transition(
        session, case, TransitionRequest(State.submitted_to_lender, case.version), actor)


@pytest.mark.parametrize("amount, purpose, message", [
    ("250", "mobility", "doit être compris entre"),
    ("3500", "mobility", "doit être compris entre"),
])
def test_a_case_outside_the_amount_limits_cannot_be_submitted_and_says_why(
        amount, purpose, message, session, tenant, in_tenant, users):
    case = open_case_at(session, tenant, in_tenant, State.instruction, amount=amount,
                        purpose=purpose)
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        with pytest.raises(TransitionError) as err:
            _submit(session, case, users["social_worker"])
    assert "Crédit Municipal" in err.value.message and message in err.value.message


def test_a_purpose_the_lender_does_not_finance_cannot_be_submitted(
        session, tenant, in_tenant, users, enable_plugin):
    enable_plugin(tenant, "credit_municipal", allowed_purposes=["mobility", "housing"])
    case = open_case_at(session, tenant, in_tenant, State.instruction, purpose="debts")
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        with pytest.raises(TransitionError) as err:
            _submit(session, case, users["social_worker"])
    assert "Dettes" in err.value.message and "pas finançable" in err.value.message


def test_an_eligible_case_is_submitted(session, tenant, in_tenant, users):
    case = open_case_at(session, tenant, in_tenant, State.instruction, amount="1200")
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        cases.add_interview(session, case, users["social_worker"], "2026-11-02", 45, "Vu.")
        cases.save_budget(session, case, users["social_worker"], {"salary": "1300"})
        _submit(session, case, users["social_worker"])
        session.commit()
        assert case.state == State.submitted_to_lender


def test_grant_creates_the_loan_and_records_amount_and_months_on_the_transition(
        session, tenant, in_tenant, users):
    loan = granted_loan(session, tenant, in_tenant, users, amount="2500", months=24)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        assert loan.status == LoanStatus.granted and loan.amount == D("2500.00")
        assert loan.subsidy_share == D("100") and loan.annual_rate == D("3.04")
        assert loan.offer_valid_until == loan.decided_on + timedelta(days=15)
        record = session.scalar(select(CaseTransition).where(
            CaseTransition.case_id == loan.case_id, CaseTransition.to_state == "granted"))
        assert record.data["amount_granted"] == "2500.00" and record.data["months"] == 24
        assert loan.case.state == State.granted


def test_a_grant_without_the_decision_terms_is_refused(session, tenant, in_tenant, users):
    case = open_case_at(session, tenant, in_tenant)
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        with pytest.raises(TransitionError) as err:
            apply_transition(session, case, TransitionRequest(State.granted, case.version),
                             users["lender_agent"])
    assert "formulaire de décision" in err.value.message


def test_a_grant_longer_than_the_maximum_duration_is_refused(session, tenant, in_tenant,
                                                             users):
    case = open_case_at(session, tenant, in_tenant)
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        with pytest.raises(TransitionError) as err:
            service.grant(session, case, {"amount_granted": "3000", "months": "48"},
                          users["lender_agent"])
    assert "48 mois" in err.value.message


def test_refusal_needs_a_coded_reason_and_notifies_the_social_worker(
        session, tenant, in_tenant, users):
    case = open_case_at(session, tenant, in_tenant, social_worker=users["social_worker"])
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        with pytest.raises(TransitionError):
            service.refuse(session, case, "", users["lender_agent"])
        session.rollback()
        case = session.get(Case, (tenant.id, case.id))
        service.refuse(session, case, "insufficient_capacity", users["lender_agent"])
        session.commit()
        mail = session.scalar(select(OutboxMessage))
    assert case.state == State.refused
    assert mail.recipient == users["social_worker"].email
    assert "Capacité de remboursement insuffisante" in mail.payload["text"]


def test_adjournment_says_what_is_missing(session, tenant, in_tenant, users):
    case = open_case_at(session, tenant, in_tenant, social_worker=users["social_worker"])
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        with pytest.raises(TransitionError):
            service.adjourn(session, case, "  ", users["lender_agent"])
        session.rollback()
        case = session.get(Case, (tenant.id, case.id))
        service.adjourn(session, case, "Avis d'imposition 2025", users["lender_agent"])
        session.commit()
        mail = session.scalar(select(OutboxMessage))
    assert case.state == State.adjourned and "Avis d'imposition 2025" in mail.payload["text"]


def test_signing_records_the_three_parties_and_opens_the_withdrawal_period(
        session, tenant, in_tenant, users):
    loan = granted_loan(session, tenant, in_tenant, users, decided_days_ago=5)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        day = service.today() - timedelta(days=2)
        data = signature(day)
        data["borrower_signed_on"] = (day - timedelta(days=1)).isoformat()
        service.sign(session, loan.case, data, users["social_worker"])
        session.commit()
        assert loan.case.state == State.withdrawal_period
        assert loan.borrower_signed_on == day - timedelta(days=1)
        assert loan.signed_on == day  # the last signature binds
        assert loan.lender_signatory == "Paul Prêteur" and loan.ccas_signatory == "Claire CCAS"
        assert loan.withdrawal_ends_on == day + timedelta(days=14)


def test_signing_needs_every_party_and_no_future_date(session, tenant, in_tenant, users):
    loan = granted_loan(session, tenant, in_tenant, users)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        data = signature(service.today())
        data["ccas_signatory"] = ""
        with pytest.raises(Exception) as err:
            service.sign(session, loan.case, data, users["lender_agent"])
        assert "signataire du CCAS" in str(err.value)
        data = signature(service.today() + timedelta(days=1))
        with pytest.raises(Exception) as err:
            service.sign(session, loan.case, data, users["lender_agent"])
        assert "futur" in str(err.value)


def _signed(session, tenant, in_tenant, users, days_ago: int) -> Loan:
    loan = granted_loan(session, tenant, in_tenant, users, decided_days_ago=days_ago + 1)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        service.sign(session, loan.case, signature(service.today()
                                                   - timedelta(days=days_ago)),
                     users["lender_agent"])
        session.commit()
        return loan


def test_disbursement_is_refused_during_the_14_calendar_days_after_signing(
        session, tenant, in_tenant, users):
    loan_id = _signed(session, tenant, in_tenant, users, days_ago=14).id
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan_id))
        assert loan.withdrawal_ends_on == service.today()
        with pytest.raises(TransitionError) as err:
            service.disburse(session, loan.case, {}, users["lender_agent"])
        session.rollback()
    assert "délai de rétractation" in err.value.message
    loan = fresh(session, tenant, in_tenant, Loan, loan_id)
    with in_tenant(tenant):
        assert loan.case.state == State.withdrawal_period and loan.disbursed_on is None


def test_disbursement_the_day_after_the_withdrawal_period_starts_repaying(
        session, tenant, in_tenant, users):
    loan = _signed(session, tenant, in_tenant, users, days_ago=15)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        service.disburse(session, loan.case, {}, users["lender_agent"])
        session.commit()
        rows = session.scalars(select(Installment).where(Installment.loan_id == loan.id)
                               .order_by(Installment.number)).all()
        today = service.today()
        assert loan.case.state == State.repaying and loan.status == LoanStatus.repaying
        assert loan.disbursed_on == today
        assert len(rows) == 36 and rows[0].payment == D("87.30")
        assert rows[0].due_date.month == (today.month % 12) + 1
        assert sum(r.principal for r in rows) == D("3000.00")
        assert rows[0].borrower_payment == rows[0].principal  # the City pays the interest


@pytest.mark.parametrize("now, allowed", [
    ("2027-04-03T23:30", False),  # the 14th day, late evening: still in the period
    ("2027-04-04T00:30", True),   # half an hour later, in Paris (22:30 UTC on the 3rd)
])
def test_the_withdrawal_period_spans_the_spring_clock_change_in_calendar_days(
        session, tenant, in_tenant, users, clock, now, allowed):
    """Signed on Saturday 20 March 2027; the night of 28 March is an hour short, the
    period still ends on 3 April (14 calendar days), and the money may leave on the 4th,
    from midnight in Paris."""
    clock.travel_to("2027-03-20T11:00")
    loan_id = _signed(session, tenant, in_tenant, users, days_ago=0).id
    clock.travel_to(now)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan_id))
        assert loan.withdrawal_ends_on == date(2027, 4, 3)
        if allowed:
            service.disburse(session, loan.case, {}, users["lender_agent"])
            session.commit()
            assert loan.disbursed_on == date(2027, 4, 4)
        else:
            with pytest.raises(TransitionError) as err:
                service.disburse(session, loan.case, {}, users["lender_agent"])
            session.rollback()
            assert "03/04/2027 inclus" in err.value.message


def test_the_withdrawal_period_is_counted_in_the_tenants_timezone(make_tenant, session,
                                                                   in_tenant):
    far_east = make_tenant("kiritimati")
    far_east.timezone = "Pacific/Kiritimati"
    session.commit()
    with in_tenant(far_east):
        assert service.today() == clock.now().astimezone(ZoneInfo("Pacific/Kiritimati")).date()


def test_an_agreed_first_due_date_is_kept_at_disbursement(session, tenant, in_tenant, users):
    first = service.today() - timedelta(days=340)
    loan = disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=370,
                          first_due_date=first)
    with in_tenant(tenant):
        rows = session.scalars(select(Installment).where(Installment.loan_id == loan.id)
                               .order_by(Installment.number)).all()
        assert rows[0].due_date == first


def test_the_borrower_withdraws_within_the_period(session, tenant, in_tenant, users):
    loan = _signed(session, tenant, in_tenant, users, days_ago=3)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        service.withdraw(session, loan.case, users["social_worker"])
        session.commit()
        assert loan.case.state == State.withdrawn and loan.status == LoanStatus.withdrawn


def test_withdrawal_after_the_period_is_refused(session, tenant, in_tenant, users):
    loan = _signed(session, tenant, in_tenant, users, days_ago=15)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        with pytest.raises(TransitionError) as err:
            service.withdraw(session, loan.case, users["social_worker"])
    assert "a pris fin" in err.value.message


def test_eligibility_problems_is_pure_and_lists_every_reason():
    conf = {"amount_min": D("300"), "amount_max": D("3000"), "max_months": 36,
            "allowed_purposes": ["mobility"]}
    assert service.eligibility_problems(conf, D("3000"), "mobility", 36) == []
    problems = service.eligibility_problems(conf, D("100"), "debts", 40)
    assert len(problems) == 3


@pytest.mark.parametrize(("months", "message"), [
    ("0", "La durée doit être d'au moins 1 mois."),
    ("-3", "La durée doit être d'au moins 1 mois."),
    ("900", "La durée (900 mois) dépasse le maximum de 600 mois."),
])
def test_a_duration_error_names_the_rule_broken(months, message):
    conf = {"annual_rate": D("3.04"), "schedule_method": "annuity", "max_months": 36}
    with pytest.raises(service.UserError) as caught:
        service.parse_terms({"amount_granted": "1000", "months": months}, conf)
    assert caught.value.message == message
    assert caught.value.field == "months"

