"""SQL statements per request on the main endpoints, so that a regression shows.

Each figure is the number of statements the request sends to the database (transaction
control aside), with the four partner plugins enabled, a case holding transitions and an
interview, and a page of referrals. A new N+1 (a lazy load per row of a list), a second
authentication query or a redundant read makes a count grow: if the new statement is
wanted, raise the figure here and say why in the commit. ``benchmarks/request_speed.py``
prints the same counts beside the timings.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import event

from core.db import db

PLUGINS = ("credit_municipal", "caf", "secours_catholique", "adie")
PERSON = {"first_name": "Léa", "last_name": "Martin", "birth_date": "1995-04-02",
          "phone": "0600000000", "adults": 1, "children_ages": [3]}

#: statements per request: (SQLite, PostgreSQL). PostgreSQL adds, per transaction, the
#: tenant wall's two statements (the backend and transaction start the signature covers,
#: then ``set_config``). A list read writes one audit row naming the ids shown (security
#: issue, finding 7). The enabled plugins are not read: each process keeps them under the
#: tenant's ``plugins_stamp``, which comes with the tenant row (``core.plugins``). A new
#: referral is not read back: its organisations, history and attachments are known.
EXPECTED = {
    "case_read": (6, 8),
    "case_list": (3, 5),
    "case_list_state": (3, 5),
    "case_list_count": (4, 6),
    # the name search counts its words' tokens first (capped), to pick the plan that
    # reads least (core.case_search.filter_by_words): one statement more than the list
    "case_search": (4, 6),
    "referral_list": (5, 7),
    "referral_create": (10, 14),
}


@pytest.fixture
def world(client, tenant, users, api_token, enable_plugin, session, in_tenant):
    for name in PLUGINS:
        enable_plugin(tenant, name)
    tokens = {role: api_token(users[role]) for role in ("secretary", "social_worker",
                                                        "referrer")}

    def call(role, method, path, **kw):
        headers = {"Authorization": f"Bearer {tokens[role]}", **kw.pop("headers", {})}
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kw)

    for i in range(3):
        response = call("secretary", "POST", "/cases", json={
            "person": {**PERSON, "last_name": f"Nom{i}"}, "purpose": "mobility",
            "amount_requested": "1500.00", "new_person": True})
        assert response.status_code == 201, response.get_json()
    case = response.get_json()
    for i in range(3):
        assert _referral(call, i).status_code == 201
    return {"call": call, "case": case}


def _referral(call, i):
    return call("referrer", "POST", "/referrals", headers={"Idempotency-Key": str(uuid.uuid4())},
                json={"person": {"first_name": "Léa", "last_name": f"Orientée{i}",
                                 "birth_date": "1990-04-02", "phone": "0600000000"},
                      "purpose": "mobility", "amount_requested": "1500.00",
                      "consent": True})


def _count(request) -> int:
    statements = []

    def seen(conn, cursor, statement, *_args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        response = request()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code in (200, 201), response.get_data(as_text=True)[:300]
    if os.environ.get("CCAS_SHOW_STATEMENTS"):  # print them to see what changed
        width = int(os.environ.get("CCAS_SHOW_STATEMENTS_WIDTH", 150))
        print("\n---", *[" ".join(s.split())[:width] for s in statements], sep="\n  ")
    return len(statements)


def test_statements_per_request_on_the_main_endpoints(world):
    call, case = world["call"], world["case"]
    requests = {
        "case_read": lambda: call("social_worker", "GET", f"/cases/{case['id']}"),
        "case_list": lambda: call("social_worker", "GET", "/cases?per_page=20"),
        "case_list_state": lambda: call("social_worker", "GET",
                                        "/cases?per_page=20&state=intake"),
        "case_list_count": lambda: call("social_worker", "GET",
                                        "/cases?per_page=20&count=true"),
        "case_search": lambda: call("social_worker", "GET", "/cases?per_page=20&q=nom1"),
        "referral_list": lambda: call("referrer", "GET", "/referrals"),
        "referral_create": lambda: _referral(call, 9),
    }
    column = 1 if db.engine.dialect.name == "postgresql" else 0
    counts = {}
    for name, request in requests.items():
        request()  # warm: token last-use stamp, caches
        counts[name] = _count(request)
    assert counts == {name: figures[column] for name, figures in EXPECTED.items()}


#: The case page (``core.web.cases.case_page``) of a case in ``documents_requested``
#: brought by a partner, with two appointments (two workers), an interview and an
#: accompaniment task, the four plugins enabled, read by its social worker: the session,
#: the tenant, the user, the case with its person and its referring organisation (one
#: statement), the budget, the history, the interviews, the workers of the assignment
#: form (the interviews' authors, the booking form's workers and the listed appointments'
#: workers are taken from them; the appointments' case is the page's), the organisations
#: a move may reorient to (a move of ``documents_requested`` names a destination), the
#: lender's FICP check and loan, the audit row, then the panels' reads: the documents
#: checklist, the household, the syntheses, the stored files, the appointments, the
#: suggestions, the follow-ups, the plan, the tasks (their case is the page's). One
#: transaction (the page renders, then its audit row is written and committed):
#: PostgreSQL adds the wall's two statements once.
CASE_PAGE = (21, 23)


def test_statements_of_the_case_page(client, tenant, users, login, enable_plugin, session,
                                     in_tenant):
    from datetime import UTC, date, datetime

    from core import accounts, cases, workflow
    from core.features import accompaniment
    from core.features import appointments as appts
    from core.workflow import TransitionRequest

    with in_tenant(tenant):
        partner = accounts.create_organisation(session, "Association Relais", "association")
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1995, 4, 2), email="lea@example.org"))
        case = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"])
        case.referring_organisation_id = partner.id
        case.social_worker_id = users["social_worker"].id
        session.commit()
        workflow.apply_transition(session, case, TransitionRequest(
            "documents_requested", case.version), users["secretary"])
        session.commit()
        now = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
        for worker, day in (("social_worker", "2026-10-20"), ("manager", "2026-10-21")):
            appts.book(session, case, users[worker].id, appts.Slot(
                day=day, time="10:00", duration_minutes=60, place="CCAS"),
                users["secretary"], now=now)
        accompaniment.create_task(session, case, "late_instalment", "Un impayé")
        cases.add_interview(session, case, users["social_worker"], "2025-01-06", 45,
                            "Premier entretien")
        session.commit()
        case_id = case.id
    for name in PLUGINS:  # after the move: the lender's FICP check comes first otherwise
        enable_plugin(tenant, name)
    login(client, users["social_worker"])
    url = f"/t/{tenant.slug}/cases/{case_id}"
    client.get(url)  # warm: caches
    page = []
    count = _count(lambda: page.append(client.get(url)) or page[0])
    html = page[0].get_data(as_text=True)
    # what the cut statements read is on the page
    assert "Association Relais" in html
    for worker in ("social_worker", "manager"):
        name = users[worker].full_name or users[worker].email
        assert html.count(name) >= 2, worker  # an appointment's "with", the booking form
    assert "Un impayé" in html and "Premier entretien" in html
    assert count == CASE_PAGE[1 if db.engine.dialect.name == "postgresql" else 0]


#: statements per page (SQLite, PostgreSQL), signed in through the server-side session:
#: the session row, the tenant, the user with their organisation (PostgreSQL: the wall's
#: two statements). The manager's dashboard: the FICP queue, the lender's proposed
#: defaults and positions, the cases per state, the stuck cases, the median delays, the
#: year's requests, referrals by partner, workshop attendance, the overdue follow-ups and
#: the open tasks (their cases joined: no second read for them), today's appointments,
#: the cases missing documents. The partner portal: its referrals, the list read's audit.
PAGE_EXPECTED = {
    "manager_dashboard": (16, 18),
    "portal_list": (5, 7),
}


@pytest.fixture
def pages(world, client, login, users, session, in_tenant, tenant):
    """A dashboard with a row in each of its lists: a case stuck for 60 days, one
    missing a document, a loan being repaid with an overdue follow-up and an open task."""
    from datetime import timedelta

    from core import clock
    from core.models import Case
    from core.models.accompaniment import AccompanimentTask, FollowUp
    from core.models.documents import CaseDocument

    with in_tenant(tenant):
        found = session.query(Case).order_by(Case.reference).all()
        stuck, missing, repaying = found[:3]
        stuck.state_changed_at = clock.now() - timedelta(days=60)
        missing.state = "documents_requested"
        session.add(CaseDocument(case_id=missing.id, code="rib", label="RIB"))
        repaying.state = "repaying"
        session.add(FollowUp(case_id=repaying.id, plan_month=1,
                             planned_on=clock.today(tenant) - timedelta(days=10)))
        session.add(AccompanimentTask(case_id=repaying.id, kind="late_instalment",
                                      message="Échéance impayée"))
        session.commit()
    return {"client": client, "login": login, "users": users}


def test_statements_per_page_on_the_dashboard_and_the_portal(pages):
    client, login, users = pages["client"], pages["login"], pages["users"]
    column = 1 if db.engine.dialect.name == "postgresql" else 0
    counts = {}
    for name, role, path in (("manager_dashboard", "manager", "/t/alpha/"),
                             ("portal_list", "referrer", "/t/alpha/orientations/")):
        login(client, users[role])
        html = client.get(path).get_data(as_text=True)  # warm
        if name == "manager_dashboard":  # each list has its row
            assert "Échéance impayée" in html and "Aucun suivi en retard" not in html
            assert "Aucun dossier bloqué" not in html and "Aucun dossier n'attend" not in html
        counts[name] = _count(lambda p=path: client.get(p))
    assert counts == {name: figures[column] for name, figures in PAGE_EXPECTED.items()}
