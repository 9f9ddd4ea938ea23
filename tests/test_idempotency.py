"""Idempotency-Key on API POSTs: required, replayed, 422 on another body, 409 while in
progress, scoped by tenant and user, kept at least 24 hours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from core.api import idempotency
from core.models import IdempotencyKey, Referral

BODY = {
    "person": {"first_name": "Léa", "last_name": "Martin", "birth_date": "1990-04-02",
               "phone": "0600000000"},
    "purpose": "mobility", "amount_requested": "1500", "consent": True,
}


def post(client, token, payload, key):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/referrals", json=payload, headers=headers)


def referral_count(session, in_tenant, tenant):
    with in_tenant(tenant):
        session.expire_all()
        return session.scalar(select(func.count()).select_from(Referral))


def test_post_without_idempotency_key_is_400_and_creates_nothing(client, users, api_token,
                                                                 session, in_tenant, tenant):
    res = post(client, api_token(users["referrer"]), BODY, None)
    assert res.status_code == 400 and "Idempotency-Key" in res.get_json()["detail"]
    assert referral_count(session, in_tenant, tenant) == 0


def test_same_key_same_body_replays_the_first_response_and_creates_nothing(
        client, users, api_token, session, in_tenant, tenant):
    token = api_token(users["referrer"])
    first = post(client, token, BODY, "key-1")
    again = post(client, token, dict(reversed(list(BODY.items()))), "key-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert referral_count(session, in_tenant, tenant) == 1


def test_same_key_different_body_is_422(client, users, api_token, session, in_tenant, tenant):
    token = api_token(users["referrer"])
    assert post(client, token, BODY, "key-1").status_code == 201
    res = post(client, token, {**BODY, "amount_requested": "900"}, "key-1")
    assert res.status_code == 422 and res.get_json()["errors"]["Idempotency-Key"]
    assert referral_count(session, in_tenant, tenant) == 1


def test_same_key_while_the_first_is_in_progress_is_409(client, users, api_token, app,
                                                        session, in_tenant, tenant):
    user = users["referrer"]
    token = api_token(user)
    with app.test_request_context("/api/v1/referrals", method="POST", json=BODY):
        print_ = idempotency.fingerprint("POST", "/api/v1/referrals",
                                         idempotency.request.get_data())
    with in_tenant(tenant):
        now = clock.now()
        session.add(IdempotencyKey(user_id=user.id, key="busy", fingerprint=print_,
                                   state="in_progress", created_at=now,
                                   expires_at=now + timedelta(hours=24)))
        session.commit()
    res = post(client, token, BODY, "busy")
    assert res.status_code == 409
    assert referral_count(session, in_tenant, tenant) == 0


def test_keys_are_scoped_by_user(client, users, api_token, make_user, tenant, session,
                                 in_tenant):
    other = make_user(tenant, "referrer", org="Association partenaire")
    assert post(client, api_token(users["referrer"]), BODY, "shared").status_code == 201
    assert post(client, api_token(other), BODY, "shared").status_code == 201
    assert referral_count(session, in_tenant, tenant) == 2


def test_keys_are_scoped_by_tenant(client, users, api_token, other_tenant, make_user, session,
                                   in_tenant, tenant):
    foreign = make_user(other_tenant, "referrer", org="Asso Beta", org_kind="association")
    assert post(client, api_token(users["referrer"]), BODY, "shared").status_code == 201
    assert post(client, api_token(foreign), BODY, "shared").status_code == 201
    assert referral_count(session, in_tenant, other_tenant) == 1


def test_a_failed_request_releases_its_key(client, users, api_token, session, in_tenant,
                                           tenant):
    token = api_token(users["referrer"])
    assert post(client, token, {**BODY, "consent": False}, "retry").status_code == 422
    assert post(client, token, BODY, "retry").status_code == 201


def test_keys_are_kept_24_hours_then_purged(client, users, api_token, session, in_tenant,
                                            tenant):
    assert post(client, api_token(users["referrer"]), BODY, "kept").status_code == 201
    with in_tenant(tenant):
        session.expire_all()
        row = session.scalar(select(IdempotencyKey))
        assert row.expires_at - row.created_at >= timedelta(hours=24)
        assert idempotency.purge_expired(session, row.created_at + timedelta(hours=23)) == 0
        assert idempotency.purge_expired(session, row.created_at + timedelta(hours=25)) == 1
        session.commit()


@pytest.mark.parametrize("key", ["x" * 256, "clé-accentuée"])
def test_invalid_key_is_400(client, users, api_token, key):
    headers = {"Authorization": f"Bearer {api_token(users['referrer'])}",
               "Idempotency-Key": key.encode("utf-8").decode("latin-1")}
    res = client.post("/api/v1/referrals", json=BODY, headers=headers)
    assert res.status_code == 400


def test_an_expired_key_not_yet_purged_is_claimed_again(client, users, api_token, session,
                                                         in_tenant, tenant):
    user = users["referrer"]
    with in_tenant(tenant):
        past = clock.now() - timedelta(hours=30)
        session.add(IdempotencyKey(user_id=user.id, key="old", fingerprint="another body",
                                   state="done", response_status=201, response_body="{}",
                                   created_at=past, expires_at=past + timedelta(hours=24)))
        session.commit()
    assert post(client, api_token(user), BODY, "old").status_code == 201
    assert referral_count(session, in_tenant, tenant) == 1
    with in_tenant(tenant):
        session.expire_all()
        rows = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "old")).all()
        assert len(rows) == 1 and rows[0].state == "done" and rows[0].fingerprint != "another body"


def test_a_key_claimed_concurrently_is_read_back(app, users, session, in_tenant, tenant,
                                                 monkeypatch):
    """Two requests read "no such key" at once: the second's insert breaks the unique key
    and it gets the first one's record (then 409 or a replay), not an error."""
    user = users["referrer"]
    with in_tenant(tenant):
        now = clock.now()
        session.add(IdempotencyKey(user_id=user.id, key="raced", fingerprint="first",
                                   state="in_progress", created_at=now,
                                   expires_at=now + timedelta(hours=24)))
        session.commit()
        reads = []
        real = idempotency.tenancy.scoped_rows

        def first_read_misses(*args, **kwargs):
            reads.append(1)
            return [] if len(reads) == 1 else real(*args, **kwargs)

        monkeypatch.setattr(idempotency.tenancy, "scoped_rows", first_read_misses)
        with app.app_context():
            found = idempotency._claim(user.id, "raced", "second", now)
        assert len(reads) == 2
        assert found is not None and found.fingerprint == "first"
        assert found.state == "in_progress"


