"""Accompaniment pages: the case's follow-ups and tasks, the dashboard block, who sees
what (private notes, the lender's status only), closing without a final summary, tenant
isolation."""

from __future__ import annotations

import types
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core import cases, workflow
from core.features import accompaniment
from core.models import AuditEvent, CaseTransition, State
from core.models.accompaniment import AccompanimentTask, FollowUp, TaskStatus, TimeEntry
from core.workflow import TransitionRequest


@pytest.fixture
def signed(app, tenant, users, session, in_tenant):
    """A 12-month loan signed on 15/01/2026, followed by the social worker, repaying."""
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1990, 5, 4), email="lea@example.org"))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"])
        for source, target in (("intake", "documents_requested"), ("instruction",
                                                             "submitted_to_lender")):
            session.add(CaseTransition(case_id=c.id, from_state=source, to_state=target))
        session.add(CaseTransition(case_id=c.id, from_state="submitted_to_lender",
                                   to_state="granted", data={"months": 12}))
        c.state = State.signing
        c.social_worker_id = users["social_worker"].id
        session.flush()
        workflow.apply_transition(
            session, c, TransitionRequest(target="withdrawal_period", version=c.version),
            users["social_worker"], at=datetime(2026, 1, 15, 10, tzinfo=UTC))
        c.state = State.repaying
        session.commit()
        return c


def reload(session, tenant, in_tenant, *objects):
    """After a request changed data: expire everything, then reload ``objects`` inside
    their tenant (read outside it, an expired row is invisible: row-level security)."""
    session.expire_all()
    with in_tenant(tenant):
        for obj in objects:
            session.refresh(obj)


def url(case, suffix=""):
    return f"/t/alpha/accompagnement/dossiers/{case.id}{suffix}"


def late(session, tenant, in_tenant, case, days=12):
    with in_tenant(tenant):
        accompaniment.ccas_loan_event(loan=types.SimpleNamespace(case_id=case.id),
                                      event="late", data={"days_late": days}, session=session)
        session.commit()


def test_the_dashboard_shows_overdue_follow_ups_and_open_tasks(client, users, login, signed,
                                                               session, tenant, in_tenant):
    late(session, tenant, in_tenant, signed)
    login(client, users["social_worker"])
    html = client.get("/t/alpha/").get_data(as_text=True)
    assert "Suivis en retard" in html and "15/02/2026" in html  # month 1, long past
    assert "Échéance impayée depuis 12 jours." in html
    overview = client.get("/t/alpha/accompagnement/")
    assert overview.status_code == 200 and signed.reference in overview.get_data(as_text=True)


def test_a_social_worker_sees_only_the_cases_they_follow_on_the_dashboard(
        client, make_user, tenant, login, signed):
    other = make_user(tenant, "social_worker")
    login(client, other)
    html = client.get("/t/alpha/accompagnement/").get_data(as_text=True)
    assert signed.reference not in html and "Aucun suivi en retard." in html


def test_recording_a_follow_up_through_the_form(client, users, login, signed, session,
                                                tenant, in_tenant):
    with in_tenant(tenant):
        first = accompaniment.follow_ups(session, signed)[0]
    login(client, users["social_worker"])
    page = client.get(url(signed))
    assert page.status_code == 200 and "Enregistrer un suivi" in page.get_data(as_text=True)
    response = client.post(url(signed, "/suivis"), data={
        "follow_up_id": str(first.id), "done_on": "2026-02-16", "channel": "home_visit",
        "duration_minutes": "50", "shared_note": "Voiture achetée, budget tenu.",
        "private_note": "Tensions familiales."})
    assert response.status_code == 302
    reload(session, tenant, in_tenant, signed, *users.values())
    with in_tenant(tenant):
        row = session.get(FollowUp, (tenant.id, first.id))
        assert row.done_on == date(2026, 2, 16) and row.channel.value == "home_visit"
        assert session.scalar(select(TimeEntry.minutes)) == 50
        assert session.scalar(select(AuditEvent).where(
            AuditEvent.action == "accompaniment.follow_up")) is not None
    html = client.get(url(signed)).get_data(as_text=True)
    assert "Voiture achetée" in html and "Tensions familiales." in html


