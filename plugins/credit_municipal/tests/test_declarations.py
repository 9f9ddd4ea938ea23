"""The funders' yearly statements (Fonds de cohésion sociale guarantee, City subsidy):
French headers, CSV/XLSX/PDF, totals that reconcile with the yearly review, aggregates
only (suppressed) in the funders' view."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pypdf
import pytest
from openpyxl import load_workbook

from core.reports.suppression import funder_view
from plugins.credit_municipal import declarations, guarantees, reporting
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import Loan

from .loan_helpers import D, disbursed_loan

BASE = "/t/alpha/p/credit_municipal"


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


@pytest.fixture
def closable(monkeypatch):
    from core.features import accompaniment

    monkeypatch.setattr(accompaniment, "has_final_summary", lambda session, case: True)


@pytest.fixture
def portfolio(session, tenant, in_tenant, users, clock, closable):
    """Mid-June: three loans being repaid, one defaulted this year with a recovery."""
    clock.travel_to("2026-06-15T10:00")
    made = [disbursed_loan(session, tenant, in_tenant, users, amount=a, months=m,
                           disbursed_days_ago=d, name=n)
            for a, m, d, n in (("3000", 36, 100, ("Léa", "Martin")),
                               ("1200", 12, 40, ("Paul", "Durand")),
                               ("800", 10, 70, ("Zoé", "Petit")),
                               ("2000", 24, 150, ("Noé", "Roux")))]
    with in_tenant(tenant):
        loan = session.get(Loan, (tenant.id, made[3].id))
        today = service.today()
        guarantees.declare_default(session, loan, users["lender_agent"],
                                   today - timedelta(days=10))
        guarantees.write_off(session, loan, users["lender_agent"], today)
        guarantees.record_recovery(session, loan, today, D("200.00"), users["lender_agent"])
        session.commit()
    return made


def test_the_statements_reconcile_with_the_yearly_review(session, tenant, in_tenant,
                                                         portfolio):
    with in_tenant(tenant):
        today = service.today()
        conf = service.settings()
        review = reporting.loan_figures(session, 2026, today)
        fcs = declarations.fcs_statement(session, conf, "CCAS", 2026, today)
        city = declarations.city_statement(session, conf, "CCAS", 2026, today)
    assert f"{fcs.totals['outstanding']:.2f}" == review["outstanding"]
    assert fcs.totals["defaults"] == review["defaults"] == 1
    assert f"{fcs.totals['calls']:.2f}" == review["guarantee_calls_by_guarantor"]["fcs"]
    assert f"{city.totals['calls']:.2f}" == review["guarantee_calls_by_guarantor"]["city"]
    assert f"{city.totals['subsidy']:.2f}" == review["city_subsidy_cost"]
    assert fcs.totals["loans"] == 3 and len(fcs.loans.rows) == 4
    # the recovery of 200 on a 2,000 loss (fund 1,000, City the other 1,000, within its
    # cap of 15 % x 7,000 = 1,050) returns 100 to each
    assert fcs.totals["recovered"] == D("100.00") and city.totals["recovered"] == D("100.00")
    assert fcs.totals["guaranteed"] == sum(
        (Decimal(str(r[4])) for r in fcs.loans.rows), Decimal(0))


def test_the_funders_view_carries_the_totals_only_and_suppressed(session, tenant, in_tenant,
                                                                 portfolio):
    with in_tenant(tenant):
        section = reporting.report_section(tenant, 2026, session)
    totals = section.data["loans"]["fcs_statement"]
    assert totals["defaults"] == 1 and totals["calls"] == "1000.00"
    funders = funder_view({"loans": section.data["loans"]})["loans"]["fcs_statement"]
    assert funders["defaults"] == "< 5" and funders["calls"] == "masqué"


def test_the_statements_download_as_csv_xlsx_and_pdf_with_french_headers(
        client, login, session, tenant, in_tenant, users, portfolio):
    login(client, users["manager"])
    page = client.get(f"{BASE}/declarations?annee=2026")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Fonds de cohésion sociale – état annuel 2026" in text and "Bonification" in text
    csv = client.get(f"{BASE}/declarations/fonds-cohesion-sociale-2026.csv")
    assert csv.status_code == 200
    body = csv.data.decode("utf-8-sig")
    assert body.startswith("Référence du prêt;Date de décaissement;Montant prêté;Encours")
    assert "1000,00" in body  # the fund's call, decimal comma
    xlsx = client.get(f"{BASE}/declarations/ville-2026.xlsx")
    sheets = load_workbook(io.BytesIO(xlsx.data)).sheetnames
    assert sheets == ["Synthèse", "Bonification par prêt"]
    pdf = client.get(f"{BASE}/declarations/fonds-cohesion-sociale-2026.pdf")
    content = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Prêts garantis" in content and "1 000,00 EUR" in content
    assert client.get(f"{BASE}/declarations/autre-2026.csv").status_code == 404
    assert client.get(f"{BASE}/declarations/ville-2026.doc").status_code == 404


def test_funders_and_partners_cannot_download_per_loan_statements(client, login, users):
    for role in ("funder", "partner_referrer"):
        if role not in users:
            continue
        login(client, users[role])
        assert client.get(f"{BASE}/declarations/ville-2026.csv").status_code in (403, 404)
