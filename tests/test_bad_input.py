"""Bad input on the existing endpoints (sign-in, operator tenant creation, plugin settings,
the API): a clear 4xx, nothing written, never a stack trace."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from core.models import AuditEvent, PluginState, Tenant
from core.testing.pytest_plugin import count_every_tenant


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CCAS_MAX_UPLOAD_MB": 1}


def _no_trace(response) -> str:
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and 'File "' not in body
    return html.unescape(body)


def _counts(session) -> tuple[int, int]:
    session.close()
    return count_every_tenant(Tenant), count_every_tenant(AuditEvent)


# -- oversized bodies -------------------------------------------------------------------------


def test_oversized_form_is_refused_with_413(client, users, session):
    before = _counts(session)
    r = client.post("/t/alpha/login", data={"email": users["manager"].email,
                                            "password": "x" * (2 * 1024 * 1024)})
    assert r.status_code == 413
    assert "dépasse la taille autorisée" in _no_trace(r)
    assert _counts(session) == before


def test_oversized_api_body_is_refused_with_problem_json(client, users, api_token):
    token = api_token(users["manager"])
    r = client.post("/api/v1/me", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                    headers={"Authorization": f"Bearer {token}",
                             "Content-Type": "application/json"})
    assert r.status_code == 413 and r.mimetype == "application/problem+json"


def test_oversized_operator_form_is_refused(client, operator, login, session):
    login(client, operator)
    before = _counts(session)
    r = client.post("/operator/", data={"slug": "gamma", "name": "n" * (2 * 1024 * 1024)})
    assert r.status_code == 413
    assert _counts(session) == before


# -- content types ----------------------------------------------------------------------------


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml",
                                   "application/x-www-form-urlencoded"])
def test_api_refuses_bodies_that_are_not_json_with_415(client, users, api_token, ctype):
    token = api_token(users["manager"])
    r = client.post("/api/v1/me", data=b"a=1",
                    headers={"Authorization": f"Bearer {token}", "Content-Type": ctype})
    assert r.status_code == 415
    assert r.mimetype == "application/problem+json"
    assert "JSON" in r.get_json()["detail"]


@pytest.mark.parametrize("body", [b"{not json", b'{"a": "\xff\xfe"}', b"[" * 100000,
                                  b'{"n": 1' + b"0" * 5000 + b"}"])
def test_api_refuses_malformed_json_with_400(client, users, api_token, body):
    token = api_token(users["manager"])
    r = client.post("/api/v1/me", data=body, headers={"Authorization": f"Bearer {token}",
                                                      "Content-Type": "application/json"})
    assert r.status_code == 400
    assert "JSON valide" in r.get_json()["detail"]


def test_api_method_not_allowed_is_problem_json(client, users, api_token):
    token = api_token(users["manager"])
    r = client.post("/api/v1/me", json={"x": 1}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 405 and r.mimetype == "application/problem+json"


# -- invalid UTF-8 ----------------------------------------------------------------------------


def test_login_form_with_invalid_utf8_is_refused(client, users, session):
    before = _counts(session)
    r = client.post("/t/alpha/login", data=b"email=%FF%FEmanager&password=%C3%28",
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400
    assert "UTF-8" in _no_trace(r)
    assert _counts(session) == before


def test_operator_tenant_form_with_invalid_utf8_writes_nothing(client, operator, login,
                                                               session):
    login(client, operator)
    before = _counts(session)
    r = client.post("/operator/", data=b"slug=gamma&name=Ville%FF&city=x&timezone=Europe/Paris",
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400
    assert _counts(session) == before


# -- huge numbers, impossible dates, nonsense values ---------------------------------------------


@pytest.mark.parametrize("timezone", ["Europe/Nowhere", "2019-02-30", "../../etc/passwd",
                                      "Europe/Paris/../x"])
def test_tenant_creation_with_bad_timezone_is_a_clear_422(client, operator, login, session,
                                                           timezone):
    login(client, operator)
    before = _counts(session)
    r = client.post("/operator/", data={"slug": "gamma", "name": "Gamma", "city": "Gamma",
                                        "timezone": timezone})
    assert r.status_code == 422
    assert "Fuseau horaire inconnu" in _no_trace(r)
    assert _counts(session) == before


@pytest.mark.parametrize("slug", ["2019-02-30", "x" * 5000, "A b", "é-ville"])
def test_tenant_creation_with_bad_slug_is_a_clear_422(client, operator, login, session, slug):
    login(client, operator)
    before = _counts(session)
    r = client.post("/operator/", data={"slug": slug, "name": "Gamma", "city": "Gamma",
                                        "timezone": "Europe/Paris"})
    assert r.status_code == 422
    assert "Identifiant invalide" in _no_trace(r)
    assert _counts(session) == before


@pytest.mark.parametrize("value", ["1" + "0" * 400, "1e999999", "-5", "2019-02-30", "NaN",
                                   "１２"])
def test_plugin_setting_with_nonsense_number_is_a_clear_422(client, users, login, session,
                                                            in_tenant, tenant, value):
    login(client, users["manager"])
    r = client.post("/t/alpha/admin/plugins/caf",
                    data={"family_quotient_threshold": value, "aid_rules": ""})
    assert r.status_code == 422
    body = _no_trace(r)
    assert 'aria-invalid="true"' in body
    with in_tenant(tenant):
        session.expire_all()
        assert session.scalars(select(PluginState)).all() == []


def test_login_with_a_huge_email_is_a_plain_refusal(client, tenant, session):
    before = _counts(session)
    r = client.post("/t/alpha/login", data={"email": "ab@x.fr" + "é" * 10000,
                                            "password": "p" * 5000})
    assert r.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in _no_trace(r)
    assert _counts(session) == before


def test_nul_characters_in_a_form_are_refused_before_the_database(client, users, session):
    """PostgreSQL cannot store NUL in text: refused up front, on every form."""
    before = _counts(session)
    r = client.post("/t/alpha/login", data={"email": "a\x00b@x.fr", "password": "\x00" * 50})
    assert r.status_code == 400
    assert "caractère nul" in _no_trace(r)
    assert _counts(session) == before


def test_nul_characters_in_json_and_query_strings_are_refused(client, users, api_token):
    token = api_token(users["manager"])
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/v1/me", data=b'{"name": "a\\u0000b"}',
                    headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    r = client.get("/api/v1/me?q=%00", headers=auth)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"


@pytest.mark.parametrize("header", ["Bearer " + "9" * 5000, "Bearer ccas_1_" + "\u00e9" * 10,
                                    "Bearer ccas_99999999999999999999_x"])
def test_api_with_absurd_tokens_is_401(client, tenant, header):
    r = client.get("/api/v1/me", headers={"Authorization": header.encode("utf-8").decode(
        "latin-1")})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"


def test_audit_page_with_huge_filters_is_fine(client, users, login):
    login(client, users["manager"])
    r = client.get("/t/alpha/admin/audit/?object_id=" + "9" * 5000 + "&page=1e99")
    assert r.status_code == 200
