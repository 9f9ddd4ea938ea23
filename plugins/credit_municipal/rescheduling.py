"""Rescheduling a loan in difficulty: payment holiday and/or new duration.

The lender agent agrees it, with the social worker's opinion recorded (a coded opinion
and its reasons). The instalments the borrower has not fully paid are replaced by the
rows of :func:`core.plugin_api.reschedule` on their principal (the outstanding principal,
what an earlier partial payment covered of them still counting towards the new rows): the
overdue months interest only, then the holiday, then the new amortisation. The schedule
it replaced is kept in the :class:`~.models.Rescheduling` row (the schedule's versions:
1 at disbursement, 2 after the first rescheduling…), and the rider (avenant) is printed
from it. Rules checked here: a holiday of 0 to 3 months, at least one instalment, and the
new schedule (holiday included) at most the product's maximum duration from the
rescheduling (setting ``max_months``). Nothing is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, func, select

from core.plugin_api import (
    MAX_HOLIDAY_MONTHS,
    LoanInputError,
    UserError,
    add_months,
    record_audit,
    reschedule,
    round_apr,
)

from . import loans as loan_service
from .models import Installment, Loan, LoanStatus, Rescheduling

OPINIONS = {
    "favourable": "Favorable",
    "reserved": "Favorable avec réserves",
    "unfavourable": "Défavorable",
}
MAX_OPINION_TEXT = 2000


@dataclass(frozen=True)
class Request:
    holiday_months: int
    months: int
    opinion: str
    opinion_text: str


def _whole(raw, field: str, label: str) -> int:
    text = str(raw if raw is not None else "").strip()
    try:
        return int(text)
    except ValueError as exc:
        raise UserError(f"{label} : indiquez un nombre entier de mois.", status=422,
                        field=field) from exc


def parse_request(raw: dict, max_months: int) -> Request:
    """The rescheduling form, checked rule by rule (each error names its rule)."""
    holiday = _whole(raw.get("holiday_months") or "0", "holiday_months", "Report")
    if not 0 <= holiday <= MAX_HOLIDAY_MONTHS:
        raise UserError(f"Le report d'échéances dure de 1 à {MAX_HOLIDAY_MONTHS} mois "
                        f"(0 : pas de report).", status=422, field="holiday_months")
    months = _whole(raw.get("months"), "months", "Nouvelle durée")
    if months < 1:
        raise UserError("La nouvelle durée doit être d'au moins 1 mois.", status=422,
                        field="months")
    if holiday + months > max_months:
        raise UserError(
            f"Le nouvel échéancier ({holiday + months} mois, report compris) dépasse la "
            f"durée maximale du prêt ({max_months} mois).", status=422, field="months")
    opinion = str(raw.get("opinion") or "").strip()
    if opinion not in OPINIONS:
        raise UserError("Indiquez l'avis du travailleur social.", status=422,
                        field="opinion")
    text = str(raw.get("opinion_text") or "").strip()
    if len(text) > MAX_OPINION_TEXT:
        raise UserError(f"{MAX_OPINION_TEXT} caractères au plus.", status=422,
                        field="opinion_text")
    return Request(holiday, months, opinion, text)


def unpaid_rows(rows, regular_paid: Decimal) -> tuple[list, list]:
    """(kept, replaced): instalments fully covered by the regular payments, and the rest
    (PURE)."""
    covered, kept = Decimal("0.00"), []
    for row in rows:
        if covered + row.borrower_payment > regular_paid:
            break
        covered += row.borrower_payment
        kept.append(row)
    return kept, list(rows[len(kept):])


def next_due_date(replaced, due_day: int, on: date) -> date:
    """First due date after ``on`` on the loan's day: the first replaced instalment not
    yet due, or the month after ``on``."""
    for row in replaced:
        if row.due_date > on:
            return row.due_date
    candidate = add_months(on, 0, day_of_month=due_day)
    return candidate if candidate > on else add_months(on, 1, day_of_month=due_day)


def schedule_rows_json(rows) -> list[dict]:
    return [{"number": r.number, "due_date": r.due_date.isoformat(),
             "payment": f"{r.payment:.2f}", "principal": f"{r.principal:.2f}",
             "interest": f"{r.interest:.2f}", "subsidy": f"{r.subsidy:.2f}",
             "borrower_payment": f"{r.borrower_payment:.2f}", "balance": f"{r.balance:.2f}"}
            for r in rows]


def rows_from_json(data: list[dict]):
    from .repayments import Row

    return [Row(d["number"], date.fromisoformat(d["due_date"]), Decimal(d["payment"]),
                Decimal(d["principal"]), Decimal(d["interest"]), Decimal(d["subsidy"]),
                Decimal(d["borrower_payment"]), Decimal(d["balance"])) for d in data]


def versions(session, loan: Loan) -> list[Rescheduling]:
    return list(session.scalars(
        select(Rescheduling).where(Rescheduling.loan_id == loan.id)
        .order_by(Rescheduling.version)))


def preview(session, loan: Loan, request: Request, on: date):
    """The rows the rescheduling would write, without writing: (ledger, kept, rescheduling)."""
    from .repayments import ledger_of

    if loan.status != LoanStatus.repaying:
        raise UserError("Seul un prêt en remboursement peut être réaménagé.", status=422)
    ledger = ledger_of(session, loan)
    kept, replaced = unpaid_rows(ledger.rows, ledger.regular_paid)
    if not replaced:
        raise UserError("Toutes les échéances sont réglées : rien à réaménager.", status=422)
    principal = sum((r.principal for r in replaced), Decimal("0.00"))
    overdue = [r.due_date for r in replaced if r.due_date <= on]
    try:
        new = reschedule(
            principal, loan.annual_rate, next_due_date=next_due_date(replaced, loan.due_day, on),
            months=request.months, holiday_months=request.holiday_months,
            overdue_due_dates=overdue, method=loan.method, subsidy_share=loan.subsidy_share,
            due_day=loan.due_day, first_number=replaced[0].number,
        )
    except LoanInputError as exc:  # pragma: no cover - the request was checked
        raise UserError("Réaménagement impossible avec ces conditions.", status=422,
                        field=exc.field) from exc
    return ledger, kept, new


def reschedule_loan(session, loan: Loan, raw: dict, actor) -> Rescheduling:
    """Agree a rescheduling: new schedule version, the old one kept, audit and event."""
    request = parse_request(raw, loan_service.settings()["max_months"])
    on = loan_service.today()
    ledger, kept, new = preview(session, loan, request, on)
    version = 2 + (session.scalar(select(func.count()).select_from(Rescheduling)
                                  .where(Rescheduling.loan_id == loan.id)) or 0)
    record = Rescheduling(
        loan_id=loan.id, version=version, agreed_on=on,
        agreed_by_id=getattr(actor, "id", None), holiday_months=request.holiday_months,
        months=request.months, overdue_months=new.overdue_months,
        first_number=new.rows[0].number, outstanding=new.outstanding,
        installment=new.installment, apr=round_apr(new.apr), last_due_date=new.last_due_date,
        opinion=request.opinion, opinion_text=request.opinion_text,
        previous_schedule=schedule_rows_json(ledger.rows),
    )
    session.add(record)
    session.execute(delete(Installment).where(Installment.loan_id == loan.id,
                                              Installment.number >= new.rows[0].number))
    loan_service.write_installments(session, loan, new.rows, new.rows[0].number)
    from .arrears import loan_arrears

    rows = list(kept) + list(new.rows)
    if loan_arrears(rows, ledger.regular_paid, on).days_past_due == 0:
        loan.late_since = None
        loan.default_proposed_on = None
    session.flush()
    detail = {"version": record.version, "holiday_months": request.holiday_months,
              "months": request.months, "outstanding": f"{new.outstanding:.2f}",
              "installment": f"{new.installment:.2f}", "apr": f"{record.apr:.2f}",
              "opinion": request.opinion}
    record_audit(session, "loan.rescheduled", loan, actor=actor, **detail)
    loan_service.emit(loan, "rescheduled", detail)
    return record
