"""Exports of a report: every format carries the same figures; funder exports carry the
suppressed ones."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.reports import funder_view
from core.reports.export import FORMATS, export, fmt, tables


@pytest.fixture
def report():
    return {
        "tenant": "alpha", "tenant_name": "CCAS Alpha", "year": 2018,
        "requests": 4838, "instructions": 1914, "granted": 559,
        "purposes": {"mobility": 57.0, "housing": 18.5, "debts": 11.6, "training": 4.5,
                     "household_equipment": 3.0, "health": 2.0, "employment": 1.4,
                     "other": 2.0},
        "purpose_counts": {"mobility": 2758, "housing": 895, "debts": 561, "training": 218,
                           "household_equipment": 145, "health": 97, "employment": 68,
                           "other": 96},
        "monthly_requests": [400] * 11 + [438],
        "applicants": {"age": {"under_25": 1500, "25_34": 1800, "unknown": 1538},
                       "employment": {"cdd": 2000, "unknown": 2838}},
        "delays": {"intake_to_decision": {"count": 559, "median": 42.5, "p90": 80}},
        "reorientations": {"total": 3, "by_destination": {"aide_legale": 3}},
        "partners": {"total": 12, "by_partner": {"CAF": {"cases": 12, "outcomes": {
            "in_progress": 2, "granted": 6, "refused": 4, "reoriented": 0, "abandoned": 0}}}},
        "loans": {"count": 559, "amount_lent": Decimal("1006200.00"),
                  "average_amount": Decimal("1800.00"), "average_months": 30.1,
                  "portfolio_outstanding": None, "source": "transitions"},
        "sections": {"caf": {"title": "CAF", "data": {"aids_proposed": 40}}},
    }


def test_json_keeps_every_key_and_writes_money_as_exact_strings(report):
    data = json.loads(export(report, "json"))
    assert data["requests"] == 4838 and data["purposes"]["housing"] == 18.5
    assert data["loans"]["amount_lent"] == "1006200.00"
    assert data["sections"]["caf"]["data"]["aids_proposed"] == 40


def test_csv_is_long_format_with_semicolons_decimal_commas_and_bom(report):
    content = export(report, "csv")
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["rubrique", "élément", "mesure", "valeur"]
    assert ["Synthèse", "Demandes", "Valeur", "4838"] in rows
    assert ["Objets des demandes", "Logement", "Part (%)", "18,5"] in rows
    assert ["Prêts", "Montant prêté (€)", "Valeur", "1006200,00"] in rows
    # a section without typed figures falls back to its data's keys
    assert ["CAF", "aids_proposed", "Valeur", "40"] in rows


def test_xlsx_has_a_sheet_per_table_with_numbers_as_numbers(report):
    book = load_workbook(io.BytesIO(export(report, "xlsx")))
    assert book.sheetnames[0] == "Synthèse"
    assert "Objets des demandes" in book.sheetnames
    purposes = book["Objets des demandes"]
    rows = list(purposes.iter_rows(min_row=4, values_only=True))
    assert rows[0] == ("Mobilité", 2758, 57.0)
    loans = {r[0]: r[1] for r in book["Prêts"].iter_rows(min_row=4, values_only=True)}
    assert loans["Montant prêté (€)"] == 1006200


def test_markdown_has_a_table_per_section(report):
    text = export(report, "md").decode("utf-8")
    assert text.startswith("# Bilan 2018 du microcrédit personnel – CCAS Alpha")
    assert "| Demandes | 4\u202f838 |" in text
    assert "| Logement | 895 | 18,5 |" in text
    assert "| Montant prêté (€) | 1\u202f006\u202f200,00\u00a0€ |" in text


def test_pdf_is_a_pdf_with_the_title(report):
    content = export(report, "pdf")
    assert content.startswith(b"%PDF") and len(content) > 1000


def test_funder_exports_carry_the_suppressed_figures(report):
    view = funder_view(report)
    for name in FORMATS:
        assert export(view, name)
    text = export(view, "md").decode("utf-8")
    assert "vue financeurs" in text and "| Total | < 5 |" in text
    assert "Secret statistique" in text
    data = json.loads(export(view, "json"))
    assert data["reorientations"]["by_destination"]["aide_legale"] == "< 5"


def test_every_table_has_as_many_cells_as_headers(report):
    for table in tables(report):
        assert all(len(row) == len(table.headers) for row in table.rows), table.title


def test_figures_are_formatted_the_french_way():
    assert fmt(4838) == "4\u202f838" and fmt(57.0) == "57,0" and fmt(None) == "—"
    assert fmt(Decimal("1234.5"), money=True) == "1\u202f234,50\u00a0€"
    assert fmt("< 5") == "< 5"


def test_an_unknown_format_is_refused(report):
    with pytest.raises(ValueError):
        export(report, "docx")
