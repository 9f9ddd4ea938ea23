"""Sign-in through OpenID Connect, against a real provider started by the tests
(``core.testing.oidc_provider``: Authlib's server components on a loopback port)."""

from __future__ import annotations

import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from core import accounts, clock
from core.accounts import identity_providers as idp
from core.accounts import oidc, totp
from core.accounts.sealing import SealBroken, seal, unseal
from core.models import AuditEvent, IdentityLink, IdentityProvider, Tenant, User
from core.testing.oidc_provider import TestProvider, new_key

CALLBACK = "http://localhost/t/alpha/login/oidc/callback"


@pytest.fixture
def op():
    with TestProvider(redirect_uri=CALLBACK) as provider:
        yield provider
    oidc.forget_metadata()


@pytest.fixture
def provider(op, tenant, users, session, in_tenant):
    """The tenant's provider "Annuaire" (the test provider), for addresses @alpha.test."""
    with in_tenant(tenant):
        row = idp.set_provider(session, "Annuaire", issuer=op.issuer, client_id=op.client_id,
                               client_secret=op.client_secret, domains="alpha.test",
                               tenant=tenant)
        session.commit()
        return row


def person(user, **claims) -> dict:
    return {"sub": f"sub-{user.email}", "email": user.email.upper(), "email_verified": True,
            **claims}


def go_to_provider(client, provider_row, slug="alpha", next_url=None):
    """Click the provider's button; the provider's answer (the callback path with code
    and state), as a browser would follow it."""
    query = f"?next={next_url}" if next_url else ""
    start = client.get(f"/t/{slug}/login/oidc/{provider_row.id}{query}")
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return f"{back.path}?{back.query}"


def sign_in_through(client, provider_row, **kw):
    return client.get(go_to_provider(client, provider_row, **kw))


def refused_with(response, message: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 401, html[:500]
    assert message in html.replace("&#39;", "'"), html[:2000]


def signed_in(client) -> bool:
    return client.get("/t/alpha/").status_code == 200


# -- the flow ---------------------------------------------------------------------------


def test_sign_in_through_the_provider_opens_the_session_of_the_invited_account(
        client, op, provider, users, session, in_tenant):
    worker = users["social_worker"]
    op.person = person(worker)
    r = sign_in_through(client, provider)
    assert r.status_code == 302 and r.headers["Location"] == "/t/alpha/"
    page = client.get("/t/alpha/")
    assert page.status_code == 200 and "Tableau de bord" in page.get_data(as_text=True)
    # Authorization code with PKCE (S256), state and nonce, as the library sends them.
    asked = op.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"]
    assert asked["state"] and asked["nonce"] and asked["response_type"] == "code"
    assert asked["redirect_uri"] == CALLBACK
    with in_tenant(provider_tenant(session, provider)):
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).one()
        assert event.detail == {"method": "oidc", "provider": "Annuaire"}


def provider_tenant(session, provider_row):
    return session.get(Tenant, provider_row.tenant_id)


def test_sign_in_keeps_the_page_asked_for_and_our_roles(client, op, provider, users):
    op.person = person(users["secretary"], roles=["admin"], role="manager")
    r = sign_in_through(client, provider, next_url="/t/alpha/cases")
    assert r.headers["Location"] == "/t/alpha/cases"
    # The provider's claims never give a role: the secretary stays a secretary.
    assert client.get("/t/alpha/admin/identity").status_code in (403, 404)


def test_wrong_audience_is_refused(client, op, provider, users):
    op.person = person(users["manager"])
    op.audience = "another-application"
    refused_with(sign_in_through(client, provider), "n'est pas valable")
    assert not signed_in(client)


def test_expired_id_token_is_refused(client, op, provider, users):
    op.person = person(users["manager"])
    op.expires_in = -120  # beyond the minute of leeway
    refused_with(sign_in_through(client, provider), "n'est pas valable")
    assert not signed_in(client)


def test_id_token_of_an_earlier_sign_in_is_refused_replayed_nonce(client, app, op, provider,
                                                                   users):
    op.person = person(users["manager"])
    assert sign_in_through(client, provider).status_code == 302
    earlier = op.issued_id_tokens[-1]
    other = app.test_client()
    op.replay_id_token = earlier  # a valid, signed token, but for another sign-in's nonce
    refused_with(sign_in_through(other, provider), "n'est pas valable")
    assert other.get("/t/alpha/").status_code == 302


