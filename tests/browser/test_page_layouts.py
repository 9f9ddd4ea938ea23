"""The pages of issue 16's second pass, in a real browser: the case page in two columns
at 1280 px and one at 375 px (no sideways scrolling), the sortable case list driven by
its headers, the team dashboards' charts; axe on each (``Browser.check``)."""

from __future__ import annotations

from datetime import date

import pytest

from core.models import State
from core.testing.pytest_plugin import TEST_PASSWORD

from .test_case_journeys import (
    case_in,
    the_lender_checks_the_ficp_first,  # noqa: F401 - autouse
)


@pytest.fixture
def documents_case(session, tenant, in_tenant, users):
    return case_in(session, tenant, in_tenant, users["secretary"], "ficp_pending",
                   "documents_requested", ficp_clear=True, worker=users["social_worker"])


def _box(page, selector):
    return page.locator(selector).first.bounding_box()


def test_the_case_page_puts_the_brief_beside_the_file_at_1280_px(browser, users,
                                                                  documents_case):
    browser.login(users["secretary"].email, TEST_PASSWORD, slug="alpha")
    page = browser.goto(f"/t/alpha/cases/{documents_case.id}")
    main, side = _box(page, ".case-main"), _box(page, ".case-side")
    assert side["x"] > main["x"] + main["width"] - 1  # the brief on the right
    assert abs(side["y"] - main["y"]) < 5  # side by side, not one under the other
    brief = page.locator(".case-side")
    assert "Pièces demandées" in brief.inner_text()  # the state
    assert brief.get_by_role("button").count() >= 1  # the next steps
    assert "pièces attendues" in brief.inner_text() or "pièce attendue" in brief.inner_text()
    assert page.locator("#documents-titre").count() == 1  # the full checklist stays


def test_the_case_page_is_one_column_without_sideways_scroll_at_375_px(mobile_browser, users,
                                                                      documents_case):
    mobile_browser.login(users["social_worker"].email, TEST_PASSWORD, slug="alpha")
    page = mobile_browser.goto(f"/t/alpha/cases/{documents_case.id}")
    main, side = _box(page, ".case-main"), _box(page, ".case-side")
    assert side["y"] + side["height"] <= main["y"] + 1  # the brief first, then the file
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_case_page_with_its_budget_and_documents_scrolls_by_keyboard_at_375_px(
        mobile_browser, users, session, tenant, in_tenant, documents_case):
    """At 375 px the tables scroll sideways inside the page: the budget's figures and the
    documents' list must be reachable by keyboard (axe's scrollable-region-focusable,
    run by ``goto``)."""
    from core import cases

    with in_tenant(tenant):
        cases.save_budget(session, documents_case, users["social_worker"],
                          {"salary": "1450", "rent": "520"})
        session.commit()
    mobile_browser.login(users["social_worker"].email, TEST_PASSWORD, slug="alpha")
    page = mobile_browser.goto(f"/t/alpha/cases/{documents_case.id}")
    assert page.locator("table.budget-figures").count() == 1
    assert page.locator("#documents-titre").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert _scrolled_by_keyboard(page) >= 1


def _scrolled_by_keyboard(page) -> int:
    """Every table of the page that is wider than its box takes the focus by the Tab key
    and scrolls with the right arrow; returns how many such tables the page has."""
    wide = page.evaluate("""() => [...document.querySelectorAll('table')]
        .map((t, i) => [i, (t.scrollWidth > t.clientWidth + 1)
                           || (t.parentElement.scrollWidth > t.parentElement.clientWidth + 1)])
        .filter(([i, w]) => w).map(([i]) => i)""")
    for index in wide:
        table = page.locator("table").nth(index)
        scroller = table.evaluate_handle(
            "t => t.scrollWidth > t.clientWidth + 1 ? t : t.parentElement")
        # reach the table as a keyboard user does: from the control before it, Tab
        table.focus()
        page.keyboard.press("Shift+Tab")
        assert table.evaluate("t => document.activeElement !== t")
        page.keyboard.press("Tab")
        assert table.evaluate("t => document.activeElement === t"), f"table {index} not focused"
        start = scroller.evaluate("s => s.scrollLeft")
        page.keyboard.press("ArrowRight")
        # the browser animates a keyboard scroll: wait for it to move
        page.wait_for_function("([s, start]) => s.scrollLeft > start", arg=[scroller, start],
                               timeout=3_000)
    return len(wide)


