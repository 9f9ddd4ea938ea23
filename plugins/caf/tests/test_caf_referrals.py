"""Referrals the CAF sends to the CCAS: optional family quotient and allocataire number
(sending-side fields of ``ccas_referral_fields_schema``), through the API and the portal;
invalid values answer 422 naming the field and store nothing; the case opened from the
referral gets the CAF aids as likely applicable; other senders get no such fields."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from core import accounts, referrals
from core.features import suggestions
from core.models import IdempotencyKey, Referral, State

CAF = "CAF de la Haute-Garonne"


def body(**over):
    data = {
        "person": {"first_name": "Awa", "last_name": "Diallo", "birth_date": "1988-01-01",
                   "phone": "0600000000"},
        "purpose": "household_equipment", "amount_requested": "700.00",
        "note": "Lave-linge", "consent": True,
    }
    data.update(over)
    return data


def post(client, token, payload):
    return client.post("/api/v1/referrals", json=payload,
                       headers={"Authorization": f"Bearer {token}",
                                "Idempotency-Key": str(uuid.uuid4())})


def count(session, in_tenant, tenant, model=Referral):
    with in_tenant(tenant):
        session.expire_all()
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def caf_referrer(app, tenant, in_tenant, session, enable_plugin, make_user):
    enable_plugin(tenant, "caf")
    with in_tenant(tenant):
        accounts.create_organisation(session, CAF, "aid_fund", plugin_name="caf")
        session.commit()
    return make_user(tenant, "referrer", org=CAF)


def _open_and_evaluate(session, users, tenant, referral_id):
    """The CCAS accepts the referral; at evaluation the household (one child) is known."""
    referral = session.scalar(select(Referral).where(Referral.id == referral_id))
    case = referrals.accept(session, referral, users["secretary"], tenant=tenant)
    case.person.children_ages = [6]
    case.state = State.evaluation
    suggestions.refresh(session, case)
    session.commit()
    return case


def test_a_caf_referral_through_the_api_carries_the_quotient_to_the_suggestions(
        client, caf_referrer, users, api_token, session, in_tenant, tenant):
    res = post(client, api_token(caf_referrer), body(
        extra={"family_quotient": "540", "allocataire_number": "123 45 67"}))
    assert res.status_code == 201, res.get_json()
    data = res.get_json()
    assert data["from_organisation"]["name"] == CAF
    assert data["extra"] == {"family_quotient": 540, "allocataire_number": "1234567"}
    with in_tenant(tenant):
        case = _open_and_evaluate(session, users, tenant, uuid.UUID(data["id"]))
        [row] = suggestions.for_case(session, case)
    assert row.plugin == "caf" and row.code == "pret_equipement_menager"
    assert row.why == ("Famille avec enfants allocataire de la CAF au quotient familial "
                       "transmis par la CAF sous le plafond de 800 € : aide probablement "
                       "applicable.")


def test_a_quotient_above_the_threshold_setting_leaves_the_aid_out(
        client, caf_referrer, users, api_token, session, in_tenant, tenant, enable_plugin):
    enable_plugin(tenant, "caf", aid_rules=[
        {"code": "pret_equipement_menager", "label": "Prêt d'équipement ménager",
         "purposes": ["household_equipment"]}], family_quotient_threshold=500)
    res = post(client, api_token(caf_referrer), body(extra={"family_quotient": 540}))
    assert res.status_code == 201, res.get_json()
    with in_tenant(tenant):
        case = _open_and_evaluate(session, users, tenant, uuid.UUID(res.get_json()["id"]))
        assert suggestions.for_case(session, case) == []


def test_a_caf_referral_without_the_quotient_leaves_the_aid_to_check(
        client, caf_referrer, users, api_token, session, in_tenant, tenant):
    res = post(client, api_token(caf_referrer), body())
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["extra"] == {"family_quotient": None, "allocataire_number": None}
    with in_tenant(tenant):
        case = _open_and_evaluate(session, users, tenant, uuid.UUID(res.get_json()["id"]))
        [row] = suggestions.for_case(session, case)
    assert "(à vérifier)" in row.why


@pytest.mark.parametrize("extra, field", [
    ({"family_quotient": -5}, "extra.family_quotient"),
    ({"family_quotient": "beaucoup"}, "extra.family_quotient"),
    ({"family_quotient": 540, "allocataire_number": "12AB"}, "extra.allocataire_number"),
    ({"family_quotient": 540, "iban": "FR76"}, "extra.iban"),
], ids=["negative", "text", "bad-number", "unknown-field"])
def test_an_invalid_caf_field_is_422_naming_it_and_stores_nothing(
        client, caf_referrer, api_token, session, in_tenant, tenant, extra, field):
    res = post(client, api_token(caf_referrer), body(extra=extra))
    assert res.status_code == 422, res.get_json()
    assert res.mimetype == "application/problem+json"
    errors = res.get_json()["errors"]
    assert list(errors) == [field]
    assert count(session, in_tenant, tenant) == 0
    assert count(session, in_tenant, tenant, IdempotencyKey) == 0


def test_a_negative_quotient_message_names_the_field_in_french(client, caf_referrer,
                                                              api_token):
    res = post(client, api_token(caf_referrer), body(extra={"family_quotient": -1}))
    assert res.get_json()["errors"]["extra.family_quotient"] == [
        "Quotient familial (€, facultatif) : Quotient familial entre 0 et 5 000 €."]


def test_another_sender_gets_no_caf_fields(client, caf_referrer, users, api_token, session,
                                           in_tenant, tenant, app, login):
    res = post(client, api_token(users["referrer"]), body(extra={"family_quotient": 540}))
    assert res.status_code == 422, res.get_json()
    assert list(res.get_json()["errors"]) == ["extra.family_quotient"]
    assert count(session, in_tenant, tenant) == 0
    web = app.test_client()
    login(web, users["referrer"])
    html = web.get("/t/alpha/orientations/nouvelle").get_data(as_text=True)
    assert "extra-family_quotient" not in html and "Informations complémentaires" not in html


# -- the portal -------------------------------------------------------------------------------


def portal_form(**over):
    values = {"first_name": "Awa", "last_name": "Diallo", "birth_date": "1988-01-01",
              "phone": "0600000000", "email": "", "purpose": "household_equipment",
              "amount_requested": "700,00", "note": "Lave-linge", "consent": "on"}
    values.update(over)
    return values


def portal_submit(client, **over):
    page = client.get("/t/alpha/orientations/nouvelle")
    token = re.search(r'name="form_token" value="([^"]+)"',
                      page.get_data(as_text=True)).group(1)
    return client.post("/t/alpha/orientations/nouvelle",
                       data={**portal_form(**over), "form_token": token})


@pytest.fixture
def caf_client(app, caf_referrer, login):
    client = app.test_client()
    login(client, caf_referrer)
    return client


def test_the_portal_form_shows_the_caf_fields_with_their_labels(caf_client):
    html = caf_client.get("/t/alpha/orientations/nouvelle").get_data(as_text=True)
    assert "<legend>Informations complémentaires</legend>" in html
    assert ('<label for="extra-family_quotient">Quotient familial (€, facultatif)</label>'
            in html)
    assert 'id="extra-family_quotient" name="extra-family_quotient"' in html
    assert '<label for="extra-allocataire_number">' in html


def test_a_caf_referral_through_the_portal_carries_the_quotient(
        caf_client, users, session, in_tenant, tenant):
    res = portal_submit(caf_client, **{"extra-family_quotient": "610",
                                       "extra-allocataire_number": ""})
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    page = caf_client.get(res.headers["Location"]).get_data(as_text=True)
    assert "Quotient familial (€, facultatif)" in page and "610" in page
    with in_tenant(tenant):
        referral = session.scalar(select(Referral))
        assert referral.extra == {"family_quotient": 610, "allocataire_number": None}
        case = _open_and_evaluate(session, users, tenant, referral.id)
        [row] = suggestions.for_case(session, case)
    assert "aide probablement applicable si le foyer est allocataire" in row.why


@pytest.mark.parametrize("value", ["-3", "six cents"])
def test_an_invalid_quotient_in_the_portal_is_422_accessible_and_stores_nothing(
        caf_client, session, in_tenant, tenant, value):
    res = portal_submit(caf_client, **{"extra-family_quotient": value})
    assert res.status_code == 422
    html = res.get_data(as_text=True)
    assert 'href="#extra-family_quotient"' in html  # the error summary links to the field
    assert re.search(r'id="extra-family_quotient" name="extra-family_quotient" type="text" '
                     rf'value="{value}"[^>]*aria-invalid="true"[^>]*'
                     r'aria-describedby="extra-family_quotient-erreur"', html)
    assert 'id="extra-family_quotient-erreur"' in html
    assert count(session, in_tenant, tenant) == 0
