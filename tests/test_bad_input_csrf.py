"""Bad input with CSRF on, as in production (issue 18, finding 2): the body guard runs
before the CSRF check parses the form, so a NUL byte, invalid UTF-8, a lone surrogate, a
page number or a date beyond any range is a clear 4xx, nothing written, never a 500.
Also the security headers of every page (finding 10)."""

from __future__ import annotations

import html

import pytest

from core.models import AuditEvent, Case, TimeEntry
from core.testing.pytest_plugin import count_every_tenant, csrf_token_of


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def _page(response) -> str:
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and 'File "' not in body
    return html.unescape(body)


def _rows(session, model) -> int:
    session.close()
    return count_every_tenant(model)


@pytest.mark.parametrize("body", [
    b"email=a%00b%40x.fr&password=x",          # NUL
    b"email=a%FF%FEb%40x.fr&password=x",       # invalid UTF-8
    b"email=a%C3%28%40x.fr&password=x",        # truncated sequence
    b"email=a%ED%A0%80%40x.fr&password=x",     # an encoded surrogate
])
def test_sign_in_form_with_unstorable_characters_is_a_clear_400_with_csrf_on(
        client, users, session, body):
    token = csrf_token_of(client, "/t/alpha/login")
    before = _rows(session, AuditEvent)
    r = client.post("/t/alpha/login", data=body + b"&csrf_token=" + token.encode(),
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400
    assert "caractères invalides" in _page(r)
    assert _rows(session, AuditEvent) == before


@pytest.mark.parametrize("note", [b"a%00b", b"a%FF%FEb"])
def test_time_entry_with_a_nul_or_bad_utf8_note_writes_nothing(client, users, login, session,
                                                               note):
    login(client, users["social_worker"])
    token = csrf_token_of(client, "/t/alpha/temps/")
    r = client.post("/t/alpha/temps/", data=b"day=16%2F11%2F2026&minutes=30&activity=x"
                    b"&category=x&note=" + note + b"&csrf_token=" + token.encode(),
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400
    assert "rien n'a été enregistré" in _page(r)
    assert _rows(session, TimeEntry) == 0


def test_invalid_utf8_or_nul_in_a_query_string_is_a_clear_400(client, users, login):
    login(client, users["manager"])
    for query in ("q=a%FF%FEb", "q=a%00b"):
        r = client.get(f"/t/alpha/cases/?{query}")
        assert r.status_code == 400
        assert "caractères invalides" in _page(r)


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/referrals"])
def test_lone_surrogate_in_json_is_a_400_problem(client, users, api_token, session, path):
    token = api_token(users["manager"] if path.endswith("cases") else users["referrer"])
    before = _rows(session, Case)
    r = client.post(path, data=b'{"first_name": "\\ud800", "last_name": "X"}',
                    headers={"Authorization": f"Bearer {token}",
                             "Content-Type": "application/json"})
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert _rows(session, Case) == before


@pytest.mark.parametrize("page", ["9223372036854775807", "922337203685477580", "1" * 5000,
                                  "-1", "0", "abc", "１２"])
def test_any_page_number_on_the_case_list_page_is_a_page(client, users, login, page):
    login(client, users["manager"])
    r = client.get(f"/t/alpha/cases/?page={page}")
    assert r.status_code == 200
    _page(r)


@pytest.mark.parametrize("query", ["page=9223372036854775807", "page=0", "page=-1",
                                   "per_page=-48", "per_page=0", "per_page=101",
                                   "page=1" + "0" * 5000, "per_page=abc"])
def test_api_case_list_refuses_out_of_range_paging_with_422(client, users, api_token, query):
    token = api_token(users["manager"])
    r = client.get(f"/api/v1/cases?{query}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "entier entre" in r.get_json()["detail"]


def test_api_case_list_last_allowed_page_is_empty(client, users, api_token):
    token = api_token(users["manager"])
    r = client.get("/api/v1/cases?page=100000&per_page=100",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.get_json()["items"] == []


def test_empty_updated_since_is_refused(client, users, api_token):
    token = api_token(users["referrer"])
    r = client.get("/api/v1/referrals?updated_since=",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and r.mimetype == "application/problem+json"


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "31/12/9999"])
def test_agenda_at_the_calendars_edges_is_a_clear_422(client, users, login, day):
    login(client, users["social_worker"])
    r = client.get(f"/t/alpha/agenda?day={day}")
    assert r.status_code == 422
    assert "Date hors limites" in _page(r)


@pytest.mark.parametrize("path", ["/t/alpha/login", "/api/v1/openapi.json", "/healthz"])
def test_every_answer_has_the_isolation_headers(client, tenant, path):
    r = client.get(path)
    assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = r.headers["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


# -- the API contract (finding 9) ------------------------------------------------------------


def test_unknown_or_empty_query_parameters_are_refused(client, users, api_token):
    auth = {"Authorization": f"Bearer {api_token(users['manager'])}"}
    for query in ("stat=granted", "state=", "purpose=", "date_from=", "per_page="):
        r = client.get(f"/api/v1/cases?{query}", headers=auth)
        assert r.status_code == 400 and r.mimetype == "application/problem+json", query
    assert client.get("/api/v1/cases?q=", headers=auth).status_code == 200


def test_a_405_names_the_allowed_methods(client, users, api_token):
    auth = {"Authorization": f"Bearer {api_token(users['manager'])}"}
    r = client.delete("/api/v1/cases", headers=auth)
    assert r.status_code == 405 and "GET" in r.headers["Allow"]


def test_the_document_declares_amounts_as_decimal_strings_and_every_status(client, tenant):
    doc = client.get("/api/v1/openapi.json").get_json()
    amount = doc["components"]["schemas"]["Case"]["properties"]["amount_requested"]
    assert amount["type"] == "string" and amount["format"] == "decimal"
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            assert {"400", "401", "403", "404", "422", "429"} <= set(operation["responses"]), (
                method, path)
