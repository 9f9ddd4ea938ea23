"""Shared set-up for the loan tests: a case at a given state, and a loan taken through
decision, signing and disbursement with dates in the past (so instalments are due)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core import cases
from core.plugin_api import Case, State
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import Loan

D = Decimal


def open_case_at(session, tenant, in_tenant, state=State.submitted_to_lender, amount="3000",
                 purpose="mobility", social_worker=None, name=("Léa", "Martin")) -> Case:
    """A case put straight into ``state`` (the earlier steps belong to other features)."""
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            name[0], name[1], date(1990, 5, 17), address="3 rue des Lilas",
            postal_code="31000", city="Toulouse"))
        case = cases.open_case(session, person, purpose, amount, tenant=tenant)
        case.state = state
        if social_worker is not None:
            case.social_worker_id = social_worker.id
        session.commit()
        return case


def fresh(session, tenant, in_tenant, model, obj_id):
    session.expire_all()
    with in_tenant(tenant):
        return session.scalar(select(model).where(model.id == obj_id))


def signature(on: date, lender="Paul Prêteur", ccas="Claire CCAS") -> dict:
    return {"borrower_signed_on": on.isoformat(), "lender_signed_on": on.isoformat(),
            "ccas_signed_on": on.isoformat(), "lender_signatory": lender,
            "ccas_signatory": ccas}


def granted_loan(session, tenant, in_tenant, users, amount="3000", months=36, rate="3.04",
                 method="annuity", decided_days_ago=0, **case_kw) -> Loan:
    case = open_case_at(session, tenant, in_tenant, amount=amount, **case_kw)
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, case.id))
        loan = service.grant(session, case, {"amount_granted": amount, "months": str(months),
                                             "annual_rate": rate, "method": method},
                             users["lender_agent"])
        if decided_days_ago:
            loan.decided_on = service.today() - timedelta(days=decided_days_ago)
        session.commit()
        return loan


def disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=370,
                   first_due_date: date | None = None, **kw) -> Loan:
    """A loan disbursed ``disbursed_days_ago`` days ago (signed 15 days before that)."""
    loan = granted_loan(session, tenant, in_tenant, users,
                        decided_days_ago=disbursed_days_ago + 20, **kw)
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, loan.id))
        today = service.today()
        signed = today - timedelta(days=disbursed_days_ago + 15)
        service.sign(session, loan.case, signature(signed), users["lender_agent"])
        raw = {"disbursed_on": (today - timedelta(days=disbursed_days_ago)).isoformat()}
        if first_due_date:
            raw["first_due_date"] = first_due_date.isoformat()
        service.disburse(session, loan.case, raw, users["lender_agent"])
        session.commit()
        return loan