def test_id_token_signed_with_another_key_is_refused(client, op, provider, users):
    op.person = person(users["manager"])
    op.forge_with = new_key("test-provider-key")  # the published key's id, not its key
    refused_with(sign_in_through(client, provider), "n'est pas valable")
    assert not signed_in(client)


def test_id_token_of_another_issuer_is_refused(client, op, provider, users):
    op.person = person(users["manager"])
    op.token_issuer = "https://faux-fournisseur.example"
    refused_with(sign_in_through(client, provider), "n'est pas valable")
    assert not signed_in(client)


def test_the_providers_new_key_is_fetched_when_it_rotates(client, app, op, provider, users):
    op.person = person(users["manager"])
    assert sign_in_through(client, provider).status_code == 302  # keys now cached
    op.key = new_key("rotated-key")
    other = app.test_client()
    assert sign_in_through(other, provider).status_code == 302
    assert other.get("/t/alpha/").status_code == 200


def test_the_first_sign_in_pins_the_providers_subject_to_the_account(client, app, op,
                                                                    provider, users, session,
                                                                    in_tenant, tenant):
    manager = users["manager"]
    op.person = person(manager, sub="agent-a")
    assert sign_in_through(client, provider).status_code == 302
    # The address now belongs to someone else at the provider: refused.
    op.person = person(manager, sub="agent-b")
    newcomer = app.test_client()
    refused_with(sign_in_through(newcomer, provider), "liée à une autre identité")
    # The first identity cannot take another account by changing its address either.
    op.person = person(users["secretary"], sub="agent-a")
    refused_with(sign_in_through(app.test_client(), provider), "liée à une autre identité")
    # Once the manager unlinks the account, the new identity signs in (and is pinned).
    with in_tenant(tenant):
        assert idp.unlink(session, "Annuaire", manager.email) == 1
        session.commit()
    op.person = person(manager, sub="agent-b")
    assert sign_in_through(newcomer, provider).status_code == 302
    with in_tenant(tenant):
        links = session.scalars(select(IdentityLink)).all()
        assert [(link.user_id, link.subject) for link in links] == [(manager.id, "agent-b")]


def test_unknown_email_is_refused_and_no_account_is_created(client, op, provider, users,
                                                           session, in_tenant, tenant):
    with in_tenant(tenant):
        before = session.scalar(select(func.count()).select_from(User))
    op.person = {"sub": "stranger", "email": "nouvel.agent@alpha.test", "email_verified": True}
    refused_with(sign_in_through(client, provider), "Les comptes sont créés sur invitation")
    with in_tenant(tenant):
        assert session.scalar(select(func.count()).select_from(User)) == before
    assert not signed_in(client)


def test_account_deactivated_here_is_refused_and_recorded(client, op, provider, users, session,
                                                         in_tenant, tenant):
    worker = users["social_worker"]
    with in_tenant(tenant):
        accounts.deactivate_user(session, session.get(User, (tenant.id, worker.id)))
        session.commit()
    op.person = person(worker)
    refused_with(sign_in_through(client, provider), "Ce compte est désactivé")
    assert not signed_in(client)
    with in_tenant(tenant):
        failed = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "login.failed")).one()
        assert failed.detail["reason"] == "account_inactive"


def test_state_mismatch_is_refused(client, op, provider, users):
    op.person = person(users["manager"])
    path = go_to_provider(client, provider)
    split = urlsplit(path)
    query = parse_qs(split.query)
    forged = f"{split.path}?code={query['code'][0]}&state=not-the-one-we-sent"
    refused_with(client.get(forged), "ne correspond à aucune connexion en cours")
    assert not signed_in(client)


def test_a_callback_answered_twice_is_refused_the_second_time(client, app, op, provider, users):
    op.person = person(users["manager"])
    path = go_to_provider(client, provider)
    assert client.get(path).status_code == 302
    client.post("/t/alpha/logout")
    refused_with(client.get(path), "ne correspond à aucune connexion en cours")


