"""Case API: intake, list, read, transitions; errors as problem+json; roles; tenants."""

from __future__ import annotations

import json
import types
import uuid

import pytest
from sqlalchemy import select

from core import cases, clock, plugins
from core.models import Case, CaseTransition
from core.plugin_api import PluginInfo, hookimpl

PERSON = {"first_name": "Léa", "last_name": "Martin", "birth_date": "1995-04-02",
          "phone": "0600000000", "adults": 1, "children_ages": [3]}
INTAKE = {"person": PERSON, "purpose": "mobility", "amount_requested": "1500.00",
          "project": "Voiture pour aller travailler"}


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    """The scheme as the seed runs it: the lender's FICP check comes first."""
    enable_plugin(tenant, "credit_municipal")


@pytest.fixture
def api(client, api_token, users):
    tokens = {}

    def call(role, method, path, json=None, data=None, headers=None):
        if role not in tokens:
            tokens[role] = api_token(users[role])
        h = {"Authorization": f"Bearer {tokens[role]}", **(headers or {})}
        return client.open(f"/api/v1{path}", method=method, json=json, data=data, headers=h)

    return call


def _open(api, role="secretary", **overrides):
    response = api(role, "POST", "/cases", json={**INTAKE, **overrides})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _move(api, role, case, to, **extra):
    return api(role, "POST", f"/cases/{case['id']}/transitions",
               json={"to": to, "version": case["version"], **extra})


def test_intake_through_the_api_opens_a_case(api):
    case = _open(api)
    assert case["state"] == "intake" and case["version"] == 1
    assert case["amount_requested"] == "1500.00"
    assert case["person"]["last_name"] == "Martin"
    assert case["transitions"][0]["to_state"] == "intake"


def test_intake_with_a_known_person_answers_409_with_the_duplicates(api):
    first = _open(api)
    again = api("secretary", "POST", "/cases", json=INTAKE)
    body = again.get_json()
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert [d["id"] for d in body["duplicates"]] == [first["person"]["id"]]
    reused = _open(api, person=None, person_id=first["person"]["id"])
    assert reused["person"]["id"] == first["person"]["id"]
    other = _open(api, new_person=True)
    assert other["person"]["id"] != first["person"]["id"]


