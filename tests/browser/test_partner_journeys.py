"""Journey of a partner referrer: signs in, refers a person through the portal, the CCAS
accepts, and the referrer later sees the new status; the portal at 375 px wide (the form,
then the list, whose tables scroll sideways under captions that stay readable)."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from core.models import Referral
from core.testing.pytest_plugin import TEST_PASSWORD


def fill_referral(page, first="Karim", last="Benali"):
    page.get_by_label("Prénom (obligatoire)", exact=True).fill(first)
    page.get_by_label("Nom (obligatoire)", exact=True).fill(last)
    page.get_by_label("Date de naissance", exact=False).fill("1996-02-11")
    page.get_by_label("Téléphone", exact=False).fill("06 98 76 54 32")
    page.get_by_label("Objet du prêt", exact=False).select_option(label="Mobilité")
    page.get_by_label("Montant souhaité (€)", exact=False).fill("1 200")
    page.get_by_label("Message pour le CCAS").fill("Permis obtenu, promesse d'embauche.")
    page.get_by_label("La personne a donné son accord", exact=False).check()


def test_referrer_submits_a_referral_and_later_sees_its_status_change(
        browser, users, session, tenant, in_tenant):
    page = browser.page
    referrer = users["referrer"]
    browser.login(referrer.email, TEST_PASSWORD, "alpha")
    page.get_by_role("link", name="Orientations").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orientations")
    browser.check("prescripteur-orientations")
    page.get_by_role("link", name="Orienter une personne").click()
    browser.check("prescripteur-nouvelle-orientation")
    fill_referral(page)
    page.get_by_role("button", name="Envoyer l'orientation").click()
    expect(page.get_by_role("status")).to_contain_text("Orientation envoyée")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Envoyée")
    browser.check("prescripteur-orientation-envoyee")
    detail_url = page.url
    reference = page.get_by_role("heading", level=1).inner_text().split()[1]
    page.get_by_role("button", name="Se déconnecter").click()

    # The CCAS secretary accepts it: a request is opened.
    browser.login(users["secretary"].email, TEST_PASSWORD, "alpha")
    page.get_by_role("link", name="Orientations").first.click()
    row = page.get_by_role("row").filter(has_text="Karim Benali").first
    expect(row).to_contain_text("Envoyée")
    row.get_by_role("link").first.click()
    browser.check("ccas-orientation-recue")
    page.get_by_role("button", name="Accepter et ouvrir la demande").click()
    expect(page.get_by_role("status")).to_contain_text("Orientation acceptée")
    page.get_by_role("button", name="Se déconnecter").click()

    # The referrer comes back and sees the new status.
    browser.login(referrer.email, TEST_PASSWORD, "alpha")
    page.get_by_role("link", name="Orientations").first.click()
    expect(page.get_by_role("row").filter(has_text=reference)).to_contain_text("Acceptée")
    browser.check()
    page.goto(detail_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acceptée")
    browser.check("prescripteur-orientation-acceptee")


def test_the_referral_portal_is_usable_at_375_pixels(mobile_browser, users):
    page = mobile_browser.page
    mobile_browser.login(users["referrer"].email, TEST_PASSWORD, "alpha")
    mobile_browser.goto("/t/alpha/orientations/nouvelle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    fill_referral(page)
    button = page.get_by_role("button", name="Envoyer l'orientation")
    button.scroll_into_view_if_needed()
    expect(button).to_be_in_viewport()
    mobile_browser.screenshot("prescripteur-mobile")
    button.click()
    expect(page.get_by_role("status")).to_contain_text("Orientation envoyée")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    mobile_browser.check()
    # the list of referrals: its tables scroll sideways inside their wrapper, their
    # captions stay whole on the screen
    mobile_browser.goto("/t/alpha/orientations/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    wide = page.locator("#table-envoyees")
    assert wide.evaluate("t => t.scrollWidth") > 375  # wider than the screen, it scrolls
    assert wide.evaluate("t => [t, t.parentElement].some(s => s.scrollWidth > s.clientWidth)")
    assert wide.locator("caption").inner_text().startswith("Orientations envoyées")
    assert mobile_browser.captions_out_of_view() == []
    mobile_browser.screenshot("prescripteur-orientations-mobile")


def test_a_double_submitted_referral_creates_one_record(browser, users, session, tenant,
                                                        in_tenant):
    page = browser.page
    browser.login(users["referrer"].email, TEST_PASSWORD, "alpha")
    browser.goto("/t/alpha/orientations/nouvelle")
    fill_referral(page)
    page.get_by_role("button", name="Envoyer l'orientation").dblclick()
    expect(page.get_by_role("status")).to_be_visible()
    # The browser's "resend the form" after going back: the same one-time token again.
    page.go_back()
    if page.get_by_role("button", name="Envoyer l'orientation").count():
        page.get_by_role("button", name="Envoyer l'orientation").click()
    session.expire_all()
    with in_tenant(tenant):
        assert session.scalar(select(func.count()).select_from(Referral)) == 1
