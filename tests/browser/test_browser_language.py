"""The browser of the tests and of the screenshots speaks French: a date input reads
« jj/mm/aaaa » with its fields day, month, year (Debian's Chromium launched with its
French resources and language, ``core.testing.browser``), as a French user sees it."""

from __future__ import annotations

from core.testing.browser import french_missing
from core.testing.pytest_plugin import TEST_PASSWORD


def date_fields(page, label: str) -> list[str]:
    """The names of a date input's fields (day, month, year…) in the order shown, as the
    browser tells assistive technologies."""
    page.get_by_label(label).focus()
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    return [n["name"]["value"].split()[0] for n in nodes
            if n.get("role", {}).get("value") == "spinbutton" and n.get("name")]


def test_date_inputs_are_day_month_year_in_french(browser, users):
    browser.login(users["manager"].email, TEST_PASSWORD, slug="alpha")
    page = browser.goto("/t/alpha/cases/")
    fields = date_fields(page, "Demande reçue à partir du")
    assert fields[:3] == ["Jour", "Mois", "Année"], (fields, french_missing())
