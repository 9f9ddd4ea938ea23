"""Case pages: intake sheet, FICP check, evaluation, instruction, submission, reorientation,
conflicts, plugin errors, who sees what, tenant isolation."""

from __future__ import annotations

import html
import re
import types
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from core import cases, clock, plugins
from core.models import AuditEvent, Case, CaseTransition, Interview, Person, State
from core.plugin_api import PluginInfo, hookimpl

INTAKE = {
    "last_name": "Martin", "first_name": "Léa", "birth_date": "1995-04-02",
    "phone": "0600000000", "adults": "2", "children_ages": "4, 15",
    "employment": "cdd", "purpose": "mobility", "amount_requested": "1 500,00",
    "project": "Achat d'une voiture d'occasion pour aller travailler", "source": "phone",
}


def _case_id(response) -> str:
    match = re.search(r"/cases/([0-9a-f-]{36})", response.headers["Location"])
    assert match, response.headers.get("Location")
    return match.group(1)


def _case(session, tenant, in_tenant, case_id) -> Case:
    """The case as stored now (reloaded; other objects of the session are left alone, so
    that the ``users`` fixtures stay usable outside the tenant scope on PostgreSQL)."""
    with in_tenant(tenant):
        return session.scalar(
            select(Case).where(Case.id == uuid.UUID(case_id))
            .execution_options(populate_existing=True)
        )


def _move(client, case_id, to, version, **extra):
    return client.post(f"/t/alpha/cases/{case_id}/transition",
                       data={"to": to, "version": str(version), **extra})


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    """The scheme as the seed runs it: the lender's FICP check comes first."""
    enable_plugin(tenant, "credit_municipal")


def _intake(client, **overrides):
    return client.post("/t/alpha/cases/new", data={**INTAKE, **overrides})


def test_intake_sheet_saves_a_case_in_intake(client, users, login, session, tenant,
                                             in_tenant):
    login(client, users["secretary"])
    page = client.get("/t/alpha/cases/new")
    assert page.status_code == 200 and "Nouvelle fiche recueil" in page.get_data(as_text=True)
    response = _intake(client, action="save")
    assert response.status_code == 302
    case = _case(session, tenant, in_tenant, _case_id(response))
    assert case.state == State.intake
    assert str(case.amount_requested) == "1500.00"
    assert case.person.children_ages == [4, 15] and case.person.adults == 2


def test_intake_sheet_refuses_missing_fields_with_an_error_summary(client, users, login,
                                                                   session, tenant,
                                                                   in_tenant):
    login(client, users["secretary"])
    response = _intake(client, last_name="", amount_requested="", action="save")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "error-summary" in html and 'aria-invalid="true"' in html
    assert "last_name-erreur" in html
    with in_tenant(tenant):
        assert session.scalars(select(Case)).all() == []


def test_intake_offers_the_existing_person_and_reuses_it(client, users, login, session,
                                                         tenant, in_tenant):
    login(client, users["secretary"])
    first = _intake(client, action="save")
    existing = _case(session, tenant, in_tenant, _case_id(first)).person_id
    offered = _intake(client, last_name="MARTIN", first_name="lea", action="save")
    html = offered.get_data(as_text=True)
    assert offered.status_code == 200 and "peut-être déjà connue" in html
    assert f"existing:{existing}" in html
    reused = _intake(client, person_choice=f"existing:{existing}", action="save")
    assert _case(session, tenant, in_tenant, _case_id(reused)).person_id == existing
    with in_tenant(tenant):
        assert len(session.scalars(select(Person)).all()) == 1
    other = _intake(client, person_choice="new", action="save")
    assert _case(session, tenant, in_tenant, _case_id(other)).person_id != existing
    with in_tenant(tenant):
        assert len(session.scalars(select(Person)).all()) == 2


