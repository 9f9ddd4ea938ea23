"""Report pages: the manager sees every figure, the charts and the exports; the funder sees
aggregates only, with small counts suppressed; other roles are refused."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook

from tests.test_reports import add_case, path


@pytest.fixture
def year_2023(app, tenant, session, in_tenant):
    """7 requests in 2023 (6 mobility, 1 housing); 2 granted (a count under 5)."""
    with in_tenant(tenant):
        for i in range(6):
            steps = ()
            if i < 2:
                steps = path(("instruction", "2023-02-01", {}),
                             ("submitted_to_lender", "2023-02-02", {}),
                             ("granted", "2023-02-10", {"amount_granted": "1000.00",
                                                        "months": 12}))
            add_case(session, f"2023-01-{10 + i}", "mobility", steps=steps)
        add_case(session, "2023-03-01", "housing")
        case = add_case(session, "2022-05-01", "debts")
        case.person.last_name = "Zorglub"
        session.commit()
    return tenant


def test_manager_sees_the_figures_charts_and_comparison(client, login, users, year_2023):
    login(client, users["manager"])
    page = client.get("/t/alpha/bilans/?annee=2023")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<h1>") == 1
    assert re.search(r"<dt>Demandes</dt><dd>7</dd>", html)
    assert re.search(r"<dt>Prêts accordés</dt><dd>2</dd>", html)
    assert 'role="img"' in html and "<title id=\"graphique-objets-titre\">" in html
    assert "Comparaison avec 2022" in html
    assert "Mobilité" in html and "85,7" in html
    assert "/t/alpha/bilans/2023.xlsx" in html
    assert "Zorglub" not in html
    assert "style=" not in html and "<script" not in html


def test_manager_downloads_the_xlsx_with_the_same_figures(client, login, users, year_2023):
    login(client, users["manager"])
    response = client.get("/t/alpha/bilans/2023.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "bilan-alpha-2023.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    summary = book["Synthèse"]
    values = {row[0]: row[1] for row in summary.iter_rows(min_row=4, values_only=True)}
    assert values == {"Demandes": 7, "Instructions": 2, "Prêts accordés": 2}


def test_manager_downloads_json_and_pdf(client, login, users, year_2023):
    login(client, users["manager"])
    data = json.loads(client.get("/t/alpha/bilans/2023.json").data)
    assert (data["requests"], data["granted"]) == (7, 2)
    assert data["loans"]["amount_lent"] == "2000.00"
    pdf = client.get("/t/alpha/bilans/2023.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/t/alpha/bilans/2023.exe").status_code == 404


def test_funder_sees_aggregates_with_small_counts_suppressed(client, login, users,
                                                            year_2023):
    login(client, users["funder"])
    page = client.get("/t/alpha/bilans/financeurs?annee=2023")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r"<dt>Demandes</dt><dd>7</dd>", html)
    assert re.search(r"<dt>Prêts accordés</dt><dd>&lt; 5</dd>", html)
    assert "Secret statistique" in html
    # 6 mobility and 1 housing: housing is under 5, and mobility would reveal it (7 - 6)
    assert "85,7" not in html and "14,3" not in html
    assert "Zorglub" not in html and "2 000,00" not in html


def test_funder_downloads_only_the_suppressed_view(client, login, users, year_2023):
    login(client, users["funder"])
    data = json.loads(client.get("/t/alpha/bilans/2023.json").data)
    assert data["suppressed"] is True
    assert data["granted"] == "< 5" and data["requests"] == 7
    assert data["purposes"]["mobility"] == "masqué"
    assert data["loans"]["amount_lent"] == "masqué"
    response = client.get("/t/alpha/bilans/2023.csv")
    assert "bilan-alpha-2023-financeurs.csv" in response.headers["Content-Disposition"]


def test_funder_cannot_open_the_managers_page(client, login, users, year_2023):
    login(client, users["funder"])
    assert client.get("/t/alpha/bilans/").status_code == 403


@pytest.mark.parametrize("role", ["secretary", "referrer", "lender_agent", "social_worker"])
def test_other_roles_are_refused(client, login, users, role):
    login(client, users[role])
    for url in ("/t/alpha/bilans/", "/t/alpha/bilans/financeurs", "/t/alpha/bilans/2023.xlsx"):
        assert client.get(url).status_code == 403, (role, url)


def test_anonymous_is_sent_to_login(client, tenant):
    response = client.get("/t/alpha/bilans/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_year_that_is_not_a_year_is_not_found(client, login, users):
    login(client, users["manager"])
    assert client.get("/t/alpha/bilans/?annee=abc").status_code == 404
