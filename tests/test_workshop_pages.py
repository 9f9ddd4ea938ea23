"""Workshop pages: the journey from theme to evaluation, capacity shown to the user, who
may do what, the manager's report, tenant isolation."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core import cases, clock
from core.models import OutboxMessage, State
from core.models.accompaniment import InvitationStatus, WorkshopInvitation, WorkshopSession


def in_twenty_days():
    return (clock.now() + timedelta(days=20)).date()


def person_case(session, tenant, in_tenant, actor, first, email=None):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(first, "Petit", date(1991, 1, 1),
                                                                email=email))
        c = cases.open_case(session, person, "housing", "800", actor=actor)
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


def create_session(client, capacity="1"):
    assert client.post("/t/alpha/ateliers/themes", data={
        "title": "Prévoir les imprévus", "description": "Épargne de précaution."}
    ).status_code == 302
    theme_id = re.search(r'<option value="([0-9a-f-]{36})"',
                         client.get("/t/alpha/ateliers/").get_data(as_text=True)).group(1)
    response = client.post("/t/alpha/ateliers/seances", data={
        "theme_id": theme_id, "day": in_twenty_days().isoformat(), "time": "09:30",
        "duration_minutes": "90", "place": "Maison des solidarités", "capacity": capacity})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]


def test_workshop_journey_invite_register_attend_evaluate(client, users, login, session,
                                                         tenant, in_tenant):
    c = person_case(session, tenant, in_tenant, users["secretary"], "Inès", "ines@example.org")
    login(client, users["social_worker"])
    session_id = create_session(client, capacity="2")
    page = client.get(f"/t/alpha/ateliers/seances/{session_id}")
    assert page.status_code == 200 and "Inès Petit" in page.get_data(as_text=True)

    login(client, users["secretary"])
    assert client.post(f"/t/alpha/ateliers/seances/{session_id}/invitations",
                       data={"case_ids": [str(c.id)]}).status_code == 302
    reload(session, tenant, in_tenant, *users.values())
    with in_tenant(tenant):
        message = session.scalar(select(OutboxMessage))
        invitation = session.scalar(select(WorkshopInvitation))
    assert message.payload["attachments"][0]["filename"] == "atelier.ics"
    assert client.post(f"/t/alpha/ateliers/seances/{session_id}/inscriptions",
                       data={"invitation_id": str(invitation.id)}).status_code == 302
    # The secretary does not record attendance.
    assert client.post(
        f"/t/alpha/ateliers/seances/{session_id}/inscriptions/{invitation.id}/presence",
        data={"attended": "1"}).status_code == 403

    with in_tenant(tenant):  # the session has started
        ws = session.scalar(select(WorkshopSession))
        ws.starts_at = clock.now() - timedelta(minutes=10)
        year = ws.starts_at.year
        session.commit()
    login(client, users["social_worker"])
    base = f"/t/alpha/ateliers/seances/{session_id}/inscriptions/{invitation.id}"
    assert client.post(f"{base}/presence", data={"attended": "1"}).status_code == 302
    bad = client.post(f"{base}/evaluation", data={"score": "9", "comment": ""})
    assert bad.status_code == 422 and f'href="#score-{invitation.id}"' in bad.get_data(
        as_text=True)
    assert client.post(f"{base}/evaluation",
                       data={"score": "4", "comment": "Concret."}).status_code == 302
    reload(session, tenant, in_tenant, *users.values())
    with in_tenant(tenant):
        row = session.get(WorkshopInvitation, (tenant.id, invitation.id))
    assert (row.status, row.score, row.comment) == (InvitationStatus.attended, 4, "Concret.")

    login(client, users["manager"])
    report = client.get(f"/t/alpha/ateliers/rapport?annee={year}")
    html = report.get_data(as_text=True)
    assert report.status_code == 200 and "Ont participé à un atelier" in html
    assert "Inès" not in html  # aggregates only


def test_a_full_session_refuses_a_registration_with_a_clear_message(client, users, login,
                                                                    session, tenant,
                                                                    in_tenant):
    first = person_case(session, tenant, in_tenant, users["secretary"], "Anna")
    second = person_case(session, tenant, in_tenant, users["secretary"], "Bruno")
    login(client, users["manager"])
    session_id = create_session(client, capacity="1")
    login(client, users["secretary"])
    url = f"/t/alpha/ateliers/seances/{session_id}/inscriptions"
    assert client.post(url, data={"case_id": str(first.id)}).status_code == 302
    full = client.post(url, data={"case_id": str(second.id)})
    assert full.status_code == 409 and "Séance complète (1 places)" in full.get_data(
        as_text=True)


def test_an_invalid_session_form_shows_the_errors(client, users, login):
    login(client, users["social_worker"])
    client.post("/t/alpha/ateliers/themes", data={"title": "Banque et crédit"})
    response = client.post("/t/alpha/ateliers/seances", data={"place": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'class="error-summary"' in html
    assert 'aria-describedby="place-erreur"' in html


@pytest.mark.parametrize("role", ["referrer", "funder", "lender_agent"])
def test_partners_have_no_workshop_pages(client, users, login, role):
    login(client, users[role])
    assert client.get("/t/alpha/ateliers/").status_code == 403


def test_the_report_is_the_managers(client, users, login):
    login(client, users["secretary"])
    assert client.get("/t/alpha/ateliers/rapport").status_code == 403
    assert client.post("/t/alpha/ateliers/themes", data={"title": "X"}).status_code == 403


def test_another_tenants_session_answers_404(client, users, login, other_tenant, make_user):
    login(client, users["social_worker"])
    session_id = create_session(client)
    login(client, make_user(other_tenant, "social_worker"))
    assert client.get(f"/t/beta/ateliers/seances/{session_id}").status_code == 404