def _to_evaluation_with_interviews(client, login, users, session, tenant, in_tenant):
    login(client, users["secretary"])
    case_id = _case_id(_intake(client, action="option:send_to_ficp"))
    assert _case(session, tenant, in_tenant, case_id).state == "ficp_pending"
    # the lender's agent sees only the identity the check needs, then records "clear"
    login(client, users["lender_agent"])
    queue = client.get("/t/alpha/p/credit_municipal/ficp")
    html = queue.get_data(as_text=True)
    assert queue.status_code == 200 and "Martin" in html and "02/04/1995" in html
    assert "0600000000" not in html and "voiture" not in html
    version = _case(session, tenant, in_tenant, case_id).version
    recorded = client.post(f"/t/alpha/p/credit_municipal/ficp/{case_id}",
                           data={"result": "clear", "checked_on": clock.today().isoformat(),
                                 "version": str(version)})
    assert recorded.status_code == 302
    login(client, users["secretary"])
    case = _case(session, tenant, in_tenant, case_id)
    assert _move(client, case_id, "documents_requested", case.version).status_code == 302
    case = _case(session, tenant, in_tenant, case_id)
    assert case.state == State.documents_requested
    assert client.post(f"/t/alpha/cases/{case_id}/assign", data={
        "worker": str(users["social_worker"].id), "version": str(case.version)}
    ).status_code == 302
    login(client, users["social_worker"])
    case = _case(session, tenant, in_tenant, case_id)
    assert _move(client, case_id, "evaluation", case.version).status_code == 302
    for day, shared, private in (("2026-01-05", "Projet clair, emploi en CDD.", "Fragile."),
                                 ("2026-01-12", "Budget établi avec la personne.", "")):
        response = client.post(f"/t/alpha/cases/{case_id}/interviews/new", data={
            "held_on": day, "duration_minutes": "45", "shared_note": shared,
            "private_note": private})
        assert response.status_code == 302
    response = client.post(f"/t/alpha/cases/{case_id}/budget", data={
        "salary": "1 400", "family_benefits": "150,50", "rent": "550", "energy": "90"})
    assert response.status_code == 302
    return case_id


