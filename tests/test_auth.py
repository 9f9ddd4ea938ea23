"""Sign-in, sessions, CSRF, API tokens, error rendering."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.models import ApiToken, User


def test_login_page_is_french_and_accessible_markup(client, tenant):
    r = client.get("/t/alpha/login")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert '<html lang="fr">' in html
    assert '<label for="email">Adresse e-mail</label>' in html
    assert "<h1>Connexion</h1>" in html


def test_login_with_right_password_opens_dashboard(client, users, login):
    login(client, users["secretary"])
    r = client.get("/t/alpha/")
    assert r.status_code == 200
    assert "Tableau de bord" in r.get_data(as_text=True)


def test_wrong_password_is_refused_with_a_clear_message(client, users):
    r = client.post("/t/alpha/login", data={"email": users["manager"].email, "password": "nope"})
    assert r.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in r.get_data(as_text=True)
    assert client.get("/t/alpha/").status_code == 302


def test_unknown_account_gets_the_same_message(client, tenant):
    r = client.post("/t/alpha/login", data={"email": "ghost@x.fr", "password": "whatever-1"})
    assert r.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in r.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(client, users):
    r = client.post("/t/alpha/login",
                    data={"email": users["manager"].email, "password": "Test-password-2026!"})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_of_one_tenant_is_anonymous_on_another(client, users, other_tenant, login):
    login(client, users["manager"])
    r = client.get("/t/beta/")
    assert r.status_code == 302 and "/t/beta/login" in r.headers["Location"]


def test_user_of_one_tenant_cannot_sign_in_on_another(client, users, other_tenant):
    r = client.post("/t/beta/login",
                    data={"email": users["manager"].email, "password": "Test-password-2026!"})
    assert r.status_code == 401


def test_logout_ends_the_session(client, users, login):
    login(client, users["manager"])
    assert client.post("/t/alpha/logout").status_code == 302
    assert client.get("/t/alpha/").status_code == 302


def test_deactivating_a_user_ends_its_sessions(client, users, login, session, in_tenant, tenant):
    from core import accounts

    login(client, users["manager"])
    with in_tenant(tenant):
        user = session.scalars(select(User).where(User.id == users["manager"].id)).one()
        accounts.deactivate_user(session, user)
        session.commit()
    assert client.get("/t/alpha/").status_code == 302


def test_open_redirect_after_login_is_refused(client, users):
    r = client.post("/t/alpha/login?next=https://evil.example/",
                    data={"email": users["manager"].email, "password": "Test-password-2026!"})
    assert r.headers["Location"] == "/t/alpha/"


def test_idle_session_expires(app, client, users, login):
    login(client, users["manager"])
    with client.session_transaction() as s:
        s["ccas_seen_at"] -= 31 * 60
    r = client.get("/t/alpha/")
    assert r.status_code == 302


def test_unknown_tenant_answers_a_french_404(client):
    r = client.get("/t/nowhere/login")
    assert r.status_code == 404
    assert "Introuvable" in r.get_data(as_text=True)


def test_unexpected_error_shows_no_stack_trace(app, client, tenant):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    from core.policy import public

    public(boom)
    r = client.get("/boom")
    body = r.get_data(as_text=True)
    assert r.status_code == 500
    assert "Traceback" not in body and "secret internals" not in body
    import html

    assert "Rien n'a été enregistré" in html.unescape(body)


def test_role_without_permission_gets_403(client, users, login):
    login(client, users["secretary"])
    r = client.get("/t/alpha/admin/plugins")
    assert r.status_code == 403
    assert "Accès refusé" in r.get_data(as_text=True)


def test_security_headers(client, tenant):
    r = client.get("/t/alpha/login")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def csrf_app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def test_csrf_is_required_on_forms(ccas_database, csrf_app_config, users):
    from core.app import create_app
    from core.testing.pytest_plugin import IsolatedClient

    app = create_app(csrf_app_config)
    app.test_client_class = IsolatedClient
    client = app.test_client()
    r = client.post("/t/alpha/login",
                    data={"email": users["manager"].email, "password": "Test-password-2026!"})
    assert r.status_code == 400
    page = client.get("/t/alpha/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/t/alpha/login", data={"email": users["manager"].email,
                                            "password": "Test-password-2026!",
                                            "csrf_token": token})
    assert r.status_code == 302


# -- API tokens ---------------------------------------------------------------------------


def test_api_me_returns_the_tokens_user(client, users, api_token):
    token = api_token(users["referrer"])
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["email"] == users["referrer"].email
    assert body["role"] == "referrer"
    assert body["organisation"]["name"] == "Association partenaire"
    assert body["tenant"]["slug"] == "alpha"


def test_api_without_token_is_401_problem_json(client, tenant):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["status"] == 401


@pytest.mark.parametrize("bad", ["", "Bearer", "Bearer nope", "Basic abc", "Bearer ccas_x_y",
                                 "Bearer ccas_999999_abc"])
def test_api_malformed_tokens_are_401(client, tenant, bad):
    r = client.get("/api/v1/me", headers={"Authorization": bad})
    assert r.status_code == 401


def test_token_pointed_at_another_tenant_is_refused(client, users, other_tenant, api_token):
    token = api_token(users["manager"])
    forged = token.replace(f"ccas_{users['manager'].tenant_id}_", f"ccas_{other_tenant.id}_")
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


def test_revoked_token_is_refused(client, users, api_token, session, in_tenant, tenant):
    from core import accounts

    token = api_token(users["manager"])
    with in_tenant(tenant):
        row = session.scalars(select(ApiToken)).one()
        accounts.revoke_token(session, row.id)
        session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_expired_token_is_refused(client, users, api_token, session, in_tenant, tenant):
    token = api_token(users["manager"], expires_days=1)
    with in_tenant(tenant):
        row = session.scalars(select(ApiToken)).one()
        row.expires_at = clock.now() - timedelta(seconds=1)
        session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_is_stored_hashed(users, api_token, session, in_tenant, tenant):
    token = api_token(users["manager"])
    with in_tenant(tenant):
        row = session.scalars(select(ApiToken)).one()
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_api_unknown_route_is_problem_json(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_openapi_document_describes_me(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/me" in doc["paths"]
    assert "bearerAuth" in doc["components"]["securitySchemes"]


def test_token_use_is_stamped_at_most_every_five_minutes(client, users, api_token, session,
                                                         in_tenant, tenant, monkeypatch):
    """``last_used_at`` (shown on the tokens page) is written on first use, not again
    within ``LAST_USED_EVERY`` seconds (no write per request), then again after."""
    from core.api import auth

    token = api_token(users["manager"])
    headers = {"Authorization": f"Bearer {token}"}

    def last_used():
        with in_tenant(tenant):
            session.expire_all()
            value = session.scalars(select(ApiToken)).one().last_used_at
            session.rollback()
            return value

    assert last_used() is None
    start = clock.now()
    monkeypatch.setattr(auth.clock, "now", lambda: start)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert last_used() == start
    monkeypatch.setattr(auth.clock, "now",
                        lambda: start + timedelta(seconds=auth.LAST_USED_EVERY - 1))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert last_used() == start
    later = start + timedelta(seconds=auth.LAST_USED_EVERY + 1)
    monkeypatch.setattr(auth.clock, "now", lambda: later)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert last_used() == later


def test_token_of_a_deactivated_account_is_refused(client, users, api_token, session,
                                                   in_tenant, tenant):
    token = api_token(users["manager"])
    with in_tenant(tenant):
        session.get(User, (tenant.id, users["manager"].id)).active = False
        session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