def test_the_case_list_headers_sort_it_and_say_how(browser, users, session, tenant,
                                                   in_tenant):
    from core import cases

    with in_tenant(tenant):
        for last, amount in (("Bernard", "900"), ("Adam", "2500"), ("Colin", "300")):
            person = cases.create_person(session, cases.PersonData("Léa", last,
                                                                   date(1990, 1, 1)))
            case = cases.open_case(session, person, "mobility", amount)
            case.state = State.intake.value
        session.commit()
    browser.login(users["manager"].email, TEST_PASSWORD, slug="alpha")
    page = browser.goto("/t/alpha/cases/")
    header = page.locator("th[aria-sort]")
    assert header.get_attribute("aria-sort") == "descending" and "Reçue le" in header.inner_text()
    page.get_by_role("link", name="Montant").click()
    page.wait_for_load_state()
    browser.check()
    rows = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert [r.split()[0] for r in rows] == ["Colin", "Bernard", "Adam"]
    assert page.locator("th[aria-sort]").get_attribute("aria-sort") == "ascending"
    page.get_by_role("link", name="Montant").click()  # again: the other way
    page.wait_for_load_state()
    rows = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert [r.split()[0] for r in rows] == ["Adam", "Bernard", "Colin"]
    # a name search (sent by POST) keeps the sort, and its headers sort by POST too
    page.get_by_label("Nom, prénom ou référence").fill("Léa")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_load_state()
    rows = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert [r.split()[0] for r in rows] == ["Adam", "Bernard", "Colin"]
    page.get_by_role("button", name="Personne").click()
    page.wait_for_load_state()
    browser.check()
    rows = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert [r.split()[0] for r in rows] == ["Adam", "Bernard", "Colin"]
    assert "L%C3%A9a" not in page.url and "Léa" not in page.url


@pytest.mark.parametrize("role", ["secretary", "social_worker"])
def test_the_team_dashboards_show_their_charts_accessibly(browser, mobile_browser, users,
                                                          documents_case, role):
    browser.login(users[role].email, TEST_PASSWORD, slug="alpha")
    page = browser.goto("/t/alpha/")
    assert page.locator("svg.chart[role=img]").count() >= 3
    page.get_by_text("Voir les chiffres en tableau").first.click()
    assert page.locator("figure.chart-figure table").first.is_visible()
    mobile_browser.login(users[role].email, TEST_PASSWORD, slug="alpha")
    page = mobile_browser.goto("/t/alpha/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_manager_s_tables_scroll_by_keyboard_at_375_px(mobile_browser, users, documents_case):
    """The manager's dashboard and reports hold tables of figures with no link in them:
    on a phone they scroll sideways, and only their own tab stop lets a keyboard reach
    what is off screen (axe's scrollable-region-focusable, run by ``goto``)."""
    mobile_browser.login(users["manager"].email, TEST_PASSWORD, slug="alpha")
    wide = 0
    for path in ("/t/alpha/", "/t/alpha/bilans/"):
        page = mobile_browser.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        wide += _scrolled_by_keyboard(page)
    assert wide >= 1  # the reports' tables are wider than a phone


def test_the_audit_journal_keeps_its_rows_short_at_375_px(mobile_browser, users, documents_case):
    """At 375 px the journal's six columns keep a readable width (the object's identifier
    and the detail break anywhere, and would shrink to a few letters a line, a row as tall
    as the screen): the table scrolls sideways, by keyboard too."""
    mobile_browser.login(users["manager"].email, TEST_PASSWORD, slug="alpha")
    page = mobile_browser.goto("/t/alpha/admin/audit/")
    rows = page.locator("table.audit-events tbody tr").evaluate_all(
        "rows => rows.map(r => [r.getBoundingClientRect().height,"
        " r.cells[r.cells.length - 1].textContent.trim() === ''])")
    bare = [height for height, no_detail in rows if no_detail]  # the sign-ins: no detail
    assert bare and max(bare) < 110, rows  # two lines of text at most (was 180 to 420 px)
    assert sorted(h for h, _ in rows)[len(rows) // 2] < 150, rows
    assert _scrolled_by_keyboard(page) == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
