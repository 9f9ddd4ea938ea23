"""Delinquency as lenders track it: ageing buckets, and defaults proposed by rule.

* :func:`ageing` is PURE: loans late by 1-30, 31-60, 61-90 and more than 90 days, with
  their count and outstanding principal per bucket.
* :func:`positions_as_of` gives (outstanding, days past due) per loan of the portfolio on
  a day, in SQL (one query, a window sum over the live instalments): the dashboard, the
  reports and the portfolio over time use it. Past days are read on the live schedules
  (a loan rescheduled since is read on its new schedule).
* :func:`propose_defaults` marks the loans late by at least the plugin setting
  ``default_after_days`` (a default *proposed* by rule, the lender agent declares it),
  and lifts a proposal when the loan is no longer that late. The worker runs it daily
  (scheduled job ``credit_municipal.defaults``, 04:30); by hand:
  ``ccas credit-municipal propose-defaults --tenant SLUG``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, bindparam, func, or_, select

from core.plugin_api import enqueue_email, record_audit

from .arrears import _paid_by_loan, active_on
from .models import Installment, Loan, LoanStatus

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

#: (code, first day, last day or None) of each ageing bucket.
BUCKETS = (("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))
BUCKET_LABELS = {
    "1-30": "1 à 30 jours",
    "31-60": "31 à 60 jours",
    "61-90": "61 à 90 jours",
    "90+": "Plus de 90 jours",
}


@dataclass(frozen=True)
class Bucket:
    code: str
    count: int
    outstanding: Decimal

    @property
    def label(self) -> str:
        return BUCKET_LABELS[self.code]


def bucket_of(days_past_due: int) -> str | None:
    """The bucket of a loan late by ``days_past_due`` days (``None`` when up to date)."""
    for code, low, high in BUCKETS:
        if days_past_due >= low and (high is None or days_past_due <= high):
            return code
    return None


def ageing(positions: Iterable[tuple[Decimal, int]]) -> list[Bucket]:
    """Count and outstanding principal per bucket (PURE), every bucket listed."""
    counts = {code: 0 for code, _l, _h in BUCKETS}
    amounts = {code: ZERO for code, _l, _h in BUCKETS}
    for outstanding, days in positions:
        code = bucket_of(days)
        if code is not None:
            counts[code] += 1
            amounts[code] += outstanding
    return [Bucket(code, counts[code], amounts[code]) for code, _l, _h in BUCKETS]


def ageing_data(buckets: list[Bucket]) -> dict:
    """JSON-ready: ``{code: {"count": n, "outstanding": "12.34"}}`` (one dict per bucket,
    so the funders' view hides a small bucket's amount with its count)."""
    return {b.code: {"count": b.count, "outstanding": f"{b.outstanding:.2f}"}
            for b in buckets}


def positions_as_of(session, on: date, entities: bool = True) -> list[tuple]:
    """(loan, outstanding principal, days past due) of each loan in the portfolio on
    ``on``: disbursed by then, not defaulted by then, not settled by then (the loan's id
    instead of the loan with ``entities=False``: lighter for many dates)."""
    rows = session.execute(_positions_select(entities), {"on": on}).all()
    out = []
    for loan, outstanding, oldest_due in rows:
        amount = Decimal(str(outstanding)).quantize(CENT)
        if amount <= 0:
            continue
        days = (on - oldest_due).days if oldest_due is not None and oldest_due < on else 0
        out.append((loan, amount, days))
    return out


@functools.cache
def _positions_select(entities: bool):
    """The statement of :func:`positions_as_of`, built once (the day a parameter,
    ``:on``): building it per call cost more than the dashboard's other blocks; the
    tenant's criteria are still added at each execution, as to any ORM statement."""
    on = bindparam("on", type_=Date)
    paid = _paid_by_loan(on)
    running = (
        select(
            Installment.loan_id.label("loan_id"),
            Installment.due_date.label("due_date"),
            func.sum(Installment.borrower_payment).over(
                partition_by=Installment.loan_id, order_by=Installment.number,
            ).label("cumulative"),
        ).subquery()
    )
    oldest = (
        select(running.c.loan_id, func.min(running.c.due_date).label("oldest"))
        .select_from(running)
        .outerjoin(paid, paid.c.loan_id == running.c.loan_id)
        .where(running.c.cumulative > func.coalesce(paid.c.regular, 0))
        .group_by(running.c.loan_id)
        .subquery()
    )
    return (
        select(Loan if entities else Loan.id, Loan.amount - func.coalesce(paid.c.principal, 0),
               oldest.c.oldest)
        .outerjoin(paid, paid.c.loan_id == Loan.id)
        .outerjoin(oldest, oldest.c.loan_id == Loan.id)
        .where(active_on(on), or_(Loan.closed_on.is_(None), Loan.closed_on > on))
        .order_by(Loan.reference)
    )


def ageing_on(session, on: date) -> list[Bucket]:
    # the loans' ids, not the loans: the buckets need only the amounts and the days
    return ageing((amount, days) for _loan, amount, days
                  in positions_as_of(session, on, entities=False))


def propose_defaults(session, tenant, today: date) -> tuple[list[Loan], list[Loan]]:
    """Propose a default on every loan being repaid late by at least the setting
    ``default_after_days``; lift the proposals of loans no longer that late. Returns
    (proposed now, lifted). Tells the lender once per proposal (e-mail to its contact
    address). Nothing is committed."""
    from . import loans as loan_service

    conf = loan_service.settings()
    threshold = int(conf["default_after_days"])
    proposed, lifted = [], []
    for loan, _amount, days in positions_as_of(session, today):
        if loan.status != LoanStatus.repaying:
            continue
        if days >= threshold and loan.default_proposed_on is None:
            loan.default_proposed_on = today
            proposed.append(loan)
            record_audit(session, "loan.default_proposed", loan, days_past_due=days,
                         threshold=threshold)
            loan_service.emit(loan, "default_proposed", {"days_past_due": days,
                                                         "threshold": threshold})
            if conf.get("contact_email"):
                enqueue_email(
                    session, conf["contact_email"],
                    f"Défaillance proposée – prêt {loan.reference}",
                    f"Le prêt {loan.reference} a {days} jours de retard (seuil : "
                    f"{threshold} jours). Une défaillance est proposée : déclarez-la ou "
                    f"proposez un réaménagement depuis la page du prêt.\n",
                    topic=f"credit_municipal.default_proposed.{loan.id}",
                )
        elif days < threshold and loan.default_proposed_on is not None:
            loan.default_proposed_on = None
            lifted.append(loan)
    session.flush()
    return proposed, lifted
