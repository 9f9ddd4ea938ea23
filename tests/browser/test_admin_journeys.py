"""The manager's administration and the operator console in a real browser (CSRF on):
an invitation followed from the e-mail caught by a real SMTP server, API tokens created
and revoked, a plugin's settings form, the console's pages; axe on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.testing.pytest_plugin import TEST_PASSWORD

from ..test_delivery import smtp  # noqa: F401 - the fixture: aiosmtpd on a free port

NEW_PASSWORD = "Mot-de-passe-choisi-2026"


@pytest.fixture
def app_config(app_config, smtp):  # noqa: F811 - the fixture imported above
    return {**app_config, "WTF_CSRF_ENABLED": True, "CCAS_SMTP_HOST": "127.0.0.1",
            "CCAS_SMTP_PORT": smtp.port, "CCAS_SMTP_TLS": "none"}


def test_manager_invites_a_user_who_follows_the_mailed_link_and_signs_in(
        browser, users, app, smtp):  # noqa: F811
    from core.outbox import delivery

    page = browser.page
    browser.login(users["manager"].email, TEST_PASSWORD, "alpha")
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Comptes des utilisateurs")
    browser.check("administration-comptes")
    page.get_by_label("Adresse e-mail").fill("nouvelle@alpha.fr")
    page.get_by_label("Nom et prénom").fill("Nina Nouvelle")
    page.get_by_label("Rôle").select_option("social_worker")
    page.get_by_label("Organisation").select_option("CCAS de Alpha")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation envoyée à nouvelle@alpha.fr")
    expect(page.get_by_role("link", name="nouvelle@alpha.fr")).to_be_visible()
    browser.check()

    assert delivery.drain(app).sent == 1
    (message,) = smtp.messages
    assert message["To"] == "nouvelle@alpha.fr"
    body = message.get_body(("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/t/alpha/password/reset/\S+)", body).group(1)

    invitee = browser.page.context.browser.new_context(locale="fr-FR").new_page()
    from .conftest import Browser

    newcomer = Browser(invitee, browser.base)
    newcomer.goto(path)
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Nouveau mot de passe")
    invitee.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    invitee.get_by_label("Confirmez le mot de passe").fill(NEW_PASSWORD)
    invitee.get_by_role("button").filter(has_text="mot de passe").first.click()
    expect(invitee.get_by_role("status")).to_contain_text("Mot de passe modifié")
    newcomer.login("nouvelle@alpha.fr", NEW_PASSWORD, "alpha")
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    newcomer.check()
    invitee.context.close()


def test_manager_creates_a_token_that_works_then_revokes_it(browser, users, app):
    page = browser.page
    browser.login(users["manager"].email, TEST_PASSWORD, "alpha")
    browser.goto("/t/alpha/admin/tokens")
    browser.check("administration-jetons")
    page.get_by_label("Nom du jeton").fill("Logiciel de l'association")
    page.get_by_label("Compte au nom duquel il agit").select_option(str(users["referrer"].id))
    page.get_by_label("Validité").select_option("30")
    page.get_by_role("button", name="Créer le jeton").click()
    value = page.get_by_label("Valeur du jeton").input_value()
    assert value.startswith("ccas_")
    browser.check()
    me = page.request.get(browser.base + "/api/v1/me",
                          headers={"Authorization": f"Bearer {value}"})
    assert me.status == 200 and me.json()["email"] == users["referrer"].email
    browser.goto("/t/alpha/admin/tokens")
    row = page.get_by_role("row").filter(has_text="Logiciel de l'association")
    expect(row).not_to_contain_text("Jamais")  # its last use is shown
    assert value not in page.content()
    row.get_by_role("button", name=re.compile("Révoquer")).click()
    expect(page.get_by_role("status")).to_contain_text("révoqué")
    me = page.request.get(browser.base + "/api/v1/me",
                          headers={"Authorization": f"Bearer {value}"})
    assert me.status == 401


def test_plugin_settings_form_has_widgets_and_french_numbers(browser, users):
    page = browser.page
    browser.login(users["manager"].email, TEST_PASSWORD, "alpha")
    browser.goto("/t/alpha/admin/plugins/credit_municipal")
    browser.check()  # its screenshot is the foundation journey's (reglages-extension)
    expect(page.get_by_label("Taux annuel fixe")).to_have_value("3,04")
    page.get_by_label("Taux annuel fixe").fill("2,5")
    page.get_by_role("checkbox", name="Dettes").uncheck()
    page.get_by_role("radio", name=re.compile("Amortissement constant")).check()
    page.get_by_label("Montant maximum").fill("9 999 999")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text("Doit être entre 0,00")
    expect(page.get_by_label("Montant maximum")).to_have_attribute("aria-invalid", "true")
    browser.check()
    page.get_by_label("Montant maximum").fill("3 000,00")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Réglages enregistrés.")
    expect(page.get_by_label("Taux annuel fixe")).to_have_value("2,50")
    expect(page.get_by_role("checkbox", name="Dettes")).not_to_be_checked()
    browser.goto("/t/alpha/admin/plugins/caf")
    expect(page.locator("textarea")).to_have_count(0)
    browser.check("reglages-caf")


def test_operator_console_pages(browser, operator, tenant, make_tenant, session, in_tenant):
    from core import clock
    from core.reports import comparison

    from ..test_reports import _bulk_cases

    year = clock.today().year - 1
    beta = make_tenant("beta")
    for t, purposes, instructed, granted in ((tenant, {"mobility": 30, "housing": 12,
                                                       "debts": 6}, 20, 9),
                                             (beta, {"mobility": 3}, 1, 1)):
        with in_tenant(t):
            _bulk_cases(session, t, year, purposes, instructed, granted)
        comparison.set_consent(session, t, True)
    session.commit()
    page = browser.page
    browser.login(operator.email, TEST_PASSWORD)
    for link, heading, shot in (
            ("Santé de la plateforme", "Santé de la plateforme", "operateur-sante"),
            ("Utilisation", "Utilisation par territoire", "operateur-utilisation"),
            ("Comparaison entre villes", "Comparaison entre villes", "operateur-comparaison")):
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        browser.check(shot)
        if shot == "operateur-comparaison":
            expect(page.get_by_role("table")).to_contain_text("< 5")
    browser.goto("/operator/tenants/alpha")
    page.get_by_role("button", name="Suspendre le territoire").click()
    expect(page.get_by_role("status")).to_contain_text("suspendu")
    page.get_by_role("button", name="Rétablir le territoire").click()
    expect(page.get_by_role("status")).to_contain_text("rétabli")
    browser.check()


def test_the_city_declares_its_own_aid_in_rows(browser, users, tenant, enable_plugin):
    enable_plugin(tenant, "city_aids")
    page = browser.page
    browser.login(users["manager"].email, TEST_PASSWORD, "alpha")
    browser.goto("/t/alpha/admin/plugins/city_aids")
    browser.check()
    expect(page.locator("textarea")).to_have_count(1)  # the postal codes, one per line
    page.get_by_label("Codes postaux de la commune").fill("31000\n3100")
    page.get_by_label("Code", exact=True).fill("aide_urgence")
    page.get_by_label("Nom de l'aide").fill("Aide facultative d'urgence")
    page.get_by_label("Plafond de ressources mensuelles par unité de consommation").fill(
        "700")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text("Code postal invalide")
    browser.check()
    page.get_by_label("Codes postaux de la commune").fill("31000\n31100")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Réglages enregistrés.")
    expect(page.get_by_label("Nom de l'aide").first).to_have_value("Aide facultative d'urgence")
    expect(page.get_by_label(
        "Plafond de ressources mensuelles par unité de consommation").first).to_have_value(
        "700,00")
    browser.check("reglages-aides-ville")
