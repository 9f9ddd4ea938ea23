"""The loan's whole life at the lender, the worked example of docs/loan-life.md: 3,000 € over
36 months at 3.04 % (the City pays the interest), two missed payments, a 3-month payment
holiday, then a partial early repayment shortening the loan and the final settlement;
and the rescheduling through the lender's page (form errors, rider PDF)."""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pytest
from sqlalchemy import select

from plugins.credit_municipal import arrears, repayments, rescheduling
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import (
    Installment,
    Loan,
    LoanStatus,
    Repayment,
    Rescheduling,
)

from .loan_helpers import D, disbursed_loan

BASE = "/t/alpha/p/credit_municipal"


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


def _rows(session, loan):
    return session.scalars(select(Installment).where(Installment.loan_id == loan.id)
                           .order_by(Installment.number)).all()


def _toulouse_loan(session, tenant, in_tenant, users, clock):
    clock.travel_to("2026-01-05T10:00")
    return disbursed_loan(session, tenant, in_tenant, users, amount="3000", months=36,
                          rate="3.04", disbursed_days_ago=0)


def test_the_worked_example_end_to_end(session, tenant, in_tenant, users, clock):
    """Figures of docs/loan-life.md, hand-checked there."""
    loan = _toulouse_loan(session, tenant, in_tenant, users, clock)
    agent = users["lender_agent"]
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        rows = _rows(session, loan)
        assert rows[0].payment == D("87.30") and rows[0].due_date == date(2026, 2, 5)
        assert rows[0].borrower_payment == D("79.70")  # the City pays the 7.60 of interest
        # February to May paid on time (the borrower pays the principal part)
        for row in rows[:4]:
            clock.travel_to(f"{row.due_date.isoformat()}T12:00")
            repayments.record(session, loan, row.due_date, row.borrower_payment, agent)
        session.commit()
        # June and July missed: 45 days late on 20 July
        clock.travel_to("2026-07-20T10:00")
        ledger = repayments.ledger_of(session, loan)
        late = arrears.loan_arrears(ledger.rows, ledger.regular_paid, date(2026, 7, 20))
        assert (late.days_past_due, late.amount_late) == (45, D("161.22"))
        assert ledger.outstanding == D("2679.99")
        # 3-month holiday, then the 32 instalments left
        record = rescheduling.reschedule_loan(session, loan, {
            "holiday_months": "3", "months": "32", "opinion": "favourable",
            "opinion_text": "Reprise d'emploi en octobre."}, agent)
        session.commit()
        assert (record.version, record.outstanding, record.installment, record.apr) == (
            2, D("2679.99"), D("87.30"), D("0.00"))
        assert record.last_due_date == date(2029, 6, 5)
        assert len(record.previous_schedule) == 36
        rows = _rows(session, loan)
        assert len(rows) == 41
        interest_only = rows[4:9]
        assert {(r.principal, r.interest, r.borrower_payment) for r in interest_only} == {
            (D("0.00"), D("6.79"), D("0.00"))}
        assert (rows[9].due_date, rows[9].borrower_payment) == (date(2026, 11, 5),
                                                                D("80.51"))
        ledger = repayments.ledger_of(session, loan)
        assert arrears.loan_arrears(ledger.rows, ledger.regular_paid,
                                    date(2026, 7, 20)).days_past_due == 0
        # November to February paid
        for row in rows[9:13]:
            clock.travel_to(f"{row.due_date.isoformat()}T12:00")
            repayments.record(session, loan, row.due_date, row.borrower_payment, agent)
        session.commit()
        assert repayments.ledger_of(session, loan).outstanding == D("2356.73")
        # 1,000 € early on 5 March 2027 with the instalment of the day, shortening the loan
        clock.travel_to("2027-03-05T12:00")
        march = rows[13]
        assert march.borrower_payment == D("81.33")
        repayments.record(session, loan, date(2027, 3, 5), D("1081.33"), agent,
                          shorten=True)
        session.commit()
        rows = _rows(session, loan)
        assert len(rows) == 29 and rows[-1].due_date == date(2028, 6, 5)  # 15 instalments
        assert rows[14].payment == D("86.76")
        ledger = repayments.ledger_of(session, loan)
        assert ledger.outstanding == D("1275.40")
        # Final settlement on 20 April 2027: principal only (the City pays the interest,
        # accrued 15 days of 31 on the April instalment)
        for row in rows[14:15]:
            clock.travel_to(f"{row.due_date.isoformat()}T12:00")
            repayments.record(session, loan, row.due_date, row.borrower_payment, agent)
        clock.travel_to("2027-04-20T12:00")
        ledger = repayments.ledger_of(session, loan)
        payoff = ledger.payoff(date(2027, 4, 20))
        assert payoff == ledger.outstanding == D("1191.87")
        repayments.record(session, loan, date(2027, 4, 20), payoff, agent)
        session.commit()
        assert loan.status == LoanStatus.repaid
        rows = _rows(session, loan)
        assert (rows[-1].due_date, rows[-1].principal, rows[-1].subsidy) == (
            date(2027, 4, 20), D("0.00"), D("1.51"))
        early = sum(r.early for r in session.scalars(select(Repayment)))
        assert sum(r.principal for r in rows) + early == D("3000.00")
        # the City's interest subsidy over the loan's life: 99.79 € instead of 142.70 €
        assert sum(r.subsidy for r in rows) == D("99.79")


