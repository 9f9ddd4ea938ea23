"""FICP check of the lender plugin: manual queue, results, connector hook, notification."""

from __future__ import annotations

import types
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core import cases, clock, plugins
from core.models import OutboxMessage
from core.plugin_api import (
    Case,
    Organisation,
    PluginInfo,
    State,
    TransitionError,
    TransitionRequest,
    apply_transition,
    hookimpl,
)
from plugins.credit_municipal.ficp_models import FicpCheck, FicpResult

QUEUE = "/t/alpha/p/credit_municipal/ficp"


@pytest.fixture
def pending(app, tenant, users, session, in_tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1995, 4, 2), phone="0611223344", city="Toulouse"))
        case = cases.open_case(session, person, "mobility", "1500", tenant=tenant,
                               project="Projet confidentiel")
        apply_transition(session, case, TransitionRequest("ficp_pending", case.version),
                         users["secretary"])
        session.commit()
        yield case


def _fresh(session, tenant, in_tenant, case_id) -> Case:
    with in_tenant(tenant):
        return session.scalar(select(Case).where(Case.id == case_id)
                              .execution_options(populate_existing=True))


def _record(client, case, result, checked_on=None, version=None):
    return client.post(f"{QUEUE}/{case.id}", data={
        "result": result, "checked_on": (checked_on or clock.today()).isoformat(),
        "version": str(version if version is not None else case.version)})


def test_queue_shows_only_the_identity_the_check_needs(client, users, login, pending):
    login(client, users["lender_agent"])
    html = client.get(QUEUE).get_data(as_text=True)
    assert "Martin" in html and "Léa" in html and "02/04/1995" in html
    assert "0611223344" not in html and "Toulouse" not in html
    assert "confidentiel" not in html and "1 500" not in html


def test_queue_is_for_lender_agents_and_the_manager(client, users, login, pending):
    login(client, users["secretary"])
    assert client.get(QUEUE).status_code == 403
    login(client, users["manager"])
    assert client.get(QUEUE).status_code == 200


def test_queue_answers_404_when_the_plugin_is_disabled(client, users, login, pending,
                                                       session, tenant, in_tenant):
    with in_tenant(tenant):
        pending.state = "abandoned"  # no case left in the plugin's own states
        session.commit()
        plugins.set_enabled(session, "credit_municipal", False)
        session.commit()
    plugins.forget_enabled_cache()
    login(client, users["lender_agent"])
    assert client.get(QUEUE).status_code == 404


def test_disabling_the_plugin_is_refused_while_cases_wait_for_its_check(
        pending, users, session, tenant, in_tenant, ccas):
    with in_tenant(tenant):
        with pytest.raises(plugins.PluginError, match="1 dossier est dans un état"):
            plugins.set_enabled(session, "credit_municipal", False)
        session.rollback()
    result = ccas("plugins", "disable", "--tenant", "alpha", "credit_municipal")
    assert result.exit_code == 1 and "1 dossier" in result.output
    with in_tenant(tenant):
        assert plugins.is_enabled("credit_municipal")


def test_the_case_cannot_leave_ficp_pending_without_a_result(pending, users, session,
                                                             tenant, in_tenant):
    with in_tenant(tenant), pytest.raises(TransitionError, match="contrôle FICP"):
        apply_transition(session, pending, TransitionRequest(
            State.documents_requested, pending.version), users["secretary"])
    session.rollback()


def test_clear_lets_the_secretary_continue(client, users, login, pending, session, tenant,
                                           in_tenant):
    login(client, users["lender_agent"])
    assert _record(client, pending, "clear").status_code == 302
    case = _fresh(session, tenant, in_tenant, pending.id)
    assert case.state == "ficp_pending"
    with in_tenant(tenant):
        check = session.scalar(select(FicpCheck))
        assert check.result == FicpResult.clear and check.source == "manual"
        assert check.agent_id == users["lender_agent"].id
        apply_transition(session, case, TransitionRequest(
            State.documents_requested, case.version), users["secretary"])
        session.commit()
    assert "Martin" not in client.get(QUEUE).get_data(as_text=True).split("Derniers")[0]
    login(client, users["secretary"])
    assert "Non inscrit" in client.get(f"/t/alpha/cases/{pending.id}").get_data(as_text=True)


def test_registered_ends_the_case_and_emails_the_ccas(client, users, login, pending, session,
                                                      tenant, in_tenant):
    with in_tenant(tenant):
        session.scalar(select(Organisation).where(Organisation.kind == "ccas")).email = \
            "ccas@alpha.test"
        session.commit()
    login(client, users["lender_agent"])
    assert _record(client, pending, "registered").status_code == 302
    case = _fresh(session, tenant, in_tenant, pending.id)
    assert case.state == "ficp_registered"
    with in_tenant(tenant):
        mail = session.scalar(select(OutboxMessage))
    assert mail.recipient == "ccas@alpha.test" and case.reference in mail.payload["text"]
    assert "Martin" not in mail.payload["text"]  # the reference is enough


def test_no_email_when_the_ccas_has_no_address(client, users, login, pending, session,
                                               tenant, in_tenant):
    login(client, users["lender_agent"])
    _record(client, pending, "registered")
    with in_tenant(tenant):
        assert session.scalars(select(OutboxMessage)).all() == []


def test_a_future_consultation_date_is_refused(client, users, login, pending, session,
                                               tenant, in_tenant):
    login(client, users["lender_agent"])
    response = _record(client, pending, "clear", clock.today() + timedelta(days=2))
    assert response.status_code == 422 and "futur" in response.get_data(as_text=True)
    with in_tenant(tenant):
        assert session.scalars(select(FicpCheck)).all() == []