def test_a_creation_parses_its_body_once(client, users, api_token, session, in_tenant, tenant,
                                        monkeypatch):
    """The body guard, the API's reading and the fingerprint share one parse of the body
    (``core.json_body``), and the key still tells a replay from another body."""
    import json

    token = api_token(users["referrer"])
    real = json.loads
    parsed = []

    def counting(s, *args, **kwargs):
        value = real(s, *args, **kwargs)
        if isinstance(value, dict) and "person" in value:
            parsed.append(value)
        return value

    monkeypatch.setattr(json, "loads", counting)
    assert post(client, token, BODY, "once").status_code == 201
    assert len(parsed) == 1
    again = post(client, token, dict(reversed(list(BODY.items()))), "once")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    other = post(client, token, {**BODY, "purpose": "housing"}, "once")
    assert other.status_code == 422
    assert referral_count(session, in_tenant, tenant) == 1


def test_the_fingerprint_of_a_parsed_body_is_the_fingerprint_of_its_bytes():
    body = b'{"b": [1, 2], "a": "\xc3\xa9"}'
    assert idempotency.fingerprint("POST", "/p", body, {"a": "é", "b": [1, 2]}) \
        == idempotency.fingerprint("POST", "/p", body) \
        == idempotency.fingerprint("POST", "/p", b'{"a":"\xc3\xa9","b":[1,2]}')
    assert idempotency.fingerprint("POST", "/p", b"not json") \
        != idempotency.fingerprint("POST", "/p", b"not  json")