def test_rescheduling_checks_each_rule_and_names_it(session, tenant, in_tenant, users,
                                                    clock):
    loan = _toulouse_loan(session, tenant, in_tenant, users, clock)
    clock.travel_to("2026-03-20T10:00")
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        cases = [
            ({"holiday_months": "4", "months": "20", "opinion": "favourable"},
             "holiday_months", "de 1 à 3 mois"),
            ({"holiday_months": "2", "months": "35", "opinion": "favourable"},
             "months", "dépasse la durée maximale du prêt (36 mois)"),
            ({"holiday_months": "0", "months": "0", "opinion": "favourable"},
             "months", "au moins 1 mois"),
            ({"holiday_months": "1", "months": "douze", "opinion": "favourable"},
             "months", "nombre entier"),
            ({"holiday_months": "1", "months": "12"}, "opinion", "avis du travailleur"),
        ]
        for raw, field, words in cases:
            with pytest.raises(service.UserError) as caught:
                rescheduling.reschedule_loan(session, loan, raw, users["lender_agent"])
            assert caught.value.field == field and words in caught.value.message
        session.rollback()
        assert session.scalar(select(Rescheduling)) is None


def test_the_lender_reschedules_from_the_loan_page_and_prints_the_rider(
        client, login, session, tenant, in_tenant, users, clock):
    loan = _toulouse_loan(session, tenant, in_tenant, users, clock)
    clock.travel_to("2026-04-20T10:00")
    login(client, users["lender_agent"])
    page = client.get(f"{BASE}/loans/{loan.id}")
    assert "Réaménager le prêt" in page.get_data(as_text=True)
    bad = client.post(f"{BASE}/loans/{loan.id}/reschedule",
                      data={"holiday_months": "2", "months": "40", "opinion": "reserved"})
    assert bad.status_code == 422
    assert "dépasse la durée maximale" in bad.get_data(as_text=True)
    done = client.post(f"{BASE}/loans/{loan.id}/reschedule", data={
        "holiday_months": "2", "months": "30", "opinion": "reserved",
        "opinion_text": "Budget tendu"})
    assert done.status_code == 302
    page = client.get(f"{BASE}/loans/{loan.id}").get_data(as_text=True)
    assert "Version 2" in page and "Favorable avec réserves" in page
    assert "Échéancier remplacé" in page
    pdf = client.get(f"{BASE}/loans/{loan.id}/avenant-2.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Avenant n° 1" in text and "TAEG recalculé" in text and "2 mois" in text
    assert client.get(f"{BASE}/loans/{loan.id}/avenant-3.pdf").status_code == 404


def test_the_fipen_and_the_offer_with_its_slip_are_on_the_loan_page(
        client, login, session, tenant, in_tenant, users):
    from .loan_helpers import granted_loan

    loan = granted_loan(session, tenant, in_tenant, users)
    login(client, users["lender_agent"])
    page = client.get(f"{BASE}/loans/{loan.id}").get_data(as_text=True)
    assert "FIPEN" in page and "bordereau de rétractation" in page
    fipen = client.get(f"{BASE}/loans/{loan.id}/fipen.pdf")
    assert fipen.status_code == 200 and fipen.data.startswith(b"%PDF-")
    offer = client.get(f"{BASE}/loans/{loan.id}/offre.pdf")
    last = pypdf.PdfReader(io.BytesIO(offer.data)).pages[-1].extract_text()
    assert "Bordereau de rétractation" in last