def test_a_missing_result_is_refused(client, users, login, pending, session, tenant,
                                     in_tenant):
    login(client, users["lender_agent"])
    assert _record(client, pending, "").status_code == 422


def test_a_stale_version_is_a_conflict_and_records_nothing(client, users, login, pending,
                                                           session, tenant, in_tenant):
    login(client, users["lender_agent"])
    response = _record(client, pending, "registered", version=pending.version - 1)
    assert response.status_code == 409
    assert _fresh(session, tenant, in_tenant, pending.id).state == "ficp_pending"
    with in_tenant(tenant):
        assert session.scalars(select(FicpCheck)).all() == []


def test_unknown_case_is_404(client, users, login, pending):
    login(client, users["lender_agent"])
    assert client.post(f"{QUEUE}/{uuid.uuid4()}", data={"result": "clear"}).status_code == 404
    assert client.post(f"{QUEUE}/nope", data={"result": "clear"}).status_code == 404


def _connector(answer):
    module = types.ModuleType(f"ficpbot_{answer}")

    @hookimpl
    def ccas_plugin_info():
        return PluginInfo(name=module.__name__, label="Robot FICP", version="1")

    @hookimpl
    def ccas_ficp_check(person, case):
        assert person.last_name == "Martin"
        return answer

    module.ccas_plugin_info = ccas_plugin_info
    module.ccas_ficp_check = ccas_ficp_check
    return module


@pytest.mark.parametrize("answer,state", [("clear", "ficp_pending"),
                                          ("registered", "ficp_registered")])
def test_an_automated_connector_answer_is_recorded(answer, state, app, tenant, users,
                                                   session, in_tenant, enable_plugin):
    module = _connector(answer)
    plugins.registry().register(module, module.__name__)
    try:
        enable_plugin(tenant, "credit_municipal")
        enable_plugin(tenant, module.__name__)
        with in_tenant(tenant):
            person = cases.create_person(session, cases.PersonData("Léa", "Martin"))
            case = cases.open_case(session, person, "mobility", "1500", tenant=tenant)
            apply_transition(session, case, TransitionRequest("ficp_pending", case.version),
                             users["secretary"])
            session.commit()
            check = session.scalar(select(FicpCheck))
            assert check.result == answer and check.source == "connector"
            assert case.state == state
    finally:
        plugins.registry().unregister(module.__name__)


def test_without_a_connector_the_case_waits_in_the_queue(pending, session, tenant,
                                                         in_tenant):
    with in_tenant(tenant):
        assert session.scalars(select(FicpCheck)).all() == []
    assert pending.state == "ficp_pending"


def test_a_raising_connector_leaves_the_case_to_the_agents_and_is_logged(
        app, tenant, users, session, in_tenant, enable_plugin, caplog):
    module = types.ModuleType("ficpbot_broken")

    @hookimpl
    def ccas_plugin_info():
        return PluginInfo(name="ficpbot_broken", label="Robot cassé", version="1")

    @hookimpl
    def ccas_ficp_check(person):
        raise ConnectionError("Banque de France unreachable")

    module.ccas_plugin_info = ccas_plugin_info
    module.ccas_ficp_check = ccas_ficp_check
    plugins.registry().register(module, "ficpbot_broken")
    try:
        enable_plugin(tenant, "credit_municipal")
        enable_plugin(tenant, "ficpbot_broken")
        with in_tenant(tenant):
            person = cases.create_person(session, cases.PersonData("Léa", "Martin"))
            case = cases.open_case(session, person, "mobility", "1500", tenant=tenant)
            apply_transition(session, case, TransitionRequest("ficp_pending", case.version),
                             users["secretary"])
            session.commit()
            assert case.state == "ficp_pending"
            assert session.scalars(select(FicpCheck)).all() == []
        assert "plugin ficpbot_broken failed in ccas_ficp_check" in caplog.text
    finally:
        plugins.registry().unregister("ficpbot_broken")


def test_the_secretary_is_told_whom_to_call_back_once_the_check_is_clear(
        client, users, login, pending):
    login(client, users["lender_agent"])
    assert _record(client, pending, "clear").status_code == 302
    login(client, users["secretary"])
    dashboard = client.get("/t/alpha/").get_data(as_text=True)
    assert "Contrôles FICP favorables : rappeler la personne (1)" in dashboard
    assert pending.reference in dashboard
    assert "Inscriptions au FICP à annoncer (0)" in dashboard
    # the core's own block of the secretary's work is there too
    assert "Fiches recueil à traiter (0)" in dashboard


def test_the_secretarys_call_back_list_says_more_than_it_lists(
        client, users, login, pending, session, tenant, in_tenant, monkeypatch):
    """Past ``SECRETARY_SHOWN`` the heading says "plus de" that many (it gave the cut
    list's length as the total)."""
    from plugins.credit_municipal import ficp

    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Paul", "Durand",
                                                               date(1990, 1, 2)))
        second = cases.open_case(session, person, "mobility", "900", tenant=tenant)
        apply_transition(session, second, TransitionRequest("ficp_pending", second.version),
                         users["secretary"])
        session.commit()
    login(client, users["lender_agent"])
    for case in (pending, second):
        assert _record(client, case, "clear").status_code == 302
    login(client, users["secretary"])
    assert "rappeler la personne (2)" in client.get("/t/alpha/").get_data(as_text=True)
    monkeypatch.setattr(ficp, "SECRETARY_SHOWN", 1)
    assert "rappeler la personne (plus de 1)" in client.get("/t/alpha/").get_data(as_text=True)
