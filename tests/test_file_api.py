"""The applicant's file through the API: stored documents (list, download, attach by
multipart with the page's checks, remove), household members and the co-borrower, the
synthesis and its versions. Same walls as the pages: another tenant's ids are 404, the
lender's agents read the file only once it was submitted to them, every read and change
is audited, problems are French."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from core import cases, workflow
from core.models import AuditEvent, CaseDocument, DocumentStatus, State, StoredDocument
from core.workflow import TransitionRequest

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CCAS_DOCUMENT_MAX_MB": 1}


@pytest.fixture
def case(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1995, 4, 2), email="lea@example.org"))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"],
                            tenant=tenant)
        workflow.apply_transition(session, c, TransitionRequest("documents_requested",
                                                                c.version), users["secretary"])
        session.commit()
        return c


@pytest.fixture
def call(client, api_token, users):
    tokens = {}

    def do(method, path, role="secretary", user=None, **kw):
        who = user or users[role]
        key = id(who)
        if key not in tokens:
            tokens[key] = api_token(who)
        headers = {"Authorization": f"Bearer {tokens[key]}", **kw.pop("headers", {})}
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kw)

    return do


def attach(call, case, data=PDF, name="piece.pdf", kind="identity", role="secretary",
           **fields):
    return call("POST", f"/cases/{case.id}/documents", role=role,
                data={"kind": kind, "file": (io.BytesIO(data), name), **fields},
                content_type="multipart/form-data")


def audit_actions(session, tenant, in_tenant) -> list[tuple[str, dict]]:
    session.expire_all()
    with in_tenant(tenant):
        return [(e.action, e.detail or {}) for e in session.scalars(
            select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id))]


def stored_rows(session, tenant, in_tenant):
    session.expire_all()
    with in_tenant(tenant):
        return list(session.scalars(select(StoredDocument)))


def submit_to_lender(session, tenant, in_tenant, users, case):
    with in_tenant(tenant):
        c = session.get(type(case), (tenant.id, case.id))
        today = cases.local_today(tenant).isoformat()
        cases.add_interview(session, c, users["social_worker"], today, 50, "ok", "")
        cases.save_budget(session, c, users["social_worker"], {"salary": "1300",
                                                                "rent": "500"})
        for target in (State.evaluation, State.instruction, State.submitted_to_lender):
            workflow.apply_transition(session, c, TransitionRequest(target, c.version),
                                      users["manager"])
        session.commit()


# -- stored documents --------------------------------------------------------------------


def test_attach_list_download_and_remove_a_document_audited(call, case, session, tenant,
                                                             in_tenant):
    with in_tenant(tenant):
        from core.features import documents

        documents.create_checklist(session, session.get(type(case), (tenant.id, case.id)),
                                   tenant, None)
        session.commit()
    r = attach(call, case, issued_on="2026-01-15", expires_on="31/12/2030")
    assert r.status_code == 201, r.get_json()
    doc = r.get_json()
    assert doc["kind"] == "identity" and doc["content_type"] == "application/pdf"
    assert doc["size"] == len(PDF) and doc["issued_on"] == "2026-01-15"
    assert doc["expires_on"] == "2030-12-31" and doc["valid"] is True
    assert doc["kind_label"] and doc["filename"] == "piece.pdf"
    with in_tenant(tenant):  # a valid document ticks its checklist line
        line = session.scalar(select(CaseDocument).where(CaseDocument.case_id == case.id,
                                                         CaseDocument.code == "identity"))
        assert line.status == DocumentStatus.received

    listed = call("GET", f"/cases/{case.id}/documents").get_json()
    assert [d["id"] for d in listed["items"]] == [doc["id"]]
    assert listed["kinds"]["other"] == "Autre pièce"

    r = call("GET", f"/cases/{case.id}/documents/{doc['id']}", role="social_worker")
    assert r.status_code == 200 and r.data == PDF and r.mimetype == "application/pdf"
    assert "attachment;" in r.headers["Content-Disposition"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"

    r = call("DELETE", f"/cases/{case.id}/documents/{doc['id']}")
    assert r.status_code == 204 and stored_rows(session, tenant, in_tenant) == []
    actions = audit_actions(session, tenant, in_tenant)
    names = [a for a, _ in actions]
    for action in ("documents.attach", "documents.file_read", "documents.remove"):
        assert action in names, action
    assert ("case.read", {"view": "documents", "surface": "api"}) in actions


@pytest.mark.parametrize("data, name", [
    (b"<html><script>alert(1)</script></html>", "piece.pdf"),
    (b"MZ\x90\x00" + b"\x00" * 60, "photo.png"),
    (b"GIF89a" + b"\x00" * 20, "scan.jpg"),
], ids=["html-named-pdf", "exe-named-png", "gif-named-jpg"])
def test_spoofed_content_is_refused_by_its_bytes_and_nothing_is_stored(
        call, case, session, tenant, in_tenant, data, name):
    r = attach(call, case, data=data, name=name)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert "ni un PDF, ni une image JPEG ou PNG" in body["detail"]
    assert body["errors"] == {"file": [body["detail"]]}
    assert stored_rows(session, tenant, in_tenant) == []


def test_an_oversize_file_is_413_and_nothing_is_stored(call, case, session, tenant,
                                                        in_tenant):
    r = attach(call, case, data=PNG + b"\x00" * (1024 * 1024))
    assert r.status_code == 413
    assert r.get_json()["detail"] == "Fichier trop volumineux : 1 Mo au plus."
    assert stored_rows(session, tenant, in_tenant) == []


def test_bad_fields_are_french_problems(call, case, session, tenant, in_tenant):
    r = call("POST", f"/cases/{case.id}/documents", json={"kind": "identity"})
    assert r.status_code == 415 and "multipart/form-data" in r.get_json()["detail"]
    r = attach(call, case, kind="passeport_martien")
    assert r.status_code == 422 and r.get_json()["errors"] == {
        "kind": ["Choisissez le type de la pièce."]}
    r = attach(call, case, issued_on="32/13/2026")
    assert r.status_code == 422 and "issued_on" in r.get_json()["errors"]
    r = call("POST", f"/cases/{case.id}/documents", data={"kind": "identity"},
             content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["errors"] == {
        "file": ["Choisissez un fichier à déposer."]}
    assert stored_rows(session, tenant, in_tenant) == []


def test_a_filename_with_control_characters_is_stored_without_them(call, case):
    r = attach(call, case, name="re\x00leve\x07.pdf")
    assert r.status_code == 201 and r.get_json()["filename"] == "releve.pdf"


def test_another_tenants_ids_are_404_everywhere(call, case, other_tenant, make_user, users):
    doc = attach(call, case).get_json()
    stranger = make_user(other_tenant, "manager")
    for method, path in (
            ("GET", f"/cases/{case.id}/documents"),
            ("GET", f"/cases/{case.id}/documents/{doc['id']}"),
            ("DELETE", f"/cases/{case.id}/documents/{doc['id']}"),
            ("GET", f"/cases/{case.id}/household"),
            ("GET", f"/cases/{case.id}/synthesis")):
        r = call(method, path, user=stranger)
        assert r.status_code == 404, (method, path, r.status_code)
        assert r.get_json()["detail"].endswith("est introuvable.")
    r = attach(call, case, role="secretary")
    r = call("POST", f"/cases/{case.id}/documents", user=stranger,
             data={"kind": "identity", "file": (io.BytesIO(PDF), "x.pdf")},
             content_type="multipart/form-data")
    assert r.status_code == 404
    # an unknown document of a case one may read is 404 too
    assert call("GET", f"/cases/{case.id}/documents/not-a-uuid").status_code == 404


def test_the_lender_reads_the_file_only_once_submitted(call, case, session, tenant,
                                                        in_tenant, users):
    doc = attach(call, case).get_json()
    call("POST", f"/cases/{case.id}/household/members", json={
        "first_name": "Lou", "relationship": "partner", "birth_date": "1990-03-04"})
    paths = [f"/cases/{case.id}/documents", f"/cases/{case.id}/documents/{doc['id']}",
             f"/cases/{case.id}/household", f"/cases/{case.id}/synthesis"]
    for path in paths:
        assert call("GET", path, role="lender_agent").status_code == 404, path
    assert attach(call, case, role="lender_agent").status_code == 403
    submit_to_lender(session, tenant, in_tenant, users, case)
    for path in paths:
        assert call("GET", path, role="lender_agent").status_code == 200, path
    [member] = call("GET", f"/cases/{case.id}/household", role="lender_agent").get_json()[
        "members"]
    assert "birth_date" not in member and member["age"] >= 18  # the panel's minimisation
    assert call("DELETE", f"/cases/{case.id}/documents/{doc['id']}",
                role="lender_agent").status_code == 403


@pytest.mark.parametrize("role", ["referrer", "funder"])
def test_roles_that_do_not_read_cases_get_403(call, case, role):
    assert call("GET", f"/cases/{case.id}/documents", role=role).status_code == 403
    assert call("GET", f"/cases/{case.id}/synthesis", role=role).status_code == 403


# -- household ---------------------------------------------------------------------------


def test_household_members_and_co_borrower_through_the_api(call, case, session, tenant,
                                                           in_tenant):
    base = f"/cases/{case.id}/household"
    r = call("POST", f"{base}/members", json={"first_name": "Lou", "relationship": "partner",
                                              "birth_date": "1990-03-04"})
    assert r.status_code == 201, r.get_json()
    partner = r.get_json()
    assert partner["last_name"] == "Martin" and partner["adult"] is True
    assert partner["birth_date"] == "1990-03-04" and partner["co_borrower"] is False
    child = call("POST", f"{base}/members", json={
        "first_name": "Noé", "relationship": "child", "birth_date": "2019-05-06"}).get_json()

    household = call("GET", base).get_json()
    assert household["adults"] == 2 and len(household["children_ages"]) == 1
    assert {m["first_name"] for m in household["members"]} == {"Lou", "Noé"}

    r = call("PUT", f"/cases/{case.id}/co-borrower", json={"member_id": child["id"]})
    assert r.status_code == 422 and r.get_json()["detail"] == "Un co-emprunteur doit être majeur."
    r = call("PUT", f"/cases/{case.id}/co-borrower", json={"member_id": partner["id"]})
    assert r.status_code == 200 and r.get_json()["co_borrower_id"] == partner["id"]

    r = call("PATCH", f"{base}/members/{partner['id']}", json={"first_name": "Louise"})
    assert r.status_code == 200 and r.get_json()["first_name"] == "Louise"
    assert r.get_json()["relationship"] == "partner" and r.get_json()["co_borrower"] is True
    r = call("PATCH", f"{base}/members/{partner['id']}", json={"birth_date": "2015-01-01"})
    assert r.status_code == 422 and "majeur" in r.get_json()["detail"]

    r = call("DELETE", f"{base}/members/{partner['id']}")
    assert r.status_code == 409 and "co-emprunteuse" in r.get_json()["detail"]
    assert call("PUT", f"/cases/{case.id}/co-borrower",
                json={"member_id": None}).status_code == 200
    assert call("DELETE", f"{base}/members/{partner['id']}").status_code == 204
    assert call("GET", base).get_json()["adults"] == 1

    actions = [a for a, _ in audit_actions(session, tenant, in_tenant)]
    for action in ("household.add", "household.update", "household.remove",
                   "case.co_borrower"):
        assert action in actions, action
    assert actions.count("case.read") == 2  # the two reads of the household


def test_household_input_errors_name_every_field_in_french(call, case, session, tenant,
                                                           in_tenant):
    r = call("POST", f"/cases/{case.id}/household/members", json={
        "first_name": " ", "relationship": "partner"})
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"first_name": ["Indiquez le prénom."]}
    r = call("POST", f"/cases/{case.id}/household/members", json={
        "first_name": "Zoé", "relationship": "child", "birth_date": "2099-01-01"})
    assert r.status_code == 422 and r.get_json()["errors"] == {
        "birth_date": ["La date de naissance ne peut pas être dans le futur."]}
    r = call("POST", f"/cases/{case.id}/household/members", json={
        "first_name": "Zoé", "relationship": "child"})
    assert r.status_code == 422
    assert r.get_json()["errors"]["birth_date"][0].startswith(
        "Indiquez la date de naissance de l'enfant")
    r = call("POST", f"/cases/{case.id}/household/members", json={
        "first_name": "Zoé", "relationship": "cousin"})
    assert r.status_code == 422 and "relationship" in r.get_json()["errors"]
    assert call("PATCH", f"/cases/{case.id}/household/members/{case.id}",
                json={"first_name": "X"}).status_code == 404
    with in_tenant(tenant):
        assert cases.household.members(session, case.person) == []


def test_household_writes_are_ccas_staff_only(call, case):
    body = {"first_name": "Lou", "relationship": "partner"}
    for role in ("lender_agent", "referrer", "funder"):
        r = call("POST", f"/cases/{case.id}/household/members", role=role, json=body)
        assert r.status_code == 403, role


# -- synthesis ---------------------------------------------------------------------------


def test_synthesis_versions_through_the_api(call, case, session, tenant, in_tenant):
    path = f"/cases/{case.id}/synthesis"
    assert call("GET", path).get_json() == {"current": None, "versions": []}
    r = call("POST", path, role="social_worker", json={"request": "Achat d'une voiture.",
                                                       "resources": "CDD, 1 300 €."})
    assert r.status_code == 201 and r.get_json()["number"] == 1
    r = call("POST", path, role="social_worker", json={"request": "Achat d'une voiture.",
                                                       "resources": "CDD, 1 300 €."})
    assert r.status_code == 422
    assert r.get_json()["detail"] == "La synthèse n'a pas changé depuis la dernière version."
    r = call("POST", path, role="manager", json={"request": "Achat d'une voiture.",
                                                 "prospects": "CDI en vue."})
    assert r.status_code == 201 and r.get_json()["number"] == 2
    assert call("POST", path, role="secretary", json={"request": "x"}).status_code == 403
    assert call("POST", path, role="social_worker", json={}).status_code == 422
    body = call("GET", path, role="secretary").get_json()
    assert body["current"]["number"] == 2 and body["current"]["prospects"] == "CDI en vue."
    assert [v["number"] for v in body["versions"]] == [2, 1]
    actions = audit_actions(session, tenant, in_tenant)
    assert [d.get("number") for a, d in actions if a == "case.synthesis"] == [1, 2]
    assert ("case.read", {"view": "synthesis", "surface": "api"}) in actions


def test_the_new_operations_are_in_the_openapi_document(call):
    paths = call("GET", "/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/cases/{case_id}/documents"]) == {"get", "post"}
    upload = paths["/api/v1/cases/{case_id}/documents"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    assert set(paths["/api/v1/cases/{case_id}/documents/{file_id}"]) == {"get", "delete"}
    assert set(paths["/api/v1/cases/{case_id}/household/members/{member_id}"]) == {
        "patch", "delete"}
    assert set(paths["/api/v1/cases/{case_id}/co-borrower"]) == {"put"}
    assert set(paths["/api/v1/cases/{case_id}/synthesis"]) == {"get", "post"}
