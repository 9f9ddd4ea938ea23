"""The manager's page for identity providers and the password setting (CSRF on)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.accounts.sealing import unseal
from core.models import IdentityProvider
from core.testing.pytest_plugin import TEST_PASSWORD


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}  # as in production


def token_of(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def post_form(client, page: str, data: dict, action: str | None = None):
    return client.post(action or page, data={**data, "csrf_token": token_of(client, page)})


def sign_in(client, user):
    r = post_form(client, "/t/alpha/login", {"email": user.email, "password": TEST_PASSWORD})
    assert r.status_code == 302


NEW = {
    "name": "Annuaire de la ville", "issuer": "https://sso.alpha.test/realms/agents",
    "client_id": "ccas", "client_secret": "tres-secret-42",
    "domains": "alpha.test, ccas.alpha.test",
    "scopes": "openid email profile", "organisation": "", "active": "on",
}


def test_manager_adds_a_provider_and_its_secret_is_never_shown_again(client, users, session,
                                                                     in_tenant, tenant):
    sign_in(client, users["manager"])
    page = client.get("/t/alpha/admin/identity").get_data(as_text=True)
    assert "<h1>Connexion et identité</h1>" in page
    assert "http://localhost/t/alpha/login/oidc/callback" in page
    r = post_form(client, "/t/alpha/admin/identity/provider", NEW)
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    with in_tenant(tenant):
        row = session.scalars(select(IdentityProvider)).one()
        assert row.allowed_domains == ["alpha.test", "ccas.alpha.test"]
        assert row.organisation_id is None and row.active
        assert "tres-secret-42" not in row.client_secret_sealed
        assert unseal(row.client_secret_sealed) == "tres-secret-42"
    listing = client.get("/t/alpha/admin/identity").get_data(as_text=True)
    assert "Annuaire de la ville" in listing and "Tout le territoire" in listing
    edit = client.get(f"/t/alpha/admin/identity/provider/{row.id}").get_data(as_text=True)
    assert "tres-secret-42" not in edit and "sso.alpha.test" in edit
    # An empty secret field keeps the stored secret.
    r = post_form(client, f"/t/alpha/admin/identity/provider/{row.id}",
                  {**NEW, "client_secret": "", "domains": "alpha.test"})
    assert r.status_code == 302
    session.expire_all()
    with in_tenant(tenant):
        row = session.scalars(select(IdentityProvider)).one()
        assert unseal(row.client_secret_sealed) == "tres-secret-42"
        assert row.allowed_domains == ["alpha.test"]
    assert "Se connecter avec Annuaire de la ville" in client.get(
        "/t/alpha/login").get_data(as_text=True)


def test_bad_provider_form_is_refused_in_french_nothing_written(client, users, session,
                                                                in_tenant, tenant):
    sign_in(client, users["manager"])
    r = post_form(client, "/t/alpha/admin/identity/provider",
                  {**NEW, "issuer": "http://sso.alpha.test"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Adresse de l&#39;émetteur invalide" in html and 'aria-invalid="true"' in html
    assert "tres-secret-42" not in html
    r = post_form(client, "/t/alpha/admin/identity/provider", {**NEW, "domains": ""})
    assert r.status_code == 422
    assert "indiquez les domaines d&#39;e-mail autorisés" in r.get_data(as_text=True)
    with in_tenant(tenant):
        assert session.scalars(select(IdentityProvider)).first() is None


def test_passwords_are_turned_off_only_with_a_provider(client, users, session, in_tenant, tenant):
    sign_in(client, users["manager"])
    r = post_form(client, "/t/alpha/admin/identity", {})  # checkbox unticked: off
    assert r.status_code == 302
    page = client.get("/t/alpha/admin/identity").get_data(as_text=True)
    assert "configurez d&#39;abord un fournisseur" in page
    post_form(client, "/t/alpha/admin/identity/provider", NEW)
    post_form(client, "/t/alpha/admin/identity", {})
    session.expire_all()
    client.post("/t/alpha/logout", data={"csrf_token": token_of(client, "/t/alpha/")})
    login_page = client.get("/t/alpha/login").get_data(as_text=True)
    assert "Se connecter avec Annuaire de la ville" in login_page
    assert 'name="password"' not in login_page


def test_only_the_manager_configures_identity(client, users):
    sign_in(client, users["secretary"])
    assert client.get("/t/alpha/admin/identity").status_code in (403, 404)
    r = client.post("/t/alpha/admin/identity/provider",
                    data={**NEW, "csrf_token": token_of(client, "/t/alpha/")})
    assert r.status_code in (403, 404)


def test_manager_unlinks_an_account_from_the_page(client, users, session, in_tenant, tenant):
    sign_in(client, users["manager"])
    post_form(client, "/t/alpha/admin/identity/provider", NEW)
    r = post_form(client, "/t/alpha/admin/identity",
                  {"provider": "Annuaire de la ville", "email": users["secretary"].email},
                  action="/t/alpha/admin/identity/unlink")
    assert r.status_code == 302
    page = client.get("/t/alpha/admin/identity").get_data(as_text=True)
    assert "lié à aucune identité de ce fournisseur" in page.replace("&#39;", "'")
    r = post_form(client, "/t/alpha/admin/identity",
                  {"provider": "Annuaire de la ville", "email": "personne@alpha.test"},
                  action="/t/alpha/admin/identity/unlink")
    assert "Aucun compte" in client.get("/t/alpha/admin/identity").get_data(as_text=True)
