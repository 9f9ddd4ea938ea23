"""Referral API: submit, list with filters and cursor, read, answer; who sees what; bad
input answers a clear 4xx and stores nothing."""

from __future__ import annotations

import base64
import uuid

import pytest
from sqlalchemy import func, select

from core.models import Case, IdempotencyKey, Referral, ReferralAttachment

PDF = b"%PDF-1.4\n%fake but well-typed\n"


def body(**over):
    data = {
        "person": {"first_name": "Léa", "last_name": "Martin", "birth_date": "1990-04-02",
                   "phone": "0600000000", "email": "lea@example.test"},
        "purpose": "mobility", "amount_requested": "1500.00", "note": "Permis de conduire",
        "consent": True,
    }
    data.update(over)
    return data


@pytest.fixture
def referrer_b(tenant, make_user):
    return make_user(tenant, "referrer", org="Secours B", org_kind="association")


def post(client, token, payload, key=None, **kw):
    headers = {"Authorization": f"Bearer {token}",
               "Idempotency-Key": key or str(uuid.uuid4())}
    headers.update(kw.pop("headers", {}))
    return client.post("/api/v1/referrals", json=payload, headers=headers, **kw)


def get(client, token, url):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def count(session, in_tenant, tenant, model=Referral):
    with in_tenant(tenant):
        session.expire_all()
        return session.scalar(select(func.count()).select_from(model))


def test_referrer_submits_a_referral_and_gets_201(client, users, api_token):
    token = api_token(users["referrer"])
    res = post(client, token, body())
    assert res.status_code == 201, res.get_json()
    data = res.get_json()
    assert data["status"] == "sent"
    assert data["from_organisation"]["name"] == "Association partenaire"
    assert data["to_organisation"]["name"] == "CCAS de Alpha"
    assert data["consent"] is True and data["consent_by"]
    assert data["amount_requested"] == "1500.00"
    assert [h["to_status"] for h in data["history"]] == ["sent"]
    assert res.headers["Location"].endswith(f"/api/v1/referrals/{data['id']}")


def test_attachment_is_stored_with_its_size_and_type(client, users, api_token, session,
                                                     in_tenant, tenant):
    token = api_token(users["referrer"])
    attachment = {"filename": "avis.pdf", "content_type": "application/pdf",
                  "content_base64": base64.b64encode(PDF).decode()}
    res = post(client, token, body(attachments=[attachment]))
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["attachments"][0]["size"] == len(PDF)
    assert count(session, in_tenant, tenant, ReferralAttachment) == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        (body(consent=False), "consent"),
        ({k: v for k, v in body().items() if k != "consent"}, "consent"),
        (body(purpose="holidays"), "purpose"),
        (body(person={"first_name": "A", "last_name": "B", "birth_date": "2019-02-30",
                      "phone": "06"}), "person"),
        (body(amount_requested="-3"), "amount_requested"),
        (body(unexpected="x"), "unexpected"),
        (body(attachments=[{"filename": "x.exe", "content_type": "application/x-msdownload",
                            "content_base64": base64.b64encode(b"MZ....").decode()}]),
         "attachments"),
        (body(attachments=[{"filename": "fake.pdf", "content_type": "application/pdf",
                            "content_base64": base64.b64encode(b"MZ not a pdf").decode()}]),
         "attachments"),
    ],
    ids=["consent-false", "consent-missing", "unknown-purpose", "invalid-date",
         "negative-amount", "unknown-field", "wrong-type", "type-mismatch"],
)
def test_bad_input_is_422_with_the_field_and_stores_nothing(client, users, api_token, session,
                                                            in_tenant, tenant, payload, field):
    token = api_token(users["referrer"])
    res = post(client, token, payload)
    assert res.status_code == 422, res.get_json()
    assert res.mimetype == "application/problem+json"
    assert field in res.get_json()["errors"]
    assert count(session, in_tenant, tenant) == 0
    assert count(session, in_tenant, tenant, IdempotencyKey) == 0