def test_an_invalid_follow_up_shows_the_errors_accessibly(client, users, login, signed):
    login(client, users["manager"])
    response = client.post(url(signed, "/suivis"), data={"done_on": "", "channel": "",
                                                         "duration_minutes": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in html and 'href="#duration_minutes"' in html
    assert 'id="duration_minutes"' in html and 'aria-describedby="duration_minutes-erreur"' in html
    assert html.count("<h1") == 1


def test_the_secretary_sees_shared_notes_not_private_ones_and_records_no_follow_up(
        client, users, login, signed, session, tenant, in_tenant):
    with in_tenant(tenant):
        accompaniment.record_follow_up(session, signed, users["social_worker"],
                                       accompaniment.FollowUpForm(
                                           done_on="2026-02-16", channel="phone",
                                           duration_minutes=20, shared_note="Tout va bien.",
                                           private_note="Secret du suivi."))
        session.commit()
    login(client, users["secretary"])
    html = client.get(url(signed)).get_data(as_text=True)
    assert "Tout va bien." in html and "Secret du suivi." not in html
    assert "Enregistrer un suivi" not in html
    assert client.post(url(signed, "/suivis"), data={}).status_code == 403


def test_the_lender_sees_only_that_the_ccas_is_on_it(client, users, login, signed, session,
                                                     tenant, in_tenant):
    late(session, tenant, in_tenant, signed, days=33)
    login(client, users["lender_agent"])
    html = client.get(f"/t/alpha/cases/{signed.id}").get_data(as_text=True)
    assert "Alerte prise en charge par le CCAS" in html
    assert "33 jour" not in html and "Action suggérée" not in html
    assert client.get(url(signed)).status_code == 403


def test_the_case_page_shows_the_accompaniment_block_to_the_ccas(client, users, login,
                                                                 signed):
    login(client, users["social_worker"])
    html = client.get(f"/t/alpha/cases/{signed.id}").get_data(as_text=True)
    assert "Suivis en retard" in html and "Voir et saisir les suivis" in html


@pytest.mark.parametrize("role", ["referrer", "funder"])
def test_partners_and_funders_see_no_accompaniment(client, users, login, signed, role):
    login(client, users[role])
    assert client.get(url(signed)).status_code == 403
    assert client.get("/t/alpha/accompagnement/").status_code == 403


def test_a_change_reported_by_the_borrower_opens_a_task_and_the_worker_closes_it(
        client, users, login, signed, session, tenant, in_tenant):
    login(client, users["secretary"])
    response = client.post(url(signed, "/changements"),
                           data={"change": "income_drop", "description": "Fin du RSA."})
    assert response.status_code == 302
    reload(session, tenant, in_tenant, signed, *users.values())
    with in_tenant(tenant):
        task = session.scalar(select(AccompanimentTask))
    assert "Baisse de ressources" in task.message and "budget" in task.suggested_action
    assert client.post(f"/t/alpha/accompagnement/taches/{task.id}/traiter",
                       data={"outcome": "Appel"}).status_code == 403
    login(client, users["social_worker"])
    empty = client.post(f"/t/alpha/accompagnement/taches/{task.id}/traiter",
                        data={"outcome": ""})
    assert empty.status_code == 422 and f'href="#outcome-{task.id}"' in empty.get_data(
        as_text=True)
    done = client.post(f"/t/alpha/accompagnement/taches/{task.id}/traiter",
                       data={"outcome": "Budget refait avec elle."})
    assert done.status_code == 302
    reload(session, tenant, in_tenant, signed, *users.values())
    with in_tenant(tenant):
        assert session.get(AccompanimentTask, (tenant.id, task.id)).status == TaskStatus.done


def test_closing_from_the_case_page_asks_for_the_final_summary(client, users, login, signed,
                                                               session, tenant, in_tenant):
    login(client, users["social_worker"])
    response = client.post(f"/t/alpha/cases/{signed.id}/transition", data={
        "to": "closed", "version": str(signed.version), "reason": "repaid"})
    assert response.status_code == 422
    assert "bilan final" in response.get_data(as_text=True)
    client.post(url(signed, "/suivis"), data={
        "done_on": "2026-02-16", "channel": "meeting", "duration_minutes": "45",
        "shared_note": "Bilan : prêt remboursé, budget stabilisé.", "final": "1"})
    reload(session, tenant, in_tenant, signed, *users.values())
    with in_tenant(tenant):
        version = signed.version
    closed = client.post(f"/t/alpha/cases/{signed.id}/transition", data={
        "to": "closed", "version": str(version), "reason": "repaid"})
    assert closed.status_code == 302


def test_another_tenants_case_answers_404(client, other_tenant, make_user, login, signed):
    stranger = make_user(other_tenant, "social_worker")
    login(client, stranger)
    assert client.get(f"/t/beta/accompagnement/dossiers/{signed.id}").status_code == 404
    assert client.post(f"/t/beta/accompagnement/dossiers/{signed.id}/suivis",
                       data={}).status_code == 404
    assert client.get("/t/beta/accompagnement/dossiers/not-a-uuid").status_code == 404