def test_callback_in_another_browser_is_refused(client, app, op, provider, users):
    """The state lives in the session of the browser that started: a link sent to a
    victim (login CSRF) finds no flow there."""
    op.person = person(users["manager"])
    path = go_to_provider(client, provider)
    refused_with(app.test_client().get(path), "ne correspond à aucune connexion en cours")


def test_email_domain_not_allowed_is_refused(client, op, provider, tenant, make_user):
    outsider = make_user(tenant, "secretary", email="agent@ailleurs.test")
    op.person = person(outsider)
    refused_with(sign_in_through(client, provider), "ne peuvent pas se connecter par ce")
    assert not signed_in(client)


def test_unverified_email_is_refused(client, op, provider, users):
    op.person = person(users["manager"], email_verified=False)
    refused_with(sign_in_through(client, provider), "n'est pas vérifiée")
    op.person = {k: v for k, v in person(users["manager"]).items() if k != "email_verified"}
    refused_with(sign_in_through(client, provider), "n'est pas vérifiée")
    assert not signed_in(client)


def test_a_provider_that_vouches_for_its_addresses_may_be_trusted(client, op, provider, users,
                                                                 session, in_tenant, tenant):
    with in_tenant(tenant):
        idp.set_provider(session, "Annuaire", trust_unverified_email=True, tenant=tenant)
        session.commit()
    op.person = {k: v for k, v in person(users["manager"]).items() if k != "email_verified"}
    assert sign_in_through(client, provider).status_code == 302
    assert signed_in(client)


def test_provider_error_answer_is_refused(client, op, provider, users):
    op.person = person(users["manager"])
    start = client.get(f"/t/alpha/login/oidc/{provider.id}")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    refused_with(client.get(f"/t/alpha/login/oidc/callback?error=access_denied&state={state}"),
                 "n'a pas confirmé la connexion")


