"""Journeys over the foundation's pages: sign-in, operator, plugin settings."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from core.testing.pytest_plugin import TEST_PASSWORD


def test_operator_creates_a_tenant_and_enables_a_plugin(browser, operator):
    page = browser.page
    browser.login(operator.email, TEST_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Territoires de la plateforme")
    browser.check("operateur-territoires")
    page.get_by_label("Identifiant").fill("lyon")
    page.get_by_label("Nom", exact=True).fill("CCAS de Lyon")
    page.get_by_label("Ville").fill("Lyon")
    page.get_by_role("button", name="Créer le territoire").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("CCAS de Lyon")
    expect(page.get_by_role("status")).to_contain_text("Territoire « CCAS de Lyon » créé.")
    browser.check("operateur-territoire")
    page.get_by_role("button", name="Activer CAF").click()
    expect(page.get_by_role("status")).to_contain_text("Extension « CAF » activée.")
    expect(page.get_by_role("button", name="Désactiver CAF")).to_be_visible()
    browser.check()


def test_operator_form_announces_its_errors(browser, operator, tenant):
    page = browser.page
    browser.login(operator.email, TEST_PASSWORD)
    page.get_by_label("Identifiant").fill("alpha")
    page.get_by_label("Nom", exact=True).fill("Doublon")
    page.get_by_role("button", name="Créer le territoire").click()
    expect(page.get_by_role("alert")).to_contain_text("existe déjà")
    field = page.get_by_label("Identifiant")
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby")
    assert "slug-erreur" in described
    browser.check()


def test_login_with_the_keyboard_only(browser, users):
    page = browser.page
    browser.goto("/t/alpha/login")
    expect(page.get_by_label("Adresse e-mail")).to_be_focused()  # autofocus on sign-in
    page.keyboard.type(users["manager"].email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe")).to_be_focused()
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    browser.check("tableau-de-bord")
    # On a page without autofocus the first Tab reaches the skip link, which moves the
    # focus to the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_focus_is_visible(browser, tenant):
    page = browser.page
    browser.goto("/t/alpha/login")
    page.get_by_label("Adresse e-mail").focus()
    outline = page.eval_on_selector("#email", "e => getComputedStyle(e).outlineStyle")
    assert outline not in ("none", "")


def test_wrong_password_is_announced(browser, users):
    page = browser.page
    browser.login(users["manager"].email, "wrong-password", slug="alpha")
    expect(page.get_by_role("alert")).to_have_text("Adresse e-mail ou mot de passe incorrect.")
    expect(page.get_by_label("Mot de passe")).to_have_attribute("aria-invalid", "true")
    browser.check()


def test_manager_edits_plugin_settings_with_field_errors(browser, users, enable_plugin, tenant):
    enable_plugin(tenant, "credit_municipal")
    page = browser.page
    browser.login(users["manager"].email, TEST_PASSWORD, slug="alpha")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Extensions").click()
    browser.check("extensions")
    page.get_by_role("link", name="Régler Crédit Municipal").click()
    page.get_by_label("Durée maximale").fill("999")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"Doit être entre 1\smois et 120\smois\."))
    expect(page.get_by_label("Durée maximale")).to_have_attribute("aria-invalid", "true")
    browser.check("reglages-extension")
    page.get_by_label("Durée maximale").fill("24")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Réglages enregistrés.")
    expect(page.get_by_label("Durée maximale")).to_have_value("24")