def test_end_to_end_from_intake_to_submission_to_the_lender(client, users, login, session,
                                                            tenant, in_tenant, lender):
    case_id = _to_evaluation_with_interviews(client, login, users, session, tenant, in_tenant)
    page = client.get(f"/t/alpha/cases/{case_id}").get_data(as_text=True)
    assert "Entretiens d&#39;évaluation (2)" in page or "Entretiens d'évaluation (2)" in page
    assert "Fragile." in page  # the social worker reads the private note
    assert "910,50" in page  # remaining income: 1550.50 - 640
    case = _case(session, tenant, in_tenant, case_id)
    assert _move(client, case_id, "instruction", case.version).status_code == 302
    summary = client.get(f"/t/alpha/cases/{case_id}/summary")
    assert summary.status_code == 200
    text = summary.get_data(as_text=True)
    assert "Budget établi avec la personne." in text and "Fragile." not in text
    pdf = client.get(f"/t/alpha/cases/{case_id}/summary.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    case = _case(session, tenant, in_tenant, case_id)
    assert _move(client, case_id, "submitted_to_lender", case.version).status_code == 302
    case = _case(session, tenant, in_tenant, case_id)
    assert case.state == State.submitted_to_lender
    with in_tenant(tenant):
        steps = [t.to_state for t in session.scalars(
            select(CaseTransition).where(CaseTransition.case_id == case.id)
            .order_by(CaseTransition.at))]
    assert steps == ["intake", "ficp_pending", "documents_requested", "evaluation",
                     "instruction", "submitted_to_lender"]
    # the lender reads the submitted file, never the private note
    login(client, users["lender_agent"])
    lender_page = client.get(f"/t/alpha/cases/{case_id}").get_data(as_text=True)
    assert "Budget établi avec la personne." in lender_page and "Fragile." not in lender_page
    assert "Fragile." not in client.get(f"/t/alpha/cases/{case_id}/summary").get_data(
        as_text=True)


def test_private_notes_are_hidden_from_the_secretary(client, users, login, session, tenant,
                                                     in_tenant, lender):
    case_id = _to_evaluation_with_interviews(client, login, users, session, tenant, in_tenant)
    login(client, users["secretary"])
    page = client.get(f"/t/alpha/cases/{case_id}").get_data(as_text=True)
    assert "Projet clair" in page and "Fragile." not in page


def test_intake_then_reoriented_with_a_coded_destination(client, users, login, session,
                                                         tenant, in_tenant):
    login(client, users["secretary"])
    case_id = _case_id(_intake(client, action="save"))
    case = _case(session, tenant, in_tenant, case_id)
    refused = _move(client, case_id, "reoriented", case.version, reason="better_scheme")
    assert refused.status_code == 422 and "réorientée" in refused.get_data(as_text=True)
    assert _case(session, tenant, in_tenant, case_id).state == State.intake
    moved = _move(client, case_id, "reoriented", case.version, reason="better_scheme",
                  destination="point_conseil_budget")
    assert moved.status_code == 302
    case = _case(session, tenant, in_tenant, case_id)
    assert case.state == State.reoriented and case.reoriented_to == "point_conseil_budget"
    assert "Point conseil budget" in client.get(f"/t/alpha/cases/{case_id}").get_data(
        as_text=True)


def test_a_case_reoriented_to_a_partner_names_it_even_once_it_is_no_partner(
        client, users, login, session, tenant, in_tenant):
    from core.models import Organisation, OrganisationKind
    with in_tenant(tenant):
        caf = Organisation(name="CAF du Rhône", kind=OrganisationKind.aid_fund)
        session.add(caf)
        session.commit()
        caf_id = caf.id
    login(client, users["secretary"])
    case_id = _case_id(_intake(client, action="save"))
    case = _case(session, tenant, in_tenant, case_id)
    moved = _move(client, case_id, "reoriented", case.version, reason="better_scheme",
                  destination=f"org:{caf_id}", consent="yes", consent_method="in_person")
    assert moved.status_code == 302
    with in_tenant(tenant):
        caf = session.scalar(select(Organisation).where(Organisation.id == caf_id))
        caf.kind = OrganisationKind.other  # no longer a partner
        session.commit()
    page = client.get(f"/t/alpha/cases/{case_id}").get_data(as_text=True)
    assert "vers CAF du Rhône" in page and "org:" not in page


def test_ficp_registered_ends_the_case_and_tells_the_ccas(client, users, login, session,
                                                          tenant, in_tenant, lender):
    from core.models import Organisation, OutboxMessage

    with in_tenant(tenant):
        ccas = session.scalar(select(Organisation).where(Organisation.kind == "ccas"))
        ccas.email = "accueil@ccas.test"
        session.commit()
    login(client, users["secretary"])
    case_id = _case_id(_intake(client, action="option:send_to_ficp"))
    login(client, users["lender_agent"])
    case = _case(session, tenant, in_tenant, case_id)
    response = client.post(f"/t/alpha/p/credit_municipal/ficp/{case_id}", data={
        "result": "registered", "checked_on": clock.today().isoformat(),
        "version": str(case.version)})
    assert response.status_code == 302
    case = _case(session, tenant, in_tenant, case_id)
    assert case.state == "ficp_registered"
    with in_tenant(tenant):
        mails = session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in mails] == ["accueil@ccas.test"]
    assert case.reference in mails[0].subject
    login(client, users["secretary"])
    dashboard = client.get("/t/alpha/").get_data(as_text=True)
    assert "Inscriptions au FICP à annoncer (1)" in dashboard and case.reference in dashboard


def test_secretary_cannot_continue_before_the_ficp_result(client, users, login, session,
                                                          tenant, in_tenant, lender):
    login(client, users["secretary"])
    case_id = _case_id(_intake(client, action="option:send_to_ficp"))
    case = _case(session, tenant, in_tenant, case_id)
    response = _move(client, case_id, "documents_requested", case.version)
    assert response.status_code == 422
    assert "contrôle FICP" in response.get_data(as_text=True)
    assert _case(session, tenant, in_tenant, case_id).state == "ficp_pending"


