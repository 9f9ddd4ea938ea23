"""API problems (RFC 9457) in French with a stable ``type`` per kind, described at
``/api/v1/problems/<kind>``; marshmallow's messages in French for the API and the
plugins' settings alike."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from core.errors import PROBLEM_KINDS

from . import test_case_api as case_api
from .test_case_api import INTAKE, PERSON, _move, _open

api = case_api.api  # the fixtures of the case API's tests
lender = case_api.lender

ENGLISH = ("Missing data", "Not a valid", "Unknown field", "Must be one of", "Field may not",
           "Length must", "Must be greater", "Unprocessable", "Conflict", "Not found")


def _assert_french(body):
    """No English outside ``detail_en``, the deprecated English variant."""
    text = repr({k: v for k, v in body.items() if k != "detail_en"})
    for english in ENGLISH:
        assert english not in text, (english, body)


def test_an_invalid_intake_names_each_rule_in_french(api):
    response = api("secretary", "POST", "/cases", json={
        "purpose": "yacht", "amount_requested": "beaucoup",
        "person": {**PERSON, "adults": "deux", "birth_date": "hier"}})
    body = response.get_json()
    assert response.status_code == 422
    assert body["type"] == "/api/v1/problems/invalid-data"
    assert body["title"] == "Données invalides"
    errors = body["errors"]
    assert errors["amount_requested"] == [
        "Montant invalide : écrivez-le en chiffres, par exemple 1 200,50."]
    assert errors["person"]["adults"] == ["Nombre entier attendu."]
    assert errors["person"]["birth_date"] == ["Date invalide (aaaa-mm-jj)."]
    _assert_french(body)


def test_a_missing_field_is_said_in_french(api):
    body = api("secretary", "POST", "/cases", json={"purpose": "mobility"}).get_json()
    assert "Ce champ est obligatoire." in repr(body["errors"])
    _assert_french(body)


def test_a_possible_duplicate_has_its_own_kind(api):
    _open(api)
    body = api("secretary", "POST", "/cases", json=INTAKE).get_json()
    assert body["type"] == "/api/v1/problems/possible-duplicate"
    assert body["status"] == 409 and body["title"] == "Conflit"


def test_a_stale_version_has_its_own_kind(api):
    case = _open(api)
    assert _move(api, "secretary", case, "ficp_pending").status_code == 200
    body = _move(api, "manager", case, "abandoned", reason="no_response").get_json()
    assert body["type"] == "/api/v1/problems/stale-version"
    _assert_french(body)


@pytest.mark.parametrize("path, status, kind", [
    ("/cases/nope", 404, "not-found"),
    ("/me", 401, "unauthenticated"),
])
def test_status_kinds(client, api, path, status, kind):
    response = (api("secretary", "GET", path) if status != 401
                else client.get("/api/v1" + path))
    body = response.get_json()
    assert response.status_code == status and body["type"] == f"/api/v1/problems/{kind}"
    assert body["title_fr"] == body["title"]  # deprecated duplicate, kept until 0.3
    _assert_french(body)


def test_every_kind_is_described_in_french(client):
    listing = client.get("/api/v1/problems/").get_json()
    assert [k["type"] for k in listing] == [f"/api/v1/problems/{k}" for k in PROBLEM_KINDS]
    one = client.get("/api/v1/problems/stale-version").get_json()
    assert one["status"] == 409 and "version" in one["description"]
    unknown = client.get("/api/v1/problems/teapot")
    assert unknown.status_code == 404
    assert unknown.get_json()["type"] == "/api/v1/problems/not-found"


def test_openapi_marks_the_duplicate_fields_deprecated(client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Problem"]
    assert schema["properties"]["title_fr"]["deprecated"] is True
    assert schema["properties"]["detail_en"]["deprecated"] is True


def test_a_plugins_own_schema_gets_french_messages_too():
    class Settings(Schema):
        rate = fields.Decimal(required=True, validate=validate.Range(min=0, max=30))
        method = fields.String(validate=validate.OneOf(["annuity", "linear"]))

    with pytest.raises(ValidationError) as refused:
        Settings().load({"rate": "40", "method": "x"})
    assert refused.value.messages["rate"] == [
        "Doit être supérieur ou égal à 0 et inférieur ou égal à 30."]
    assert refused.value.messages["method"][0].startswith("Valeur inconnue")
    with pytest.raises(ValidationError) as missing:
        Settings().load({})
    assert missing.value.messages == {"rate": ["Ce champ est obligatoire."]}