def test_a_partner_organisation_provider_signs_in_only_its_own_accounts(
        client, app, op, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        row = idp.set_provider(session, "Association", issuer=op.issuer,
                               client_id=op.client_id, client_secret=op.client_secret,
                               domains="alpha.test", organisation="Association partenaire",
                               tenant=tenant)
        session.commit()
    op.person = person(users["manager"])  # a CCAS account: not this provider's
    refused_with(sign_in_through(client, row), "Les comptes sont créés sur invitation")
    op.person = person(users["referrer"])
    other = app.test_client()
    assert sign_in_through(other, row).status_code == 302
    assert other.get("/t/alpha/").status_code == 200


def test_another_tenants_provider_is_not_found(client, provider, other_tenant):
    assert client.get(f"/t/beta/login/oidc/{provider.id}").status_code == 404


def test_second_factor_still_asked_after_the_provider(client, op, provider, users, session,
                                                     in_tenant, tenant):
    manager = users["manager"]
    with in_tenant(tenant):
        account = session.get(User, (tenant.id, manager.id))
        secret = totp.pending_secret(session, account)
        code = totp.totp(totp.secret_bytes(secret), clock.timestamp())
        totp.confirm_enrolment(session, account, code)
        session.commit()
    op.person = person(manager)
    r = sign_in_through(client, provider)
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/alpha/login/code")
    assert not signed_in(client)


# -- sign-out ---------------------------------------------------------------------------


def test_sign_out_ends_our_session_and_the_providers(client, op, provider, users):
    op.person = person(users["manager"])
    sign_in_through(client, provider)
    id_token = op.issued_id_tokens[-1]
    r = client.post("/t/alpha/logout")
    assert r.status_code == 200  # a page moving on at once (meta refresh, and a link)
    url = r.get_data(as_text=True).split('http-equiv="refresh" content="0; url=')[1]
    url = url.split('"')[0].replace("&amp;", "&")
    at_provider = urlsplit(url)
    assert at_provider.netloc == urlsplit(op.issuer).netloc
    query = parse_qs(at_provider.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://localhost/t/alpha/login"]
    assert not signed_in(client)
    back = requests.get(url, allow_redirects=False, timeout=10)
    assert back.headers["Location"] == "http://localhost/t/alpha/login"
    assert op.logouts and op.logouts[-1]["id_token_hint"] == id_token


def test_sign_out_without_provider_logout_stays_here(client, op, provider, users):
    op.supports_logout = False
    op.person = person(users["manager"])
    sign_in_through(client, provider)
    r = client.post("/t/alpha/logout")
    assert r.headers["Location"] == "/t/alpha/login"
    assert not signed_in(client)


# -- passwords on or off ----------------------------------------------------------------


def test_passwords_cannot_be_turned_off_without_a_provider(session, tenant, in_tenant):
    with in_tenant(tenant), pytest.raises(accounts.UserError, match="configurez d'abord"):
        idp.set_password_sign_in(session, tenant, False)


def test_passwords_off_the_login_page_shows_only_the_provider(client, provider, users,
                                                              session, in_tenant, tenant):
    with in_tenant(tenant):
        idp.set_password_sign_in(session, tenant, False)
        session.commit()
    html = client.get("/t/alpha/login").get_data(as_text=True)
    assert "Se connecter avec Annuaire" in html
    assert 'name="password"' not in html and "Mot de passe oublié" not in html
    r = client.post("/t/alpha/login", data={"email": users["manager"].email,
                                            "password": "Test-password-2026!"})
    assert r.status_code == 403
    assert "connexion par mot de passe est désactivée" in r.get_data(as_text=True)
    assert not signed_in(client)


def test_passwords_on_both_ways_are_offered(client, provider):
    html = client.get("/t/alpha/login").get_data(as_text=True)
    assert "Se connecter avec Annuaire" in html and 'name="password"' in html


def test_the_last_provider_open_to_all_stays_while_passwords_are_off(session, provider,
                                                                     in_tenant, tenant):
    with in_tenant(tenant):
        idp.set_password_sign_in(session, tenant, False)
        session.commit()
        with pytest.raises(accounts.UserError, match="dernier"):
            idp.remove_provider(session, "Annuaire", tenant=tenant)
        session.rollback()
        with pytest.raises(accounts.UserError, match="fournisseur d'identité actif"):
            idp.set_provider(session, "Annuaire", active=False, tenant=tenant)


# -- configuration ----------------------------------------------------------------------


def test_client_secret_is_sealed_in_the_database(app, provider, op, ccas_database, tenant):
    with ccas_database.owner_connection() as connection, connection.begin():
        if connection.dialect.name == "postgresql":  # what a dump sees: every tenant
            connection.exec_driver_sql("SELECT set_config('ccas.cross', 'on', true)")
        stored = connection.exec_driver_sql(
            "SELECT client_secret_sealed FROM identity_providers").scalar_one()
    assert op.client_secret not in stored and stored.startswith("fernet1:")
    assert unseal(stored) == op.client_secret
    with pytest.raises(SealBroken):
        unseal(stored, key_material="another deployment's key")


def test_secret_sealed_by_another_deployment_asks_to_enter_it_again(client, provider, session,
                                                                   in_tenant, tenant):
    with in_tenant(tenant):
        row = session.get(IdentityProvider, (tenant.id, provider.id))
        row.client_secret_sealed = seal("x", key_material="elsewhere")
        session.commit()
    r = client.get(f"/t/alpha/login/oidc/{provider.id}")
    assert r.status_code == 401
    assert "doit être saisi à nouveau" in r.get_data(as_text=True).replace("&#39;", "'")


@pytest.mark.parametrize("issuer", ["http://idp.ville.fr", "ftp://x", "pas une url", ""])
def test_issuer_must_be_https(issuer):
    with pytest.raises(accounts.UserError, match="émetteur"):
        idp.normalise_issuer(issuer)


def test_discovery_url_is_accepted_as_issuer():
    assert idp.normalise_issuer(
        " https://auth.ville.fr/realms/agents/.well-known/openid-configuration ") == (
        "https://auth.ville.fr/realms/agents")


def test_allowed_domains_are_checked():
    assert idp.parse_domains("Ville.fr, @ccas-ville.fr\nville.fr") == ["ville.fr",
                                                                      "ccas-ville.fr"]
    with pytest.raises(accounts.UserError, match="au moins un domaine"):
        idp.parse_domains(" , ")
    with pytest.raises(accounts.UserError, match="invalide"):
        idp.parse_domains("ville")


def test_cli_sets_lists_and_removes_a_provider(ccas, tenant, monkeypatch, op, session,
                                               in_tenant):
    monkeypatch.setenv("CCAS_SECRET_KEY", "test-secret")  # the same key as the test app
    r = ccas("idp", "set", "--tenant", "alpha", "ProConnect", "--issuer", op.issuer,
             "--client-id", "abc", "--client-secret-stdin", "--domains", "alpha.test",
             "--scopes", "openid email given_name usual_name", input="le-secret\n")
    assert r.exit_code == 0, r.output
    assert "/t/alpha/login/oidc/callback" in r.output
    listed = ccas("idp", "list", "--tenant", "alpha")
    assert "ProConnect" in listed.output and "le-secret" not in listed.output
    assert "Mots de passe : autorisés" in listed.output
    with in_tenant(tenant):
        row = session.scalars(select(IdentityProvider)).one()
        assert unseal(row.client_secret_sealed) == "le-secret"
    unlinked = ccas("idp", "unlink", "--tenant", "alpha", "ProConnect", "--email",
                    "personne@alpha.test")
    assert unlinked.exit_code == 1 and "Aucun compte" in unlinked.output
    assert ccas("idp", "passwords", "--tenant", "alpha", "off").exit_code == 0
    refused = ccas("idp", "remove", "--tenant", "alpha", "ProConnect")
    assert refused.exit_code == 1 and "dernier" in refused.output
    assert ccas("idp", "passwords", "--tenant", "alpha", "on").exit_code == 0
    assert ccas("idp", "remove", "--tenant", "alpha", "ProConnect").exit_code == 0


def test_cli_new_provider_needs_everything(ccas, tenant):
    r = ccas("idp", "set", "--tenant", "alpha", "Keycloak", "--issuer",
             "https://sso.ville.fr/realms/agents")
    assert r.exit_code == 1 and "Pour un nouveau fournisseur" in r.output


def test_passwords_off_no_password_reset_either(client, provider, users, session, in_tenant,
                                                tenant):
    with in_tenant(tenant):
        idp.set_password_sign_in(session, tenant, False)
        session.commit()
    r = client.post("/t/alpha/password/forgot", data={"email": users["manager"].email})
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/alpha/login")
    assert "n'utilise pas de mot de passe" in client.get("/t/alpha/login").get_data(
        as_text=True).replace("&#39;", "'")


def test_a_token_too_long_to_keep_signs_out_without_hint(client, op, provider, users,
                                                              monkeypatch):
    monkeypatch.setattr(oidc, "MAX_HINT_CHARS", 10)
    op.person = person(users["manager"])
    sign_in_through(client, provider)
    page = client.post("/t/alpha/logout").get_data(as_text=True)
    url = page.split('content="0; url=')[1].split('"')[0].replace("&amp;", "&")
    query = parse_qs(urlsplit(url).query)
    assert "id_token_hint" not in query and query["client_id"] == [op.client_id]
    assert not signed_in(client)


def test_a_tenant_export_carries_its_providers_sealed(ccas, monkeypatch, provider, op, tmp_path,
                                                     session, in_tenant, client, users):
    """Export, delete, import: the provider comes back and still signs in (same key); the
    archive holds the sealed secret only."""
    monkeypatch.setenv("CCAS_SECRET_KEY", "test-secret")
    op.person = person(users["manager"])
    archive = tmp_path / "alpha.zip"
    assert ccas("tenant", "export", "alpha", "--output", archive).exit_code == 0
    with zipfile.ZipFile(archive) as members:
        contents = b"".join(members.read(name) for name in members.namelist())
    assert b"identity_providers" in contents and b"fernet1:" in contents
    assert op.client_secret.encode() not in contents
    assert ccas("tenant", "delete", "alpha", "--yes").exit_code == 0
    result = ccas("tenant", "import", archive)
    assert result.exit_code == 0, result.output
    session.expire_all()
    tenant = session.scalar(select(Tenant).where(Tenant.slug == "alpha"))
    with in_tenant(tenant):
        row = session.scalars(select(IdentityProvider)).one()
        assert unseal(row.client_secret_sealed) == op.client_secret
    assert sign_in_through(client, row).status_code == 302
    assert signed_in(client)
