"""A list of files is a read of each file on it (issue 18, finding 7): one audit row per
list read, naming the ids shown, on the pages and on the API."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from core import cases
from core.models import AuditEvent, Referral


@pytest.fixture
def three_cases(session, tenant, in_tenant):
    with in_tenant(tenant):
        opened = []
        for i in range(3):
            person = cases.create_person(session, cases.PersonData(f"P{i}", f"Listé{i}"))
            opened.append(cases.open_case(session, person, "housing", "300", tenant=tenant))
        session.commit()
        return sorted(str(c.id) for c in opened)


def _list_reads(session, in_tenant, tenant, action):
    with in_tenant(tenant):
        session.expire_all()
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_case_list_page_leaves_one_row_naming_the_cases_shown(
        three_cases, client, login, users, session, in_tenant, tenant):
    login(client, users["manager"])
    assert client.get("/t/alpha/cases/").status_code == 200
    [row] = _list_reads(session, in_tenant, tenant, "case.list")
    assert sorted(row.detail["ids"]) == three_cases and row.detail["count"] == 3
    assert row.actor == f"user:{users['manager'].email}"


def test_case_list_api_leaves_one_row_per_call(three_cases, client, users, api_token,
                                                session, in_tenant, tenant):
    token = api_token(users["manager"])
    auth = {"Authorization": f"Bearer {token}"}
    first = client.get("/api/v1/cases?per_page=2", headers=auth).get_json()["items"]
    second = client.get("/api/v1/cases?per_page=2&page=2", headers=auth).get_json()["items"]
    rows = _list_reads(session, in_tenant, tenant, "case.list")
    assert len(rows) == 2
    assert [sorted(r.detail["ids"]) for r in sorted(rows, key=lambda r: r.detail["page"])] == [
        sorted(c["id"] for c in first), sorted(c["id"] for c in second)]


def test_referral_lists_leave_one_row_naming_the_referrals(client, users, api_token, login,
                                                           session, in_tenant, tenant):
    token = api_token(users["referrer"])
    body = {"person": {"first_name": "Léa", "last_name": "Martin", "birth_date": "1990-04-02",
                       "phone": "0600000000", "email": "lea@example.test"},
            "purpose": "mobility", "amount_requested": "1500.00", "note": "Permis",
            "consent": True}
    r = client.post("/api/v1/referrals", json=body, headers={
        "Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201
    with in_tenant(tenant):
        referral_id = str(session.scalars(select(Referral.id)).one())
    client.get("/api/v1/referrals", headers={"Authorization": f"Bearer {token}"})
    login(client, users["secretary"])
    assert client.get("/t/alpha/orientations/").status_code == 200
    rows = _list_reads(session, in_tenant, tenant, "referral.list")
    assert sorted(r.detail["surface"] for r in rows) == ["api", "page"]
    assert all(r.detail["ids"] == [referral_id] for r in rows)