def test_malformed_json_is_a_400_problem(api):
    response = api("secretary", "POST", "/cases", data="{not json",
                   headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_invalid_intake_is_422_with_field_errors(api):
    response = api("secretary", "POST", "/cases", json={"purpose": "yacht"})
    body = response.get_json()
    assert response.status_code == 422
    assert "purpose" in body["errors"] and "amount_requested" in body["errors"]


def test_lender_and_partners_may_not_open_cases(api):
    assert api("lender_agent", "POST", "/cases", json=INTAKE).status_code == 403
    assert api("referrer", "GET", "/cases").status_code == 403
    assert api("funder", "GET", "/cases").status_code == 403


def test_transition_answers_200_409_422_403(api):
    case = _open(api)
    stale = dict(case)
    moved = _move(api, "secretary", case, "ficp_pending")
    assert moved.status_code == 200 and moved.get_json()["state"] == "ficp_pending"
    conflict = _move(api, "manager", stale, "abandoned", reason="no_response")
    assert conflict.status_code == 409 and "modifié" in conflict.get_json()["detail"]
    case = moved.get_json()
    illegal = _move(api, "secretary", case, "granted")
    assert illegal.status_code == 422 and "impossible" in illegal.get_json()["detail"]
    forbidden = _move(api, "secretary", case, "ficp_registered")
    assert forbidden.status_code == 403
    missing = api("secretary", "POST", f"/cases/{case['id']}/transitions",
                  json={"to": "abandoned"})
    assert missing.status_code == 422 and "version" in missing.get_json()["errors"]


def test_plugin_veto_is_422_naming_the_plugin(api, tenant, enable_plugin):
    module = types.ModuleType("vetoapi")

    @hookimpl
    def ccas_plugin_info():
        return PluginInfo(name="vetoapi", label="Veto API", version="1")

    @hookimpl
    def ccas_case_before_transition(transition):
        return "montant trop élevé" if transition.target == "ficp_pending" else None

    module.ccas_plugin_info = ccas_plugin_info
    module.ccas_case_before_transition = ccas_case_before_transition
    plugins.registry().register(module, "vetoapi")
    try:
        enable_plugin(tenant, "vetoapi")
        case = _open(api)
        response = _move(api, "secretary", case, "ficp_pending")
        assert response.status_code == 422
        assert response.get_json()["detail"] == "Veto API : montant trop élevé"
        assert api("secretary", "GET", f"/cases/{case['id']}").get_json()["state"] == "intake"
    finally:
        plugins.registry().unregister("vetoapi")


def _record_ficp(client, login, users, case_id, result):
    login(client, users["lender_agent"])
    response = client.post(f"/t/alpha/p/credit_municipal/ficp/{case_id}", data={
        "result": result, "checked_on": clock.today().isoformat()})
    assert response.status_code == 302


def _interview(session, tenant, in_tenant, users, case_id, day, shared, private):
    with in_tenant(tenant):
        case = session.scalar(select(Case).where(Case.id == uuid.UUID(case_id)))
        cases.add_interview(session, case, users["social_worker"], day, 40, shared, private)
        if not cases.budget_lines(session, case):
            cases.save_budget(session, case, users["social_worker"],
                              {"salary": "1300", "rent": "500"})
        session.commit()


def test_end_to_end_through_the_api_to_submission(api, client, login, users, session, tenant,
                                                  in_tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    case = _open(api, send_to_ficp=True)
    assert case["state"] == "ficp_pending"
    blocked = _move(api, "secretary", case, "documents_requested")
    assert blocked.status_code == 422 and "FICP" in blocked.get_json()["detail"]
    _record_ficp(client, login, users, case["id"], "clear")
    case = api("secretary", "GET", f"/cases/{case['id']}").get_json()
    case = _move(api, "secretary", case, "documents_requested").get_json()
    case = _move(api, "social_worker", case, "evaluation").get_json()
    assert case["state"] == "evaluation"
    _interview(session, tenant, in_tenant, users, case["id"], "2026-01-05", "Premier.", "Secret")
    _interview(session, tenant, in_tenant, users, case["id"], "2026-01-12", "Second.", "")
    case = api("social_worker", "GET", f"/cases/{case['id']}").get_json()
    assert [i["shared_note"] for i in case["interviews"]] == ["Premier.", "Second."]
    assert case["interviews"][0]["private_note"] == "Secret"
    case = _move(api, "social_worker", case, "instruction").get_json()
    response = _move(api, "social_worker", case, "submitted_to_lender")
    assert response.status_code == 200 and response.get_json()["state"] == "submitted_to_lender"
    # the secretary reads the shared notes only
    secretary_view = api("secretary", "GET", f"/cases/{case['id']}").get_json()
    assert all("private_note" not in i for i in secretary_view["interviews"])
    lender_view = api("lender_agent", "GET", f"/cases/{case['id']}").get_json()
    assert [i["shared_note"] for i in lender_view["interviews"]] == ["Premier.", "Second."]
    assert all("private_note" not in i for i in lender_view["interviews"])
    assert "Secret" not in str(lender_view)


def test_intake_then_reoriented_through_the_api(api):
    case = _open(api)
    response = _move(api, "secretary", case, "reoriented", reason="legal_aid_available",
                     destination="aide_legale")
    assert response.status_code == 200
    assert response.get_json()["state"] == "reoriented"
    assert response.get_json()["reoriented_to"] == "aide_legale"


def test_ficp_registered_through_the_api(api, tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    case = _open(api, send_to_ficp=True)
    lender_case = api("lender_agent", "GET", f"/cases/{case['id']}").get_json()
    assert set(lender_case["person"]) == {"id", "first_name", "last_name", "birth_date"}
    assert "project" not in lender_case
    response = _move(api, "lender_agent", lender_case, "ficp_registered")
    assert response.status_code == 200 and response.get_json()["state"] == "ficp_registered"


def test_lender_sees_only_cases_from_the_ficp_check_on(api):
    hidden = _open(api)
    shown = _open(api, new_person=True, send_to_ficp=True)
    listing = api("lender_agent", "GET", "/cases").get_json()
    assert [c["id"] for c in listing["items"]] == [shown["id"]]
    assert api("lender_agent", "GET", f"/cases/{hidden['id']}").status_code == 404


def test_list_filters_and_paginates(api):
    for i in range(5):
        _open(api, person={**PERSON, "last_name": f"Nom{i}"},
              purpose="health" if i % 2 else "housing")
    page = api("secretary", "GET", "/cases?per_page=2&page=2&count=true").get_json()
    assert page["total"] == 5 and len(page["items"]) == 2 and page["page"] == 2
    assert page["has_more"] is True
    assert api("secretary", "GET", "/cases?purpose=health&count=1").get_json()["total"] == 2
    assert api("secretary", "GET", "/cases?q=nom3&count=true").get_json()["total"] == 1
    assert api("secretary", "GET", "/cases?state=intake&count=true").get_json()["total"] == 5


def test_list_counts_only_when_asked(api):
    """No count of the whole tenant on every page: ``total`` is null unless ``count=true``;
    ``has_more`` tells whether a next page exists."""
    for i in range(3):
        _open(api, person={**PERSON, "last_name": f"Nom{i}"})
    first = api("secretary", "GET", "/cases?per_page=2").get_json()
    assert first["total"] is None and first["has_more"] is True and len(first["items"]) == 2
    last = api("secretary", "GET", "/cases?per_page=2&page=2").get_json()
    assert last["has_more"] is False and len(last["items"]) == 1
    bad = api("secretary", "GET", "/cases?state=nowhere")
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


def test_another_tenants_case_is_404(api, session, other_tenant, in_tenant):
    with in_tenant(other_tenant):
        person = cases.create_person(session, cases.PersonData("Jo", "Autre"))
        other = cases.open_case(session, person, "health", "500", tenant=other_tenant)
        session.commit()
        other_id = str(other.id)
    assert api("manager", "GET", f"/cases/{other_id}").status_code == 404
    response = api("manager", "POST", f"/cases/{other_id}/transitions",
                   json={"to": "ficp_pending", "version": 1})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert api("manager", "GET", "/cases/nope").status_code == 404


def test_reading_a_case_through_the_api_is_audited(api, session, tenant, in_tenant):
    from core.models import AuditEvent

    case = _open(api)
    api("manager", "GET", f"/cases/{case['id']}")
    with in_tenant(tenant):
        reads = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case.read", AuditEvent.object_id == case["id"])).all()
    assert len(reads) == 1 and reads[0].actor.startswith("token:")


def test_transitions_are_recorded_once_per_move(api, session, tenant, in_tenant):
    case = _open(api)
    _move(api, "secretary", case, "ficp_pending")
    with in_tenant(tenant):
        rows = session.scalars(select(CaseTransition)).all()
    assert sorted(r.to_state for r in rows) == ["ficp_pending", "intake"]
    assert "ficp_pending" in {r.to_state for r in rows}


def test_case_endpoints_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "post" in spec["paths"]["/api/v1/cases"] and "get" in spec["paths"]["/api/v1/cases"]
    assert "409" in spec["paths"]["/api/v1/cases/{case_id}/transitions"]["post"]["responses"]


def test_case_json_is_the_document_case_schema_describes(app, api, session, tenant,
                                                        in_tenant):
    """``dump_case`` builds the JSON without marshmallow (speed): it must give exactly
    what ``CaseSchema`` (the OpenAPI document) would."""
    from core.schemas.cases import CaseSchema, case_data, dump_case

    opened = _open(api)
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, uuid.UUID(opened["id"])))
        for role in ("secretary", "social_worker", "lender_agent"):
            for detail in (True, False):
                assert dump_case(session, case, role, detail) == CaseSchema().dump(
                    case_data(session, case, role, detail)), (role, detail)
                # the read and the list hand the Python values to the app's JSON
                # provider: it must write the same document
                assert json.loads(app.json.dumps(case_data(session, case, role, detail))) \
                    == dump_case(session, case, role, detail), (role, detail)
        session.rollback()


def test_the_read_and_the_list_answer_the_case_document(api, session, tenant, in_tenant):
    """``GET /cases/<id>`` and ``GET /cases`` answer exactly ``dump_case``'s document
    (the views hand Python values to the JSON provider; the money stays "1500.00")."""
    from core.schemas.cases import dump_case

    opened = _open(api)
    read = api("secretary", "GET", f"/cases/{opened['id']}").get_json()
    listed = api("secretary", "GET", "/cases").get_json()["items"]
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, uuid.UUID(opened["id"])))
        assert read == dump_case(session, case, "secretary")
        assert [i for i in listed if i["id"] == opened["id"]] == [
            dump_case(session, case, "secretary", detail=False)]
        assert read["amount_requested"] == "1500.00" and "T" in read["state_changed_at"]
        session.rollback()