def test_oversized_attachment_is_refused(client, users, api_token, session, in_tenant, tenant):
    from core import referrals

    token = api_token(users["referrer"])
    big = PDF + b"0" * referrals.MAX_ATTACHMENT_BYTES
    attachment = {"filename": "gros.pdf", "content_type": "application/pdf",
                  "content_base64": base64.b64encode(big).decode()}
    res = post(client, token, body(attachments=[attachment]))
    assert res.status_code in (413, 422)
    assert count(session, in_tenant, tenant) == 0


def test_malformed_json_is_400(client, users, api_token, session, in_tenant, tenant):
    token = api_token(users["referrer"])
    res = client.post("/api/v1/referrals", data=b'{"person": ', content_type="application/json",
                      headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"})
    assert res.status_code == 400 and "JSON" in res.get_json()["detail"]
    assert count(session, in_tenant, tenant) == 0


def test_wrong_content_type_is_415(client, users, api_token, session, in_tenant, tenant):
    token = api_token(users["referrer"])
    res = client.post("/api/v1/referrals", data="person=x", content_type="text/plain",
                      headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"})
    assert res.status_code == 415
    assert count(session, in_tenant, tenant) == 0


def test_staff_cannot_submit_through_the_api(client, users, api_token):
    res = post(client, api_token(users["secretary"]), body())
    assert res.status_code == 403


def test_referrer_lists_only_its_organisation_and_staff_lists_all(client, users, referrer_b,
                                                                  api_token):
    token_a, token_b = api_token(users["referrer"]), api_token(referrer_b)
    a = post(client, token_a, body()).get_json()
    b = post(client, token_b, body(person={**body()["person"], "first_name": "Bob"})).get_json()
    ids_a = {r["id"] for r in get(client, token_a, "/api/v1/referrals").get_json()["items"]}
    ids_b = {r["id"] for r in get(client, token_b, "/api/v1/referrals").get_json()["items"]}
    staff = get(client, api_token(users["social_worker"]), "/api/v1/referrals").get_json()
    assert ids_a == {a["id"]} and ids_b == {b["id"]}
    assert {r["id"] for r in staff["items"]} == {a["id"], b["id"]}


def test_referrer_of_another_organisation_gets_404_reading_or_answering(client, users,
                                                                        referrer_b, api_token):
    a = post(client, api_token(users["referrer"]), body()).get_json()
    token_b = api_token(referrer_b)
    assert get(client, token_b, f"/api/v1/referrals/{a['id']}").status_code == 404
    res = client.post(f"/api/v1/referrals/{a['id']}/decision", json={"decision": "accept"},
                      headers={"Authorization": f"Bearer {token_b}", "Idempotency-Key": "d1"})
    assert res.status_code == 404


def test_another_tenant_gets_404_and_an_empty_list(client, users, other_tenant, make_user,
                                                   api_token):
    a = post(client, api_token(users["referrer"]), body()).get_json()
    foreign = make_user(other_tenant, "manager")
    token = api_token(foreign)
    assert get(client, token, f"/api/v1/referrals/{a['id']}").status_code == 404
    assert get(client, token, "/api/v1/referrals").get_json()["items"] == []


def test_malformed_id_is_404(client, users, api_token):
    assert get(client, api_token(users["manager"]), "/api/v1/referrals/nope").status_code == 404


def test_list_filters_by_status_and_updated_since_and_paginates(client, users, api_token):
    token = api_token(users["referrer"])
    ids = [post(client, token, body(note=f"n{i}")).get_json()["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        url = "/api/v1/referrals?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = get(client, token, url).get_json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert get(client, token, "/api/v1/referrals?status=declined").get_json()["items"] == []
    assert len(get(client, token, "/api/v1/referrals?status=sent").get_json()["items"]) == 5
    future = get(client, token, "/api/v1/referrals?updated_since=2999-01-01T00:00:00Z")
    assert future.get_json()["items"] == []
    assert get(client, token, "/api/v1/referrals?status=bogus").status_code == 400
    assert get(client, token, "/api/v1/referrals?cursor=%%%").status_code == 400


def test_staff_accepts_through_the_api_and_a_case_is_opened(client, users, api_token, session,
                                                            in_tenant, tenant):
    a = post(client, api_token(users["referrer"]), body()).get_json()
    res = client.post(f"/api/v1/referrals/{a['id']}/decision", json={"decision": "accept"},
                      headers={"Authorization": f"Bearer {api_token(users['secretary'])}",
                               "Idempotency-Key": "acc-1"})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["status"] == "accepted"
    assert count(session, in_tenant, tenant, Case) == 1


def test_referrer_cannot_answer_its_own_referral(client, users, api_token):
    token = api_token(users["referrer"])
    a = post(client, token, body()).get_json()
    res = client.post(f"/api/v1/referrals/{a['id']}/decision", json={"decision": "accept"},
                      headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "x"})
    assert res.status_code == 404


def test_openapi_documents_the_referral_endpoints_from_the_schemas(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/referrals"])
    assert "ReferralIn" in spec["components"]["schemas"]
    assert "consent" in spec["components"]["schemas"]["ReferralIn"]["properties"]


def test_referral_json_is_the_document_the_schema_describes(client, users, api_token, session,
                                                            in_tenant, tenant):
    """``dump_referral`` builds the JSON without marshmallow (speed): it must give exactly
    what ``ReferralOutSchema`` (the OpenAPI document) would, for a referral with an
    attachment and a history of several steps and for one with few fields filled."""
    from core import referrals
    from core.schemas.referrals import ReferralOutSchema, dump_referral

    referrer, staff = api_token(users["referrer"]), api_token(users["secretary"])
    attachment = {"filename": "avis.pdf", "content_type": "application/pdf",
                  "content_base64": base64.b64encode(PDF).decode()}
    full = post(client, referrer, body(attachments=[attachment])).get_json()
    bare = post(client, referrer, body(
        person={"first_name": "Jo", "last_name": "Durand", "birth_date": "1980-01-01",
                "phone": "0611111111"},
        note="")).get_json()
    assert "id" in full and "id" in bare, (full, bare)
    decided = client.post(f"/api/v1/referrals/{full['id']}/decision",
                          json={"decision": "accept", "message": "Reçu"},
                          headers={"Authorization": f"Bearer {staff}",
                                   "Idempotency-Key": "json-1"})
    assert decided.status_code == 200, decided.get_json()
    documents = {}
    with in_tenant(tenant):
        session.expire_all()
        for referral_id in (full["id"], bare["id"]):
            referral = session.get(Referral, (tenant.id, uuid.UUID(referral_id)))
            by_schema = ReferralOutSchema().dump({
                **{name: getattr(referral, name) for name in (
                    "id", "reference", "status_label", "created_at", "updated_at",
                    "status_changed_at", "from_organisation", "to_organisation", "purpose",
                    "amount_requested", "note", "consent", "consent_at", "consent_by",
                    "decline_reason", "history", "consent_method", "outcome",
                    "attachments")},
                "status": str(referral.status), "person": referral,
                "extra": referral.extra or {}})
            assert dump_referral(referral) == by_schema
            # as the list reads them: the page's history and attachments as rows
            history, attachments = referrals.history_and_attachments(session, [referral])
            assert dump_referral(referral, history[referral.id],
                                 attachments[referral.id]) == by_schema
            assert len(by_schema["history"]) >= 1
            documents[referral_id] = by_schema
        session.rollback()
    # the list hands the Python values to the app's JSON provider: the same documents
    listed = client.get("/api/v1/referrals", headers={"Authorization": f"Bearer {staff}"})
    assert {i["id"]: i for i in listed.get_json()["items"]} == documents


def test_a_status_change_in_the_same_transaction_shows_in_the_history(
        users, session, in_tenant, tenant):
    """The new referral's history is set without reading it back; a change made next in
    the same transaction (a plugin answering at once) still shows in it."""
    from datetime import date

    from core import referrals

    with in_tenant(tenant):
        referral = referrals.submit(session, users["referrer"], referrals.ReferralInput(
            first_name="Léa", last_name="Martin", birth_date=date(1990, 4, 2),
            phone="0600000000", email=None, purpose="mobility", amount_requested="1500.00",
            consent=True, note="", to_organisation_id=None, extra={}))
        assert [h.to_status for h in referral.history] == ["sent"]
        referrals.set_status(session, referral, "received", users["secretary"])
        assert [h.to_status for h in referral.history] == ["sent", "received"]
        session.rollback()
