"""The yearly statements funders ask for, with French headers, as CSV, XLSX or PDF.

* **Fonds de cohésion sociale** (guarantee statement): per loan, for the guarantor (which
  holds that right under the guarantee agreement): loan reference, disbursement, amount,
  outstanding at the end of the year (today for the current year), the part guaranteed
  (``fcs_guarantee`` % of it), the default declared in the year, the fund's call and the
  recoveries returned to it in the year; then the totals. The funders' view of the yearly
  review carries the totals only (``loans.fcs_statement``, small counts suppressed).
* **City** (subsidy statement): per loan, the interest the City pays on the instalments
  due in the year (past and, for the current year, forecast), and the City's guarantee
  calls and recoveries of the year; then the totals.

The figures reconcile with the yearly review: outstanding, defaults and calls by
guarantor of the lender's section, and its ``city_subsidy_cost``
(``tests/test_declarations.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Integer, and_, cast, extract, func, select

from core.plugin_api import ReportTable, money_cell

from .delinquency import positions_as_of
from .models import GuaranteeCall, Installment, Loan, LoanStatus, RecoveryShare
from .subsidy import _counted

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
FORMATS = ("csv", "xlsx", "pdf")
KINDS = {"fonds-cohesion-sociale": "Fonds de cohésion sociale", "ville": "Ville"}


@dataclass
class Statement:
    title: str
    summary: ReportTable
    loans: ReportTable
    totals: dict

    def document(self) -> dict:
        return {"title": self.title, "tables": [self.summary, self.loans]}


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def _by_loan(session, column, *where) -> dict:
    return {loan_id: _money(total) for loan_id, total in session.execute(
        select(column.table.c.loan_id, func.sum(column)).where(*where)
        .group_by(column.table.c.loan_id)).all()}


def fcs_statement(session, conf: dict, tenant_name: str, year: int, today: date) -> Statement:
    start, end = date(year, 1, 1), date(year, 12, 31)
    as_of = min(end, today)
    share = Decimal(conf["fcs_guarantee"])
    outstanding = {loan.id: (loan, amount) for loan, amount, _d in
                   positions_as_of(session, as_of)} if as_of >= start else {}
    calls = _by_loan(session, GuaranteeCall.__table__.c.amount,
                     GuaranteeCall.guarantor == "fcs",
                     GuaranteeCall.called_on.between(start, end))
    recovered = _by_loan(session, RecoveryShare.__table__.c.amount, RecoveryShare.party == "fcs",
                         RecoveryShare.recovery_id.in_(_recoveries_between(start, end)))
    defaulted = {loan.id: loan for loan in session.scalars(
        select(Loan).where(Loan.default_declared_on.between(start, end)))}
    ids = set(outstanding) | set(calls) | set(recovered) | set(defaulted)
    loans = {loan.id: loan for loan in session.scalars(select(Loan).where(Loan.id.in_(ids)))}
    rows, totals = [], {"loans": 0, "outstanding": ZERO, "guaranteed": ZERO, "defaults": 0,
                        "calls": ZERO, "recovered": ZERO}
    for loan in sorted(loans.values(), key=lambda item: item.reference):
        owed = outstanding.get(loan.id, (loan, ZERO))[1]
        guaranteed = (owed * share / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        default_day = loan.default_declared_on if loan.id in defaulted else None
        call, back = calls.get(loan.id, ZERO), recovered.get(loan.id, ZERO)
        rows.append([loan.reference, loan.disbursed_on.strftime("%d/%m/%Y"),
                     money_cell(loan.amount), money_cell(owed), money_cell(guaranteed),
                     default_day.strftime("%d/%m/%Y") if default_day else "",
                     money_cell(call), money_cell(back)])
        totals["loans"] += 1 if loan.id in outstanding else 0
        totals["outstanding"] += owed
        totals["guaranteed"] += guaranteed
        totals["defaults"] += 1 if default_day else 0
        totals["calls"] += call
        totals["recovered"] += back
    period = f"au {as_of:%d/%m/%Y}"
    summary = ReportTable("Synthèse", ["Indicateur", "Valeur"], [
        [f"Prêts garantis en cours {period}", totals["loans"]],
        [f"Encours {period}", money_cell(totals["outstanding"])],
        [f"Part garantie ({share:.0f} % de l'encours)", money_cell(totals["guaranteed"])],
        [f"Défaillances déclarées en {year}", totals["defaults"]],
        [f"Appels en garantie en {year}", money_cell(totals["calls"])],
        [f"Recouvrements reversés en {year}", money_cell(totals["recovered"])],
    ])
    table = ReportTable("Prêts garantis", [
        "Référence du prêt", "Date de décaissement", "Montant prêté", f"Encours {period}",
        "Part garantie", "Date de défaillance", "Appel en garantie",
        "Recouvrements reversés"], rows)
    return Statement(f"Fonds de cohésion sociale – état annuel {year} des garanties – "
                     f"{tenant_name}", summary, table, totals)


def _recoveries_between(start: date, end: date):
    from .models import Recovery

    return select(Recovery.id).where(Recovery.received_on.between(start, end))


def city_statement(session, conf: dict, tenant_name: str, year: int, today: date) -> Statement:
    start, end = date(year, 1, 1), date(year, 12, 31)
    due_year = cast(extract("year", Installment.due_date), Integer)
    subsidy_rows = session.execute(
        select(Installment.loan_id,
               func.sum(_when(Installment.due_date <= today, Installment.subsidy)),
               func.sum(_when(and_(Installment.due_date > today,
                                   Loan.status == LoanStatus.repaying), Installment.subsidy)))
        .join(Loan, Loan.id == Installment.loan_id)
        .where(_counted(), due_year == year)
        .group_by(Installment.loan_id)).all()
    subsidy = {loan_id: (_money(p), _money(f)) for loan_id, p, f in subsidy_rows}
    calls = _by_loan(session, GuaranteeCall.__table__.c.amount, GuaranteeCall.guarantor == "city",
                     GuaranteeCall.called_on.between(start, end))
    recovered = _by_loan(session, RecoveryShare.__table__.c.amount,
                         RecoveryShare.party == "city",
                         RecoveryShare.recovery_id.in_(_recoveries_between(start, end)))
    ids = {i for i, (p, f) in subsidy.items() if p or f} | set(calls) | set(recovered)
    loans = session.scalars(select(Loan).where(Loan.id.in_(ids))
                            .order_by(Loan.reference)).all()
    rows, totals = [], {"loans": 0, "past": ZERO, "forecast": ZERO, "calls": ZERO,
                        "recovered": ZERO}
    for loan in loans:
        past, forecast = subsidy.get(loan.id, (ZERO, ZERO))
        call, back = calls.get(loan.id, ZERO), recovered.get(loan.id, ZERO)
        rows.append([loan.reference, money_cell(loan.amount), money_cell(past),
                     money_cell(forecast), money_cell(past + forecast), money_cell(call),
                     money_cell(back)])
        totals["loans"] += 1 if past or forecast else 0
        totals["past"] += past
        totals["forecast"] += forecast
        totals["calls"] += call
        totals["recovered"] += back
    totals["subsidy"] = totals["past"] + totals["forecast"]
    summary = ReportTable("Synthèse", ["Indicateur", "Valeur"], [
        [f"Prêts bonifiés en {year}", totals["loans"]],
        [f"Intérêts pris en charge, échéances passées au {min(end, today):%d/%m/%Y}",
         money_cell(totals["past"])],
        ["Intérêts pris en charge, échéances à venir", money_cell(totals["forecast"])],
        [f"Bonification {year} (total)", money_cell(totals["subsidy"])],
        [f"Garantie de la Ville : appels en {year}", money_cell(totals["calls"])],
        [f"Recouvrements reversés à la Ville en {year}", money_cell(totals["recovered"])],
    ])
    table = ReportTable("Bonification par prêt", [
        "Référence du prêt", "Montant prêté", "Intérêts pris en charge (échus)",
        "Intérêts pris en charge (à venir)", f"Bonification {year}", "Appel en garantie",
        "Recouvrements reversés"], rows)
    return Statement(f"Ville – état annuel {year} de la bonification des intérêts et de la "
                     f"garantie – {tenant_name}", summary, table, totals)


def _when(condition, value):
    from sqlalchemy import case

    return func.coalesce(case((condition, value), else_=None), 0)


def fcs_totals_for_funders(session, conf: dict, year: int, today: date) -> dict:
    """The guarantee statement's totals, JSON-ready, for the yearly review (one dict: the
    funders' view hides its amounts when one of its counts is under 5)."""
    totals = fcs_statement(session, conf, "", year, today).totals
    out = {key: value if isinstance(value, int) else f"{value:.2f}"
           for key, value in totals.items()}
    # each amount with the count it derives from: the loans guaranteed, the defaults
    out["derived_from"] = {key: "loans" if key in ("outstanding", "guaranteed") else "defaults"
                           for key, value in totals.items() if not isinstance(value, int)}
    return out


def statement(session, conf: dict, tenant_name: str, kind: str, year: int,
              today: date) -> Statement:
    if kind == "ville":
        return city_statement(session, conf, tenant_name, year, today)
    return fcs_statement(session, conf, tenant_name, year, today)