def test_the_list_read_as_columns_answers_each_role_the_case_document(api, session, tenant,
                                                                      in_tenant, other_tenant):
    """The API's list reads columns (``cases.list_case_rows``), not mapped cases: for each
    role its items are exactly ``dump_case``'s documents of the mapped cases the ORM list
    (``cases.list_cases``) gives, in the same order (the lender's agent seeing the files
    sent to the FICP check, the person's household and employment included), and another
    tenant's cases are never on it."""
    from core.schemas.cases import dump_case

    with in_tenant(other_tenant):
        person = cases.create_person(session, cases.PersonData("Jo", "Autre"))
        cases.open_case(session, person, "health", "500", tenant=other_tenant)
        session.commit()
    for i in range(3):
        _open(api, person={**PERSON, "last_name": f"Nom{i}", "children_ages": [i, 9],
                           "employment": "cdi"}, send_to_ficp=bool(i % 2))
    seen = {}
    for role in ("secretary", "social_worker", "manager", "lender_agent"):
        listed = api(role, "GET", "/cases?per_page=100").get_json()["items"]
        with in_tenant(tenant):
            mapped, _total = cases.list_cases(session, role, cases.CaseFilters(), 1, 100)
            expected = [dump_case(session, c, role, detail=False) for c in mapped]
            session.rollback()
        assert listed == expected, role
        seen[role] = sorted(i["person"]["last_name"] for i in listed)
    assert seen["manager"] == ["Nom0", "Nom1", "Nom2"]
    assert seen["lender_agent"] == ["Nom1"]


