"""``ccas loan schedule``: JSON exactly as documented, table and CSV, clear errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from core.cli import main

ARGS = ["loan", "schedule", "--amount", "3000", "--months", "36", "--rate", "3.04",
        "--start", "2026-01-15"]


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_json_is_one_object_with_the_documented_keys_and_an_instalment_of_87_30():
    result = run(*ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["amount", "months", "annual_rate", "method", "installment",
                          "total_interest", "total_cost", "apr", "installments"]
    assert data["amount"] == "3000.00" and data["months"] == 36
    assert data["annual_rate"] == "3.04" and data["method"] == "annuity"
    assert data["installment"] == "87.30" and data["total_interest"] == "142.70"
    assert data["total_cost"] == "142.70" and data["apr"] == "3.08"
    first = data["installments"][0]
    assert list(first) == ["number", "due_date", "payment", "principal", "interest",
                           "balance", "borrower_payment", "subsidy"]
    assert first == {"number": 1, "due_date": "2026-02-15", "payment": "87.30",
                     "principal": "79.70", "interest": "7.60", "balance": "2920.30",
                     "borrower_payment": "87.30", "subsidy": "0.00"}
    assert len(data["installments"]) == 36 and data["installments"][-1]["balance"] == "0.00"


def test_interest_paid_by_the_city_makes_the_apr_and_the_cost_zero():
    data = json.loads(run(*ARGS, "--interest-paid-by", "city", "--format", "json").output)
    assert data["apr"] == "0.00" and data["total_cost"] == "0.00"
    assert data["installments"][0]["subsidy"] == "7.60"
    assert data["installments"][0]["borrower_payment"] == "79.70"


def test_linear_method_has_constant_principal():
    data = json.loads(run(*ARGS, "--method", "linear", "--format", "json").output)
    principals = {row["principal"] for row in data["installments"][:-1]}
    assert principals == {"83.33"} and data["method"] == "linear"


def test_csv_has_a_header_and_one_row_per_instalment():
    result = run(*ARGS, "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0][:3] == ["number", "due_date", "payment"] and len(rows) == 37


def test_table_has_a_summary_and_totals():
    result = run(*ARGS, "--format", "table")
    assert result.exit_code == 0 and "APR 3.08%" in result.output and "Total" in result.output


@pytest.mark.parametrize("args, message", [
    (["--amount", "abc", "--months", "36", "--rate", "3"], "nombre attendu"),
    (["--amount", "0", "--months", "36", "--rate", "3"], "supérieur à 0"),
    (["--amount", "1000001", "--months", "36", "--rate", "3"], "1 000 000"),
    (["--amount", "100", "--months", "0", "--rate", "3"], "au moins 1 mois"),
    (["--amount", "100", "--months", "douze", "--rate", "3"], "nombre entier"),
    (["--amount", "100", "--months", "12", "--rate", "-1"], "négatif"),
    (["--amount", "100", "--months", "12", "--rate", "x"], "nombre attendu"),
    (["--amount", "100", "--months", "12", "--rate", "3", "--start", "2026-13-01"],
     "Date de départ invalide"),
])
def test_bad_input_gives_a_clear_message_and_exit_code_1(args, message):
    result = run("loan", "schedule", *args)
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output