def test_two_clients_posting_the_same_version_the_second_gets_a_conflict(
        app, users, login, session, tenant, in_tenant):
    first, second = app.test_client(), app.test_client()
    login(first, users["secretary"])
    login(second, users["manager"])
    case_id = _case_id(_intake(first, action="save"))
    version = _case(session, tenant, in_tenant, case_id).version
    assert _move(first, case_id, "ficp_pending", version).status_code == 302
    response = _move(second, case_id, "abandoned", version, reason="no_response")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Conflit de modification" in html and "modifié par quelqu" in html
    case = _case(session, tenant, in_tenant, case_id)
    assert case.state == "ficp_pending"  # the first writer's move is kept
    with in_tenant(tenant):
        assert len(session.scalars(select(CaseTransition)).all()) == 2


def test_a_stale_assignment_is_a_conflict_and_changes_nothing(client, users, login, session,
                                                              tenant, in_tenant):
    login(client, users["secretary"])
    case_id = _case_id(_intake(client, action="option:send_to_ficp"))
    response = client.post(f"/t/alpha/cases/{case_id}/assign", data={
        "worker": str(users["social_worker"].id), "version": "1"})
    assert response.status_code == 409
    assert _case(session, tenant, in_tenant, case_id).social_worker_id is None


def _crashing_plugin():
    module = types.ModuleType("crashpage")

    @hookimpl
    def ccas_plugin_info():
        return PluginInfo(name="crashpage", label="Crash", version="1")

    @hookimpl
    def ccas_case_before_transition(case):
        raise RuntimeError("boom")

    module.ccas_plugin_info = ccas_plugin_info
    module.ccas_case_before_transition = ccas_case_before_transition
    return module


def test_a_plugin_raising_refuses_the_transition_on_the_page(client, users, login, session,
                                                             tenant, in_tenant,
                                                             enable_plugin, caplog):
    plugins.registry().register(_crashing_plugin(), "crashpage")
    try:
        enable_plugin(tenant, "crashpage")
        login(client, users["secretary"])
        case_id = _case_id(_intake(client, action="save"))
        case = _case(session, tenant, in_tenant, case_id)
        response = _move(client, case_id, "ficp_pending", case.version)
        assert response.status_code == 422
        assert "Crash : erreur de l&#39;extension" in response.get_data(as_text=True) or \
            "Crash : erreur de l'extension" in response.get_data(as_text=True)
        assert "plugin crashpage failed in ccas_case_before_transition" in caplog.text
        case = _case(session, tenant, in_tenant, case_id)
        assert case.state == State.intake and case.version == 1
    finally:
        plugins.registry().unregister("crashpage")


def test_reading_a_case_page_is_audited(client, users, login, session, tenant, in_tenant):
    login(client, users["secretary"])
    case_id = _case_id(_intake(client, action="save"))
    client.get(f"/t/alpha/cases/{case_id}")
    with in_tenant(tenant):
        reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.read",
                                                         AuditEvent.object_id == case_id)).all()
    assert len(reads) == 1 and reads[0].actor == f"user:{users['secretary'].email}"


@pytest.mark.parametrize("role", ["referrer", "funder"])
def test_referrers_and_funders_see_no_case_page(client, users, login, session, tenant,
                                                in_tenant, role):
    login(client, users["secretary"])
    case_id = _case_id(_intake(client, action="save"))
    login(client, users[role])
    assert client.get(f"/t/alpha/cases/{case_id}").status_code == 403
    assert client.get("/t/alpha/cases/").status_code == 403


def test_lender_does_not_see_cases_before_the_ficp_check(client, users, login, session,
                                                         tenant, in_tenant):
    login(client, users["secretary"])
    case_id = _case_id(_intake(client, action="save"))
    login(client, users["lender_agent"])
    assert client.get(f"/t/alpha/cases/{case_id}").status_code == 404
    assert "Martin" not in client.get("/t/alpha/cases/").get_data(as_text=True)


def test_another_tenants_case_answers_404(client, users, login, session, other_tenant,
                                         in_tenant, make_user):
    with in_tenant(other_tenant):
        person = cases.create_person(session, cases.PersonData("Jo", "Autre", date(1990, 1, 1)))
        other = cases.open_case(session, person, "health", "500", tenant=other_tenant)
        session.commit()
        other_id = str(other.id)
    login(client, users["manager"])
    assert client.get(f"/t/alpha/cases/{other_id}").status_code == 404
    assert _move(client, other_id, "ficp_pending", 1).status_code == 404
    assert client.get("/t/alpha/cases/not-a-uuid").status_code == 404


