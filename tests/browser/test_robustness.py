"""Bad input in the browser and keyboard use: the intake sheet filled with the keyboard
only, a double submit that creates one record, a session lost while typing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.models import Case
from core.testing.pytest_plugin import TEST_PASSWORD


@pytest.fixture(autouse=True)
def the_lender_checks_the_ficp_first(tenant, enable_plugin):
    """The scheme as the seed runs it: the Crédit Municipal's FICP check comes first."""
    enable_plugin(tenant, "credit_municipal")


def count_cases(session, tenant, in_tenant) -> int:
    session.expire_all()
    with in_tenant(tenant):
        return session.scalar(select(func.count()).select_from(Case))


def test_the_intake_sheet_is_completed_with_the_keyboard_only(browser, users, session,
                                                              tenant, in_tenant):
    page = browser.page
    browser.login(users["secretary"].email, TEST_PASSWORD, "alpha")
    browser.goto("/t/alpha/cases/new")
    keys = page.keyboard
    expect(page.get_by_label("Nom *", exact=True)).to_be_focused()  # autofocus
    keys.type("Durand")
    keys.press("Tab")
    expect(page.get_by_label("Prénom *", exact=True)).to_be_focused()
    keys.type("Paul")
    # Through the other fields of "La personne" to the purpose of the request.
    target = page.get_by_label("Objet du prêt *", exact=True)
    for _ in range(20):
        keys.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            break
    expect(target).to_be_focused()
    keys.press("ArrowDown")  # first purpose: Mobilité
    keys.press("Tab")
    expect(page.get_by_label("Montant demandé (€) *", exact=True)).to_be_focused()
    keys.type("900")
    keys.press("Enter")  # the form's first button: save and send to the FICP check
    expect(page.get_by_role("status")).to_contain_text("envoyée au contrôle FICP")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paul Durand")
    browser.check()
    assert count_cases(session, tenant, in_tenant) == 1


def test_a_double_submitted_intake_sheet_creates_one_case(browser, users, session, tenant,
                                                          in_tenant):
    page = browser.page
    browser.login(users["secretary"].email, TEST_PASSWORD, "alpha")
    browser.goto("/t/alpha/cases/new")
    page.get_by_label("Nom *", exact=True).fill("Petit")
    page.get_by_label("Prénom *", exact=True).fill("Inès")
    page.get_by_label("Objet du prêt *", exact=True).select_option(label="Santé")
    page.get_by_label("Montant demandé (€) *", exact=True).fill("600")
    with page.expect_request(lambda r: r.method == "POST") as sent:
        page.get_by_role("button", name="Enregistrer la fiche").dblclick()
    expect(page.get_by_role("status")).to_contain_text("enregistrée")
    assert count_cases(session, tenant, in_tenant) == 1
    # The very same form sent again ("resend the form", a replayed request).
    request = sent.value
    again = page.request.post(request.url, data=request.post_data,
                              headers={"Content-Type": request.headers["content-type"]})
    assert again.ok
    assert "déjà été envoyée" in again.text()
    assert count_cases(session, tenant, in_tenant) == 1


def test_a_form_sent_after_the_session_ended_says_it_was_not_saved(browser, users, session,
                                                                   tenant, in_tenant):
    page = browser.page
    browser.login(users["secretary"].email, TEST_PASSWORD, "alpha")
    browser.goto("/t/alpha/cases/new")
    page.get_by_label("Nom *", exact=True).fill("Leroy")
    page.get_by_label("Prénom *", exact=True).fill("Anne")
    page.get_by_label("Objet du prêt *", exact=True).select_option(label="Formation")
    page.get_by_label("Montant demandé (€) *", exact=True).fill("800")
    page.context.clear_cookies()  # the session ends while the secretary types
    page.get_by_role("button", name="Enregistrer et envoyer au contrôle FICP").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    expect(page.get_by_role("status")).to_contain_text("le formulaire n'a pas été enregistré")
    browser.check("session-expiree")
    assert count_cases(session, tenant, in_tenant) == 0
    # Signing in again leads back to the (empty) form.
    page.get_by_label("Adresse e-mail").fill(users["secretary"].email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle fiche recueil")


def test_with_csrf_protection_a_lost_session_is_explained_too(app, browser, users, session,
                                                              tenant, in_tenant):
    app.config["WTF_CSRF_ENABLED"] = True  # as in production
    page = browser.page
    browser.login(users["secretary"].email, TEST_PASSWORD, "alpha")
    browser.goto("/t/alpha/cases/new")
    page.get_by_label("Nom *", exact=True).fill("Leroy")
    page.context.clear_cookies()
    page.get_by_role("button", name="Enregistrer la fiche").click()
    expect(page.get_by_role("main")).to_contain_text("rien n'a été enregistré")
    browser.check()
    assert count_cases(session, tenant, in_tenant) == 0
