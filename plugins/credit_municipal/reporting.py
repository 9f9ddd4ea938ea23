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

Each amount comes with the count it derives from (``derived_from``: amount key → count
key), so that the funders' view hides an amount whose count it shows as ``"< 5"``
(``core.reports.suppression``): ``disbursed`` for the amounts lent, ``active_loans`` (loans
running at the end of the year) for the outstanding principal and PAR30,
``guarantee_call_loans`` (defaulted loans with a call in the year) for the calls, and per
guarantor ``guarantee_call_loans_by_guarantor``, ``subsidised_loans`` (loans with an
instalment due in the year) for the City's cost.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from core.plugin_api import Figure, ReportSection, local_today

from .arrears import active_on, portfolio_at_risk
from .delinquency import BUCKET_LABELS, ageing, ageing_data, ageing_on
from .models import PARTY_LABELS, GuaranteeCall, Installment, Loan
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
    call_rows = session.execute(
        select(GuaranteeCall.guarantor, func.sum(GuaranteeCall.amount),
               func.count(func.distinct(GuaranteeCall.loan_id)))
        .where(GuaranteeCall.called_on.between(start, end))
        .group_by(GuaranteeCall.guarantor)
    ).all()
    calls = {guarantor: amount for guarantor, amount, _n in call_rows}
    call_loans = session.scalar(
        select(func.count(func.distinct(GuaranteeCall.loan_id)))
        .where(GuaranteeCall.called_on.between(start, end)))
    active = session.scalar(select(func.count()).select_from(Loan).where(active_on(as_of))) \
        if as_of >= start else 0
    subsidised = session.scalar(
        select(func.count(func.distinct(Installment.loan_id)))
        .where(Installment.due_date.between(start, end)))
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
        # each bucket's amount hides with its count in the funders' view
        "ageing": {code: {**bucket, "derived_from": {"outstanding": "count"}}
                   for code, bucket in ageing_data(buckets).items()},
        "active_loans": active,
        "guarantee_call_loans": call_loans,
        "guarantee_call_loans_by_guarantor": {g: n for g, _a, n in sorted(call_rows)},
        "subsidised_loans": subsidised,
        "derived_from": DERIVED_FROM,
    }


#: Each amount of the section and the count it derives from (``core.reports.suppression``).
DERIVED_FROM = {
    "amount_lent": "disbursed",
    "average": "disbursed",
    "outstanding": "active_loans",
    "par30": "active_loans",
    "guarantee_calls": "guarantee_call_loans",
    "guarantee_calls_by_guarantor": "guarantee_call_loans_by_guarantor",
    "city_subsidy_cost": "subsidised_loans",
}


def report_section(tenant, year: int, session) -> ReportSection:
    from . import loans as loan_service
    from .declarations import fcs_totals_for_funders

    today = local_today(tenant)
    figures = loan_figures(session, int(year), today)
    figures["fcs_statement"] = fcs_totals_for_funders(session, loan_service.settings(),
                                                      int(year), today)
    return ReportSection("credit_municipal", "Crédit Municipal", data={"loans": figures},
                         figures=tuple(labelled(figures)))


def labelled(figures: dict) -> list[Figure]:
    """The section's figures as the review shows them, each amount with the number of
    loans it derives from, read through ``DERIVED_FROM`` (the same pairs as the data's),
    so that the funders' view hides it with them."""

    def amount(label: str, key: str, kind: str = "money") -> Figure:
        value = figures[key]
        return Figure(label, None if value is None else Decimal(value), kind,
                      basis=figures[DERIVED_FROM[key]])

    by_guarantor = figures[DERIVED_FROM["guarantee_calls_by_guarantor"]]
    out = [
        Figure("Prêts accordés dans l'année", figures["granted"]),
        Figure("Prêts décaissés dans l'année", figures["disbursed"]),
        amount("Montant prêté", "amount_lent"),
        amount("Montant moyen d'un prêt", "average"),
        Figure("Prêts en cours de remboursement", figures["active_loans"]),
        amount("Capital restant dû (encours)", "outstanding"),
        amount("Portefeuille à risque à 30 jours (PAR30)", "par30", "percent"),
        Figure("Défaillances déclarées", figures["defaults"]),
        amount("Appels en garantie", "guarantee_calls"),
    ]
    out += [Figure(PARTY_LABELS.get(code, "Autre garant"), Decimal(value), "money",
                   basis=by_guarantor.get(code, 0), group="Appels en garantie, par garant")
            for code, value in figures["guarantee_calls_by_guarantor"].items()]
    out.append(amount("Coût de la bonification pour la Ville", "city_subsidy_cost"))
    for code, bucket in figures["ageing"].items():
        label = BUCKET_LABELS.get(code, code)
        out.append(Figure(label, bucket["count"], group="Prêts en retard, par ancienneté"))
        out.append(Figure(f"{label} : capital restant dû", Decimal(bucket["outstanding"]),
                          "money", basis=bucket["count"],
                          group="Prêts en retard, par ancienneté"))
    return out