def test_case_list_filters_searches_and_paginates(client, users, login, session, tenant,
                                                  in_tenant):
    with in_tenant(tenant):
        for i in range(30):
            person = cases.create_person(session, cases.PersonData(f"P{i}", f"Nom{i:02d}"))
            cases.open_case(session, person, "health" if i % 2 else "housing", "300",
                            tenant=tenant, intake_date=date(2026, 1, 1 + i % 28))
        session.commit()
    login(client, users["secretary"])
    first = client.get("/t/alpha/cases/").get_data(as_text=True)
    assert "30 dossiers, page 1 sur 2" in first and "Page suivante" in first
    by_name = client.post("/t/alpha/cases/", data={"q": "nom0"}).get_data(as_text=True)
    assert "10 dossiers" in by_name
    searched = client.post("/t/alpha/cases/", data={"q": "Nom07"}).get_data(as_text=True)
    assert "1 dossier." in searched and "Nom07" in searched
    # a name never travels in a URL: the search form and its pages are POSTs
    assert "?q=" not in first and 'method="post"' in first
    assert "1 dossier." not in client.get("/t/alpha/cases/?q=Nom07").get_data(as_text=True)
    many = client.post("/t/alpha/cases/", data={"q": "nom"}).get_data(as_text=True)
    assert "30 dossiers, page 1 sur 2" in many and "q=nom" not in many
    second = client.post("/t/alpha/cases/", data={"q": "nom", "page": "2"})
    assert "page 2 sur 2" in second.get_data(as_text=True)
    housing = client.get("/t/alpha/cases/?purpose=housing").get_data(as_text=True)
    assert "15 dossiers" in housing
    dated = client.get("/t/alpha/cases/?date_from=2026-01-01&date_to=2026-01-02")
    assert "4 dossiers" in dated.get_data(as_text=True)  # days 1 and 2, twice each
    bad = client.get("/t/alpha/cases/?date_from=hier")
    assert bad.status_code == 422 and "Date invalide" in bad.get_data(as_text=True)


def _seven_cases(session, tenant, in_tenant) -> None:
    """Seven cases (Nom00 … Nom06) received on 1 to 7 January 2026."""
    with in_tenant(tenant):
        for i in range(7):
            person = cases.create_person(session, cases.PersonData(f"P{i}", f"Nom{i:02d}"))
            cases.open_case(session, person, "health", "300", tenant=tenant,
                            intake_date=date(2026, 1, 1 + i))
        session.commit()


def test_case_list_counts_up_to_a_cap_then_says_more(client, users, login, session, tenant,
                                                     in_tenant, monkeypatch):
    """The list counts at most ``COUNT_CAP`` + 1 matching cases (a page's cost must not
    grow with the tenant): beyond, it says "more than", and the pages go on while full."""
    from core.web import cases as case_pages

    monkeypatch.setattr(case_pages, "COUNT_CAP", 4)
    monkeypatch.setattr(case_pages, "PER_PAGE", 3)
    _seven_cases(session, tenant, in_tenant)
    login(client, users["secretary"])
    first = client.get("/t/alpha/cases/").get_data(as_text=True)
    assert "Plus de 4 dossiers, page 1." in first and "Page suivante" in first
    assert "sur" not in first.split('role="status"')[1].split("</p>")[0]
    last = client.get("/t/alpha/cases/?page=3").get_data(as_text=True)
    assert "Plus de 4 dossiers, page 3." in last and "Page suivante" not in last
    assert "Page précédente" in last and last.count("Nom00") == 1
    # under the cap, the exact count and the number of pages, as before
    few = client.get("/t/alpha/cases/?date_to=2026-01-03").get_data(as_text=True)
    assert "3 dossiers." in few and "Page suivante" not in few


