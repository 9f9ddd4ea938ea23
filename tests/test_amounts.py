"""Amounts as people type them: read the French way, nonsense refused with the rule it
breaks, and a request outside what the enabled lenders lend flagged (never refused) at
intake, in the API and on the case page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core import cases
from core.errors import UserError

from . import test_case_api as case_api
from .test_case_api import INTAKE
from .test_case_pages import INTAKE as SHEET
from .test_case_pages import _case_id

api = case_api.api  # the case API tests' fixture


@pytest.mark.parametrize("typed, amount", [
    ("1500", "1500.00"), ("1 500,50", "1500.50"), ("1\u202f500,5 €", "1500.50"),
    ("1500.5", "1500.50"), ("€ 300", "300.00"), (1200, "1200.00"), (Decimal("42.1"), "42.10"),
])
def test_amounts_typed_the_french_way_are_read(typed, amount):
    assert cases.parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed, rule", [
    ("1e6", "en chiffres"), ("abc", "en chiffres"), ("NaN", "en chiffres"),
    ("Infinity", "en chiffres"), ("1,2,3", "en chiffres"), ("12 34", "en chiffres"),
    (Decimal("NaN"), "en chiffres"), ("", "Indiquez le montant"), (None, "Indiquez"),
    ("-5", "supérieur à 0"), ("0", "supérieur à 0"), ("0,00", "supérieur à 0"),
    ("12,345", "Deux décimales"), ("1.200", "Deux décimales"),
    ("1000000,01", "ne peut pas dépasser 1\u202f000\u202f000,00\u00a0€"),
])
def test_nonsense_is_refused_naming_the_rule(typed, rule):
    with pytest.raises(UserError) as refused:
        cases.parse_amount(typed, "amount")
    assert rule in refused.value.message and refused.value.field == "amount"


def test_a_request_is_at_most_a_hundred_thousand_euros(api):
    response = api("secretary", "POST", "/cases", json={**INTAKE, "amount_requested": "150000"})
    assert response.status_code == 422
    assert response.get_json()["errors"]["amount_requested"] == [
        "Le montant ne peut pas dépasser 100\u202f000,00\u00a0€."]


def test_an_exponent_is_refused_by_the_api(api):
    response = api("secretary", "POST", "/cases", json={**INTAKE, "amount_requested": "1e6"})
    assert response.status_code == 422
    assert "en chiffres" in response.get_json()["errors"]["amount_requested"][0]


def test_a_third_decimal_is_refused_not_rounded(api):
    response = api("secretary", "POST", "/cases", json={**INTAKE, "amount_requested": "1500.005"})
    assert response.status_code == 422
    assert "Deux décimales" in response.get_json()["errors"]["amount_requested"][0]


@pytest.fixture
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal", amount_min="300", amount_max="3000",
                  allowed_purposes=["mobility", "housing"])


def test_within_the_lenders_bounds_there_is_nothing_to_say(api, lender):
    case = api("secretary", "POST", "/cases", json=INTAKE).get_json()
    assert case["notices"] == []


def test_above_the_lenders_bounds_the_case_opens_with_a_notice(api, lender):
    response = api("secretary", "POST", "/cases", json={**INTAKE, "amount_requested": "5000"})
    assert response.status_code == 201
    [notice] = response.get_json()["notices"]
    assert notice.startswith("Le montant demandé (5\u202f000,00\u00a0€) dépasse ce que prête "
                             "le Crédit Municipal (de 300,00\u00a0€ à 3\u202f000,00\u00a0€)")
    again = api("secretary", "GET", f"/cases/{response.get_json()['id']}").get_json()
    assert again["notices"] == [notice]


def test_below_the_bounds_and_a_purpose_not_financed_are_flagged(api, lender):
    small = api("secretary", "POST", "/cases", json={**INTAKE, "amount_requested": "120",
                                                     "new_person": True}).get_json()
    assert "inférieur à ce que prête le Crédit Municipal" in small["notices"][0]
    debts = api("secretary", "POST", "/cases", json={**INTAKE, "purpose": "debts",
                                                     "new_person": True}).get_json()
    assert debts["notices"] == ["Cet objet n'est pas financé par le Crédit Municipal : "
                                "l'entretien dira s'il faut réorienter la personne."]


def test_without_a_lender_nothing_is_flagged(api):
    case = api("secretary", "POST", "/cases", json={**INTAKE, "amount_requested": "9000"})
    assert case.status_code == 201 and case.get_json()["notices"] == []


def test_the_intake_sheet_and_the_case_page_show_the_notice(client, users, login, lender):
    login(client, users["secretary"])
    saved = client.post("/t/alpha/cases/new", data={**SHEET, "amount_requested": "5 000",
                                                   "action": "save"})
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert page.count("dépasse ce que prête le Crédit Municipal") == 2  # flash + case
    assert 'class="flash flash-warning"' in page
    page = client.get(f"/t/alpha/cases/{_case_id(saved)}").get_data(as_text=True)
    assert page.count("dépasse ce que prête le Crédit Municipal") == 1


def test_the_intake_sheet_names_the_rule_broken(client, users, login):
    login(client, users["secretary"])
    page = client.post("/t/alpha/cases/new", data={**SHEET, "amount_requested": "1e6",
                                                  "action": "save"})
    assert page.status_code == 422
    assert "Montant invalide : écrivez-le en chiffres" in page.get_data(as_text=True)