def test_the_teams_list_read_by_core_filters_as_the_counted_list(api, session, tenant,
                                                                  in_tenant, other_tenant,
                                                                  users):
    """The CCAS team's page without a count or a name search is one Core read per shape
    of filters (``cases.list_case_rows``); with ``count=true`` the ORM statement answers.
    For every filter, alone and combined, both give the same items, and another tenant's
    similar cases never appear."""
    import uuid
    from datetime import timedelta

    from sqlalchemy import update

    from core import clock
    from core.models import Case

    with in_tenant(other_tenant):
        person = cases.create_person(session, cases.PersonData("Jo", "Autre"))
        cases.open_case(session, person, "health", "500", tenant=other_tenant)
        session.commit()
    opened = [_open(api, person={**PERSON, "last_name": f"Nom{i}"},
                    purpose="health" if i % 2 else "housing", send_to_ficp=i == 3)
              for i in range(5)]
    worker = users["social_worker"]
    with in_tenant(tenant):
        ids = [uuid.UUID(c["id"]) for c in opened]
        session.execute(update(Case).where(Case.id.in_(ids[:2]))
                        .values(social_worker_id=worker.id))
        session.execute(update(Case).where(Case.id == ids[2])
                        .values(intake_date=clock.today() - timedelta(days=40)))
        session.commit()
    since = (clock.today() - timedelta(days=10)).isoformat()
    filters = ["", "state=intake", "state=ficp_pending", "purpose=health",
               f"worker={worker.id}", "worker=none", f"date_from={since}",
               f"date_to={since}", f"purpose=housing&worker=none&date_from={since}",
               "state=intake&purpose=health&worker=none"]
    seen = set()
    for query in filters:
        for role in ("secretary", "manager"):
            plain = api(role, "GET", f"/cases?per_page=100&{query}").get_json()
            counted = api(role, "GET", f"/cases?per_page=100&count=true&{query}").get_json()
            assert plain["items"] == counted["items"], (query, role)
            assert counted["total"] == len(plain["items"])
            assert {i["person"]["last_name"] for i in plain["items"]} <= {
                f"Nom{i}" for i in range(5)}
            seen.add((query, len(plain["items"])))
    sizes = dict(seen)
    assert sizes[""] == 5 and sizes["worker=none"] == 3 and sizes["purpose=health"] == 2
    assert sizes["state=ficp_pending"] == 1 and sizes[f"date_to={since}"] == 1
    page = api("secretary", "GET", "/cases?per_page=2&page=2").get_json()
    assert [i["id"] for i in page["items"]] == [
        i["id"] for i in api("secretary", "GET", "/cases?per_page=5").get_json()["items"][2:4]]