def test_case_list_asked_past_its_last_page_shows_the_last(client, users, login, session,
                                                          tenant, in_tenant, monkeypatch):
    """``?page=50`` of 3 pages (an old link, a typed number) shows page 3 of 3 and says
    so, not an empty list under "page 50 sur 3"; by POST (a name searched) too. Beyond
    the cap, where the last page is unknown, a page past the end says it is empty and
    links back to the first page."""
    from core.web import cases as case_pages

    monkeypatch.setattr(case_pages, "PER_PAGE", 3)
    _seven_cases(session, tenant, in_tenant)
    login(client, users["secretary"])
    for far in (client.get("/t/alpha/cases/?page=50"),
                client.post("/t/alpha/cases/", data={"q": "nom", "page": "50"})):
        page = html.unescape(far.get_data(as_text=True))
        assert far.status_code == 200
        assert "7 dossiers, page 3 sur 3." in page and "dossiers, page 50" not in page
        assert ("La page 50 n'existe pas : la liste s'arrête à la page 3, affichée"
                " ci-dessous.") in page
        assert page.count("Nom00") == 1  # the oldest case, alone on the last page
        assert '<li aria-current="page">Page 3 / 3</li>' in page
        assert "Page suivante" not in page and "Aucun dossier" not in page
    monkeypatch.setattr(case_pages, "COUNT_CAP", 4)
    empty = html.unescape(client.get("/t/alpha/cases/?page=9").get_data(as_text=True))
    assert "Plus de 4 dossiers, page 9." in empty
    assert "La page 9 est vide : la liste s'arrête avant." in empty
    assert 'href="/t/alpha/cases/?page=1" rel="first">Revenir à la première page' in empty
    assert "Aucun dossier ne correspond" not in empty


def test_case_list_writes_its_count_in_french(client, users, login, monkeypatch):
    """Thousands are grouped (a narrow no-break space), as every figure of the site."""
    from core.web import cases as case_pages

    monkeypatch.setattr(case_pages.cases.paging, "count_at_most", lambda *a, **k: 1234)
    login(client, users["secretary"])
    page = client.get("/t/alpha/cases/").get_data(as_text=True)
    assert "1\u202f234 dossiers, page 1 sur 50." in page


def test_manager_dashboard_shows_counts_stuck_cases_and_delays(client, users, login,
                                                               session, tenant, in_tenant):
    from datetime import timedelta

    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Al", "Vieux"))
        old = cases.open_case(session, person, "health", "300", tenant=tenant)
        session.flush()
        old.state_changed_at = clock.now() - timedelta(days=45)
        session.commit()
    login(client, users["manager"])
    html = client.get("/t/alpha/").get_data(as_text=True)
    assert "Dossiers par état" in html and "Fiche recueil" in html
    assert "plus de 30 jours (1)" in html and old.reference in html
    assert "Délais médians par étape" in html
    # key figures above, and the states as a chart with its data table
    assert "Dossiers en cours" in html and "Sans mouvement depuis 30 jours" in html
    assert 'role="img"' in html and "Fiche recueil : 1" in html  # the chart's description


def test_interviews_are_only_for_social_workers_and_the_manager(client, users, login,
                                                                session, tenant, in_tenant):
    login(client, users["secretary"])
    case_id = _case_id(_intake(client, action="save"))
    assert client.post(f"/t/alpha/cases/{case_id}/interviews/new", data={
        "held_on": "2026-01-05", "shared_note": "x"}).status_code == 403
    with in_tenant(tenant):
        assert session.scalars(select(Interview)).all() == []


def test_a_name_search_counts_its_words_once_for_the_page_and_its_total(
        client, users, login, session, tenant, in_tenant, monkeypatch):
    """The page and its (capped) total come from one filtered statement: the search's
    token count, a statement of its own, runs once per page, not once for each."""
    from core import case_search

    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Léa", "Martin"))
        cases.open_case(session, person, "health", "300", tenant=tenant)
        session.commit()
    calls = []
    real = case_search.token_counts
    monkeypatch.setattr(case_search, "token_counts",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    login(client, users["secretary"])
    page = client.post("/t/alpha/cases/", data={"q": "martin"}).get_data(as_text=True)
    assert "1 dossier." in page and len(calls) == 1
