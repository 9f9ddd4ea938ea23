"""Journeys of the reports: the manager reads the yearly review and downloads the XLSX;
the funder sees aggregates only (small counts suppressed, no person named)."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
from playwright.sync_api import expect

from core import cases, clock
from core.testing.pytest_plugin import TEST_PASSWORD

NAMES = [f"Personne{i}" for i in range(9)]


def seed_year(session, tenant, in_tenant, actor):
    """Nine requests this year: seven for mobility, two for housing (a small count)."""
    with in_tenant(tenant):
        for i, name in enumerate(NAMES):
            person = cases.create_person(session, cases.PersonData(
                "Alex", name, date(1985 + i, 1, 10)))
            cases.open_case(session, person, "housing" if i < 2 else "mobility", "1000",
                            actor=actor, tenant=tenant)
        session.commit()


def test_manager_reads_the_yearly_report_and_downloads_the_xlsx(
        browser, users, session, tenant, in_tenant):
    seed_year(session, tenant, in_tenant, users["secretary"])
    page = browser.page
    browser.login(users["manager"].email, TEST_PASSWORD, "alpha")
    page.get_by_role("link", name="Bilans").first.click()
    year = clock.today().year
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Bilan {year} du microcrédit personnel")
    expect(page.get_by_role("region", name="Chiffres clés")).to_contain_text("9")
    browser.check("responsable-bilan")
    with page.expect_download() as info:
        page.get_by_role("link", name=f"Excel (XLSX) – bilan {year}").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes()))
    cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
             for c in row if c is not None]
    assert any("Mobilité" in c for c in cells)


def test_the_funder_sees_aggregates_only(browser, users, session, tenant, in_tenant):
    seed_year(session, tenant, in_tenant, users["secretary"])
    page = browser.page
    browser.login(users["funder"].email, TEST_PASSWORD, "alpha")
    page.get_by_role("link", name="Bilan annuel").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilan")
    browser.check("financeur-bilan")
    body = page.locator("main").inner_text()
    assert "< 5" in body, "the two housing requests must be suppressed"
    for name in NAMES:
        assert name not in body
    # No case page for a funder.
    response = page.goto(browser.base + "/t/alpha/cases/")
    assert response.status == 403
