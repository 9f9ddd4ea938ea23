"""Server-side sessions (issue 18, finding 1): the cookie holds only a random id; logout
ends the session for good; one's sessions are listed and can be ended; a password change
ends them all; ``__Host-`` cookie outside development; Redis as the store when set."""

from __future__ import annotations

import html
import secrets

import pytest
from sqlalchemy import select

from core import accounts, clock
from core.models import User, WebSession
from core.testing.pytest_plugin import TEST_PASSWORD, csrf_token_of
from core.web import sessions

REDIS_URL = "redis://127.0.0.1:6379"


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(params=["database", "redis"])
def app_config(app_config, request):
    config = {**app_config, "WTF_CSRF_ENABLED": True}
    if request.param == "redis":
        if not _redis_available():
            pytest.skip("no Redis server on 127.0.0.1:6379")
        config["CCAS_SESSION_STORAGE_URL"] = REDIS_URL
        # a prefix of its own: Redis outlives the test, and an operator's id (an integer)
        # is the same in every test database
        config["CCAS_SESSION_STORAGE_PREFIX"] = f"ccas-test:{secrets.token_hex(6)}:"
    return config


def _cookie(client) -> str:
    cookie = client.get_cookie("ccas_session")
    assert cookie is not None
    return cookie.value


def _post(client, url, data=None, page=None):
    token = csrf_token_of(client, page or url)
    return client.post(url, data={**(data or {}), "csrf_token": token})


def test_the_cookie_holds_only_a_random_id(client, users, login, session, app):
    login(client, users["manager"])
    value = _cookie(client)
    assert len(value) >= 40 and "." not in value  # not a signed, readable document
    assert str(users["manager"].id) not in value
    if not app.config.get("CCAS_SESSION_STORAGE_URL"):
        session.close()
        rows = session.scalars(select(WebSession)).all()
        assert [r.account for r in rows if r.account] == [
            f"u:{users['manager'].tenant_id}:{users['manager'].id}"]
        assert all(value not in (r.secret_hash, str(r.id)) for r in rows)


def test_logout_ends_the_session_even_if_the_old_cookie_is_replayed(app, client, users, login):
    login(client, users["manager"])
    old = _cookie(client)
    assert client.get("/t/alpha/cases/").status_code == 200
    r = _post(client, "/t/alpha/logout", page="/t/alpha/")
    assert r.status_code == 302
    replay = app.test_client()
    replay.set_cookie("ccas_session", old)
    r = replay.get("/t/alpha/cases/", headers={"User-Agent": "Werkzeug/test"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_sessions_page_lists_and_ends_one_or_all_other_sessions(app, client, users, login):
    manager = users["manager"]
    others = [app.test_client() for _ in range(2)]
    for other in others:
        login(other, manager)
    login(client, manager)
    page = html.unescape(client.get("/t/alpha/account/sessions").get_data(as_text=True))
    assert page.count("Fermer cette session") == 2 and "Cette session" in page
    assert "Fermer toutes les autres sessions" in page
    first = page.split('/account/sessions/')[1].split('/end"')[0]
    assert _post(client, f"/t/alpha/account/sessions/{first}/end",
                 page="/t/alpha/account/sessions").status_code == 302
    alive = [o.get("/t/alpha/cases/").status_code for o in others]
    assert sorted(alive) == [200, 302]  # exactly one of the two ended
    _post(client, "/t/alpha/account/sessions/end-others", page="/t/alpha/account/sessions")
    assert [o.get("/t/alpha/cases/").status_code for o in others] == [302, 302]
    assert client.get("/t/alpha/cases/").status_code == 200  # this one goes on
    page = html.unescape(client.get("/t/alpha/account/sessions").get_data(as_text=True))
    assert "Fermer cette session" not in page


def test_one_cannot_end_someone_elses_session(app, client, users, login):
    login(client, users["secretary"])
    victim = app.test_client()
    login(victim, users["manager"])
    rows = sessions.store(app).of_account(
        f"u:{users['manager'].tenant_id}:{users['manager'].id}", clock.now())
    r = _post(client, f"/t/alpha/account/sessions/{rows[0].id}/end",
              page="/t/alpha/account/sessions")
    assert r.status_code == 404
    assert victim.get("/t/alpha/cases/").status_code == 200


def test_a_password_change_ends_every_session(app, client, users, login, session, in_tenant,
                                              tenant):
    login(client, users["manager"])
    with in_tenant(tenant):
        user = session.scalar(select(User).where(User.id == users["manager"].id))
        accounts.set_password(session, user, "Un-autre-secret-2026!")
        session.commit()
    assert client.get("/t/alpha/cases/").status_code == 302


def test_production_cookie_is_host_prefixed_and_secure(ccas_database, app_config, users):
    from core.app import create_app
    from core.testing.pytest_plugin import IsolatedClient

    # production refuses SQLite unless forced: this test runs on both databases
    prod = create_app({**app_config, "CCAS_ENV": "production", "WTF_CSRF_ENABLED": False,
                       "CCAS_SECRET_KEY": "x" * 40, "SECRET_KEY": "x" * 40,
                       "CCAS_ALLOW_SQLITE": True})
    prod.test_client_class = IsolatedClient
    client = prod.test_client()
    r = client.post("/t/alpha/login", data={"email": users["manager"].email,
                                            "password": TEST_PASSWORD},
                    base_url="https://localhost")
    assert r.status_code == 302
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("__Host-ccas_session=") and "Secure" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie and "HttpOnly" in cookie


def _operator_login(client):
    r = _post(client, "/operator/login", {"email": "operator@platform.test",
                                          "password": TEST_PASSWORD})
    assert r.status_code == 302, r.status_code


def test_an_operator_sees_and_ends_their_own_sessions(app, client, operator, users, login,
                                                      caplog):
    others = [app.test_client() for _ in range(2)]
    for other in others:
        _operator_login(other)
    _operator_login(client)
    manager = app.test_client()
    login(manager, users["manager"])
    page = html.unescape(client.get("/operator/account/sessions").get_data(as_text=True))
    assert "<h1>Sessions ouvertes</h1>" in page and 'href="/operator/account/sessions"' in page
    assert page.count("Fermer cette session") == 2 and "Cette session" in page
    # the manager's session is not the operator's to end
    manager_rows = sessions.store(app).of_account(
        f"u:{users['manager'].tenant_id}:{users['manager'].id}", clock.now())
    assert _post(client, f"/operator/account/sessions/{manager_rows[0].id}/end",
                 page="/operator/account/sessions").status_code == 404
    first = page.split("/operator/account/sessions/")[1].split('/end"')[0]
    caplog.set_level("INFO", logger="core.web.session_pages")
    assert _post(client, f"/operator/account/sessions/{first}/end",
                 page="/operator/account/sessions").status_code == 302
    assert sorted(o.get("/operator/").status_code for o in others) == [200, 302]
    _post(client, "/operator/account/sessions/end-others", page="/operator/account/sessions")
    assert [o.get("/operator/").status_code for o in others] == [302, 302]
    assert client.get("/operator/").status_code == 200
    assert manager.get("/t/alpha/cases/").status_code == 200
    logged = [r.getMessage() for r in caplog.records if r.name == "core.web.session_pages"]
    assert any("session.end " in m and first in m for m in logged)
    assert any("session.end_others" in m for m in logged)
    # a tenant's user has no operator page
    r = manager.get("/operator/account/sessions")
    assert r.status_code == 302 and "/operator/login" in r.headers["Location"]
