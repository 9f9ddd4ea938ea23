"""A city's agents sign in with the city's identity provider (OpenID Connect): the
manager configures it, turns passwords off, and an agent signs in and out with the
button, through a real provider (``core.testing.oidc_provider``) on a loopback port."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.accounts import identity_providers as idp
from core.accounts import oidc
from core.testing.oidc_provider import TestProvider
from core.testing.pytest_plugin import TEST_PASSWORD


@pytest.fixture
def op(app, live_server):
    app.config["CCAS_BASE_URL"] = live_server  # the redirect URI registered at the provider
    with TestProvider(redirect_uri=f"{live_server}/t/alpha/login/oidc/callback") as provider:
        yield provider
    oidc.forget_metadata()


def test_manager_sets_up_the_provider_and_an_agent_signs_in_with_the_button(browser, op,
                                                                            users):
    page = browser.page
    app_under_test = browser.base
    browser.login(users["manager"].email, TEST_PASSWORD, slug="alpha")
    page.get_by_role("link", name="Administration", exact=True).first.click()
    page.get_by_role("link", name="Connexion et identité").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion et identité")
    expect(page.locator("main")).to_contain_text(f"{app_under_test}/t/alpha/login/oidc/callback")
    browser.check("identite-fournisseurs")
    page.get_by_role("link", name="Ajouter un fournisseur d'identité").click()
    page.get_by_label("Nom affiché sur le bouton").fill("Annuaire de la ville")
    page.get_by_label("Émetteur (issuer) ou URL de découverte").fill(op.issuer)
    page.get_by_label("Identifiant client (client_id)").fill(op.client_id)
    page.get_by_label("Secret client (client_secret)").fill(op.client_secret)
    page.get_by_label("Domaines d'e-mail autorisés").fill("alpha.test")
    browser.check("identite-fournisseur")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("« Annuaire de la ville » enregistré")
    page.get_by_label("Autoriser la connexion par mot de passe").uncheck()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Réglage enregistré.")
    browser.check()
    page.get_by_role("button", name="Se déconnecter").click()

    # Passwords off: the sign-in page offers the provider's button only.
    browser.goto("/t/alpha/login")
    expect(page.get_by_label("Mot de passe")).to_have_count(0)
    browser.check("connexion-fournisseur")
    op.person = {"sub": "sw-1", "email": users["social_worker"].email, "email_verified": True}
    page.get_by_role("link", name="Se connecter avec Annuaire de la ville").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    browser.check()
    assert op.authorize_requests[-1]["code_challenge_method"] == "S256"

    # Signing out here signs out at the provider too, which sends the browser back.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    assert page.url == f"{app_under_test}/t/alpha/login"
    assert len(op.logouts) == 1 and op.logouts[0]["id_token_hint"] == op.issued_id_tokens[-1]
    browser.check()


def test_refused_sign_in_is_explained_on_the_sign_in_page(browser, op, users, session,
                                                         in_tenant, tenant):
    with in_tenant(tenant):
        idp.set_provider(session, "Annuaire", issuer=op.issuer, client_id=op.client_id,
                         client_secret=op.client_secret, domains="alpha.test", tenant=tenant)
        session.commit()
    page = browser.page
    browser.goto("/t/alpha/login")
    op.person = {"sub": "x", "email": "inconnu@alpha.test", "email_verified": True}
    page.get_by_role("link", name="Se connecter avec Annuaire").click()
    expect(page.get_by_role("alert")).to_contain_text("créés sur invitation")
    browser.check()
