"""The lender's section of the yearly review (``ccas_report_sections``), aggregated in SQL.

``data["loans"]`` (the reports map it to the review's top-level ``"loans"``); money as
strings with two decimals, as everywhere in the JSON:

* ``granted``: loans granted in the year (count); ``disbursed``: loans disbursed (count);
* ``amount_lent``: total disbursed in the year; ``average``: its average per loan;
* ``outstanding``: principal still owed at the end of the year (today for the current
  year); ``par30``: share of it held by loans with an instalment more than 30 days late,
  in percent with two decimals (``None`` when nothing is outstanding);
* ``defaults``: defaults declared in the year (count);
* ``guarantee_calls``: total called in the year, and ``guarantee_calls_by_guarantor``;
* ``city_subsidy_cost``: interest paid by the City on instalments due in the year (the
  forecast part included for the current and later years);
* ``ageing``: loans late at the end of the year (today for the current year) by bucket,
  ``{"1-30" | "31-60" | "61-90" | "90+": {"count", "outstanding"}}`` (the funders' view
  shows a count under 5 as ``"< 5"`` and hides that bucket's amount);
* ``fcs_statement``: the totals of the Fonds de cohésion sociale's yearly statement
  (``declarations.py``): ``loans``, ``outstanding``, ``guaranteed``, ``defaults``,
  ``calls``, ``recovered``.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from core.plugin_api import ReportSection, local_today

from .arrears import portfolio_at_risk
from .delinquency import ageing, ageing_data, ageing_on
from .models import GuaranteeCall, Loan
from .subsidy import cost_of_year

CENT = Decimal("0.01")


def _money(value) -> str:
    return f"{Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP):f}"


def loan_figures(session, year: int, today: date) -> dict:
    start, end = date(year, 1, 1), date(year, 12, 31)
    as_of = min(end, today)
    granted = session.scalar(select(func.count()).select_from(Loan)
                             .where(Loan.decided_on.between(start, end)))
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(Loan.amount), 0))
        .where(Loan.disbursed_on.between(start, end))
    ).one()
    total = Decimal(str(total))
    risk = portfolio_at_risk(session, as_of) if as_of >= start else {
        "outstanding": Decimal(0), "par": None}
    defaults = session.scalar(select(func.count()).select_from(Loan)
                              .where(Loan.default_declared_on.between(start, end)))
    calls = dict(session.execute(
        select(GuaranteeCall.guarantor, func.sum(GuaranteeCall.amount))
        .where(GuaranteeCall.called_on.between(start, end))
        .group_by(GuaranteeCall.guarantor)
    ).all())
    par = risk["par"]
    buckets = ageing_on(session, as_of) if as_of >= start else ageing([])
    return {
        "granted": granted,
        "disbursed": count,
        "amount_lent": _money(total),
        "average": _money(total / count) if count else _money(0),
        "outstanding": _money(risk["outstanding"]),
        "par30": None if par is None else f"{(par * 100).quantize(CENT):f}",
        "defaults": defaults,
        "guarantee_calls": _money(sum((Decimal(str(v)) for v in calls.values()), Decimal(0))),
        "guarantee_calls_by_guarantor": {k: _money(v) for k, v in sorted(calls.items())},
        "city_subsidy_cost": _money(cost_of_year(session, year, today).total),
        "ageing": ageing_data(buckets),
    }


def report_section(tenant, year: int, session) -> ReportSection:
    from . import loans as loan_service
    from .declarations import fcs_totals_for_funders

    figures = loan_figures(session, int(year), local_today(tenant))
    figures["fcs_statement"] = fcs_totals_for_funders(session, loan_service.settings(),
                                                      int(year), local_today(tenant))
    return ReportSection("credit_municipal", "Crédit Municipal", data={"loans": figures})
