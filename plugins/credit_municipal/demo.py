"""The lender's part of the demonstration data (hook ``ccas_demo_data``): FICP checks,
loans from the decision to the end, their live schedules, repayments (on time, late,
stopped, paid off early), defaults and the guarantors' calls, in bulk.

It is called once per round of cases (the benchmarks write a million cases in rounds):
what earlier rounds wrote (the amount lent, the guarantors' calls) is read back.

The case's days say what happened (granted, signed, disbursed, closed and why); the
borrower's ``fate`` says how the repayments went. Regular payments are allocated as the
ledger does when instalments are paid in full and in order (the borrower's interest
first, then the principal); an early repayment goes through the ledger itself.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from core.plugin_api import build_schedule, insert_rows, new_id, plugin_settings, utcnow

from .ficp_models import FicpCheck
from .guarantees import (
    LENDER,
    amount_lent,
    called_by_guarantor,
    compute_calls,
    layers_from_settings,
    loss_shares,
    recovery_split,
)
from .loans import OFFER_VALID_DAYS, WITHDRAWAL_DAYS
from .models import (
    LOAN_STATUS_LABELS,
    GuaranteeCall,
    Installment,
    Loan,
    LoanStatus,
    Recovery,
    RecoveryShare,
    Repayment,
)
from .repayments import Ledger, Row

ZERO = Decimal("0.00")
NAME = "credit_municipal"

#: The loan's status from the case's state (a closed case: repaid or defaulted).
STATUS_OF_STATE = {
    "granted": LoanStatus.granted, "signing": LoanStatus.granted,
    "abandoned": LoanStatus.granted, "withdrawal_period": LoanStatus.signed,
    "withdrawn": LoanStatus.withdrawn, "disbursed": LoanStatus.repaying,
    "repaying": LoanStatus.repaying, "closed": LoanStatus.repaid,
}


def demo_data(session, rng, cases, today: date) -> dict:
    conf = plugin_settings(NAME)
    checks, loans, installments, repayments, calls = [], [], [], [], []
    recoveries, shares, severe = [], [], []
    threshold = timedelta(days=int(conf["default_after_days"]))
    # the loans of earlier rounds count towards the City's cap
    lent, called = amount_lent(session), Counter(called_by_guarantor(session))
    statuses = Counter()
    for case in sorted(cases, key=lambda c: c.days.get("disbursed") or date.max):
        days = case.days
        check = _check(rng, case)
        if check is not None:
            checks.append(check)
        granted = days.get("granted")
        if granted is None:
            continue
        loan_id = new_id(rng)
        status = STATUS_OF_STATE.get(case.state, LoanStatus.granted)
        loan = {
            "id": loan_id, "case_id": case.id, "reference": case.reference,
            "amount": case.amount, "months": case.months, "annual_rate": conf["annual_rate"],
            "method": conf["schedule_method"], "subsidy_share": conf["interest_paid_by_city"],
            "decided_on": granted, "decided_by_id": case.lender_agent_id,
            "offer_valid_until": granted + timedelta(days=OFFER_VALID_DAYS),
        }
        signed = days.get("withdrawal_period")
        if signed is not None:
            loan.update(signed_on=signed, borrower_signed_on=signed, lender_signed_on=signed,
                        ccas_signed_on=signed, lender_signatory="Luc Agent-Prêteur",
                        ccas_signatory="Claire Responsable",
                        withdrawal_ends_on=signed + timedelta(days=WITHDRAWAL_DAYS))
        if days.get("withdrawn"):
            loan["withdrawn_on"] = days["withdrawn"]
        disbursed = days.get("disbursed")
        if disbursed is not None:
            lent += case.amount
            status = _repayments(rng, case, loan, today, installments, repayments, severe)
            if status == LoanStatus.defaulted:
                loss, loan_calls = loan["default_outstanding"], {}
                for call in compute_calls(loss, layers_from_settings(conf), lent, called):
                    if call.guarantor == LENDER or call.amount <= 0:
                        continue
                    called[call.guarantor] += call.amount
                    calls.append({"id": new_id(rng), "loan_id": loan_id,
                                  "guarantor": call.guarantor, "label": call.label,
                                  "amount": call.amount, "basis": loss,
                                  "called_on": loan["default_declared_on"]})
                    loan_calls[call.guarantor] = call.amount
                _write_off(rng, loan, loan_calls, today, recoveries, shares)
        if status == LoanStatus.repaying and loan.get("late_since") \
                and loan["late_since"] + threshold <= today:
            loan["default_proposed_on"] = loan["late_since"] + threshold
        loan["status"] = status
        statuses[status] += 1
        loans.append(loan)
    insert_rows(session, FicpCheck, checks)
    insert_rows(session, Loan, loans)
    insert_rows(session, Installment, installments)
    insert_rows(session, Repayment, repayments)
    insert_rows(session, GuaranteeCall, calls)
    insert_rows(session, Recovery, recoveries)
    insert_rows(session, RecoveryShare, shares)
    late = sum(1 for loan in loans if loan.get("late_since") and loan["status"]
               == LoanStatus.repaying)
    return {
        "Contrôles FICP": len(checks),
        "Prêts": len(loans),
        **{f"  {LOAN_STATUS_LABELS[s]}": n for s, n in sorted(statuses.items())},
        "Prêts en retard aujourd'hui": late,
        "Remboursements": len(repayments),
        "Appels en garantie": len(calls),
        "Défaillances proposées": sum(1 for loan in loans if loan.get("default_proposed_on")),
        "Prêts passés en perte": sum(1 for loan in loans if loan.get("written_off_on")),
        "Recouvrements": len(recoveries),
    }


def _write_off(rng, loan: dict, calls: dict, today: date, recoveries: list,
               shares: list) -> None:
    """A default declared two months ago or more is written off a month later; half of
    the written-off loans see some money recovered, returned pro rata, and always the
    first one, so that every demo shows a recovery whatever day it is built on."""
    declared = loan["default_declared_on"]
    if declared + timedelta(days=60) > today:
        return
    written_off = declared + timedelta(days=rng.randint(25, 40))
    loan["written_off_on"] = written_off
    loss = loan["default_outstanding"]
    draw = rng.random()  # drawn for every loan, the first included
    if loss <= 0 or (recoveries and draw < 0.5):
        return
    received = min(today, written_off + timedelta(days=rng.randint(15, 120)))
    amount = (loss * Decimal(rng.randint(10, 30)) / 100).quantize(Decimal("0.01"))
    recovery_id = new_id(rng)
    recoveries.append({"id": recovery_id, "loan_id": loan["id"], "received_on": received,
                       "amount": amount, "recorded_by_id": loan.get("decided_by_id")})
    for party, part in recovery_split(amount, loss_shares(loss, calls)).items():
        shares.append({"id": new_id(rng), "recovery_id": recovery_id, "loan_id": loan["id"],
                       "party": party, "amount": part})


def _check(rng, case) -> dict | None:
    days = case.days
    if "ficp_pending" not in days:
        return None
    if "ficp_registered" in days:
        result, on = "registered", days["ficp_registered"]
    elif "documents_requested" in days:
        result, on = "clear", days["documents_requested"] - timedelta(days=rng.randint(0, 1))
    elif case.state == "ficp_pending" and rng.random() < 0.6:
        result, on = "clear", case.days["ficp_pending"]  # the secretary calls back
    else:
        return None  # still in the lender's queue
    on = max(on, days["ficp_pending"])
    # recorded the day of the check (mid-morning, not after now): the page of recent
    # checks lists them by that instant
    recorded = min(datetime.combine(on, time(10), UTC), utcnow() - timedelta(minutes=1))
    return {"id": new_id(rng), "case_id": case.id, "result": result,
            "checked_on": on, "source": "manual", "recorded_at": recorded,
            "agent_id": case.lender_agent_id, "agent_label": "Luc Agent-Prêteur"}


def _repayments(rng, case, loan: dict, today: date, installments: list,
                repayments: list, severe: list) -> LoanStatus:
    """Schedule and repayments of a disbursed loan; returns its status."""
    days = case.days
    disbursed = days["disbursed"]
    schedule = build_schedule(case.amount, case.months, loan["annual_rate"],
                              start_date=disbursed, method=loan["method"],
                              subsidy_share=loan["subsidy_share"])
    loan.update(disbursed_on=disbursed, due_day=schedule.due_day)
    rows = [Row(n, r.due_date, r.payment, r.principal, r.interest, r.subsidy,
                r.borrower_payment, r.balance)
            for n, r in enumerate(schedule.installments, start=1)]
    closed = days.get("closed")
    reason = case.reasons.get("closed")
    until = min(today, closed) if closed else today
    due = [r for r in rows if r.due_date <= until]
    fate = case.fate or "on_time"
    if fate == "defaulted":
        paying = due[:case.paid_instalments or 0]
    elif fate == "late" and not closed:
        # the first late borrower of a round is badly behind: a default is proposed
        missed = 4 if not severe else rng.choice((1, 1, 2, 3))
        severe.append(case.id)
        paying = due[:max(0, len(due) - missed)]
    else:
        paying = due
    paid = {"regular": ZERO, "interest": ZERO, "principal": ZERO, "last": None}
    for row in paying:
        delay = rng.randint(5, 25) if fate == "late" and rng.random() < 0.3 else \
            rng.randint(0, 2)
        on = min(until, max(row.due_date + timedelta(days=delay),
                            paid["last"] or row.due_date))
        interest = row.interest - row.subsidy
        repayments.append(_repayment(rng, loan, on, row.borrower_payment, interest,
                                     row.borrower_payment - interest))
        paid["regular"] += row.borrower_payment
        paid["interest"] += interest
        paid["principal"] += row.borrower_payment - interest
        paid["last"] = on
    status = LoanStatus.repaying
    if closed and reason == "early_repayment":
        ledger = Ledger(case.amount, loan["annual_rate"], loan["method"],
                        loan["subsidy_share"], schedule.due_day, list(rows),
                        paid["regular"], paid["interest"], paid["principal"], paid["last"],
                        disbursed)
        amount = ledger.payoff(closed)
        allocation = ledger.apply(closed, amount)
        repayments.append(_repayment(rng, loan, closed, amount, allocation.interest_part,
                                     allocation.principal_part, early=allocation.early))
        rows = ledger.rows
        status = LoanStatus.repaid
    elif closed and reason == "default":
        loan.update(default_declared_on=closed,
                    default_outstanding=case.amount - paid["principal"])
        status = LoanStatus.defaulted
    elif closed:
        status = LoanStatus.repaid
    if closed:
        loan["closed_on"] = closed
    unpaid = [r for r in rows[len(paying):] if r.due_date < today]
    if status == LoanStatus.repaying and unpaid:
        loan["late_since"] = unpaid[0].due_date
        loan["late_alerted_at"] = None
    for row in rows:
        installments.append({
            "id": new_id(rng), "loan_id": loan["id"], "number": row.number,
            "due_date": row.due_date, "payment": row.payment, "principal": row.principal,
            "interest": row.interest, "subsidy": row.subsidy,
            "borrower_payment": row.borrower_payment, "balance": row.balance,
        })
    return status


def _repayment(rng, loan: dict, on: date, amount, interest, principal, early=ZERO) -> dict:
    return {"id": new_id(rng), "loan_id": loan["id"], "paid_on": on, "amount": amount,
            "source": "manual", "interest_part": interest, "principal_part": principal,
            "early": early, "recorded_by_id": loan.get("decided_by_id")}
