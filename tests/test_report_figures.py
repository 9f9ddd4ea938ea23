"""Typed report figures: plugin sections labelled and formatted, the lender's figures read
under the core's keys, and the funders' view hiding an amount with the count it derives
from (security finding 8: one default's loss was readable)."""

from dataclasses import asdict
from decimal import Decimal

from core.plugin_api import Figure
from core.reports import funder_view
from core.reports.export import fmt, tables
from core.reports.suppression import HIDDEN, SMALL
from core.reports.yearly import loans_figures


def _report(figures, loans=None):
    return {"year": 2026, "tenant": "x", "requests": 40, "loans": loans or {},
            "sections": {"credit_municipal": {"title": "Crédit Municipal", "data": {},
                                              "figures": [asdict(f) for f in figures]}}}


def _rows(report, title):
    table = next(t for t in tables(report) if t.title == title)
    return [[label, fmt(value)] for label, value in table.rows]


def test_a_section_shows_its_figures_labelled_and_formatted():
    report = _report([
        Figure("Prêts décaissés", 12),
        Figure("Montant prêté", Decimal("30200.5"), "money", basis=12),
        Figure("PAR30", Decimal("3.04"), "percent", basis=12),
        Figure("Ville", Decimal("2370.15"), "money", basis=6, group="Par garant"),
    ])
    assert _rows(report, "Crédit Municipal") == [
        ["Prêts décaissés", "12"], ["Montant prêté", "30\u202f200,50\u00a0€"],
        ["PAR30", "3,04\u00a0%"], ["Par garant – Ville", "2\u202f370,15\u00a0€"]]


def test_the_funders_view_hides_an_amount_with_the_small_count_it_derives_from():
    report = _report([
        Figure("Défaillances", 1),
        Figure("Appels en garantie", Decimal("2370.15"), "money", basis=1),
        Figure("Ville", Decimal("2370.15"), "money", basis=1, group="Par garant"),
        Figure("Sans base connue", Decimal("10"), "money"),
        Figure("Montant prêté", Decimal("30200.50"), "money", basis=12),
    ], loans={"count": 12, "defaults": 1, "guarantee_calls": "2370.15",
              "guarantee_calls_by_guarantor": {"city": "2370.15"},
              "guarantee_call_loans": 1, "guarantee_call_loans_by_guarantor": {"city": 1},
              "derived_from": {"guarantee_calls": "guarantee_call_loans",
                               "guarantee_calls_by_guarantor":
                               "guarantee_call_loans_by_guarantor"}})
    view = funder_view(report)
    values = [f["value"] for f in view["sections"]["credit_municipal"]["figures"]]
    assert values == [SMALL, HIDDEN, HIDDEN, HIDDEN, Decimal("30200.50")]
    assert view["loans"]["guarantee_calls"] == HIDDEN
    assert view["loans"]["guarantee_calls_by_guarantor"] == {"city": HIDDEN}
    shown = " ".join(str(cell) for table in tables(view) for row in table.rows for cell in row)
    assert "2370" not in repr(view) and "2370" not in shown.replace("\u202f", "")


def test_counts_of_a_group_are_masked_like_a_distribution():
    report = _report([Figure("Reçues", 2, group="Par statut"),
                      Figure("Acceptées", 7, group="Par statut"),
                      Figure("Déclinées", 30, group="Par statut")])
    values = [f["value"] for f in funder_view(report)["sections"]["credit_municipal"]["figures"]]
    # the small cell, and the next smallest so that it cannot be recomputed from a total
    assert values == [SMALL, HIDDEN, 30]


def test_the_lenders_figures_are_read_under_the_cores_keys():
    section = type("S", (), {"data": {"loans": {
        "granted": 9, "average": "900.00", "outstanding": "5000.00",
        "city_subsidy_cost": "120.00"}}})()
    loans = loans_figures({"count": 3}, {"credit_municipal": section})
    assert loans["count"] == 9 and loans["portfolio_outstanding"] == "5000.00"
    assert loans["subsidy_cost"] == "120.00" and loans["average_amount"] == "900.00"
    rows = dict(_rows({"year": 2026, "loans": loans}, "Prêts"))
    assert rows["Encours (€)"] == "5\u202f000,00\u00a0€"
    assert rows["Coût de la bonification pour la Ville (€)"] == "120,00\u00a0€"
    assert "source" not in repr(rows)
