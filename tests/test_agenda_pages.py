"""core.web.appointments: booking form, overlap message, agenda day/week, ICS, outcome, roles."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core import cases, clock, workflow
from core.features import appointments as appts
from core.models import Appointment, AppointmentStatus
from core.workflow import TransitionRequest

PARIS = ZoneInfo("Europe/Paris")
#: Sunday 31 October 2027: clocks went back at 03:00 that night (CET, UTC+1 afterwards).
DST_DAY = "2027-10-31"


@pytest.fixture
def case(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1995, 4, 2), email="lea@example.org", phone="0600000000"))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"])
        for target in ("documents_requested",):
            workflow.apply_transition(session, c, TransitionRequest(target, c.version),
                                      users["secretary"])
        session.commit()
        return c


def form(worker, day=DST_DAY, at="10:00", duration="60", **kw):
    data = {"rdv-worker": str(worker.id), "rdv-date": day, "rdv-time": at,
            "rdv-duration": duration, "rdv-mode": "in_person",
            "rdv-place": "CCAS, 1 place du Capitole", "rdv-kind": "intake"}
    data.update({f"rdv-{k}": v for k, v in kw.items()})
    return data


def book_url(case):
    return f"/t/alpha/cases/{case.id}/appointments/new"


def appointments(session, tenant, in_tenant):
    session.expire_all()
    with in_tenant(tenant):
        return session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()


def test_case_page_has_the_booking_form(client, login, users, case):
    login(client, users["secretary"])
    html = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert "Fixer un rendez-vous" in html
    assert f'action="{book_url(case)}"' in html
    for field in ("rdv-worker", "rdv-date", "rdv-time", "rdv-duration", "rdv-place"):
        assert f'<label for="{field}">' in html


def test_secretary_books_in_local_time_after_the_dst_change(client, login, users, case,
                                                             session, tenant, in_tenant):
    login(client, users["secretary"])
    r = client.post(book_url(case), data={**form(users["social_worker"]),
                                          "next": f"/t/alpha/cases/{case.id}"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/cases/{case.id}")
    [a] = appointments(session, tenant, in_tenant)
    assert a.starts_at == datetime(2027, 10, 31, 9, 0, tzinfo=UTC)
    assert a.social_worker_id == users["social_worker"].id
    follow = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Rendez-vous fixé le 31/10/2027 à 10:00" in follow


def test_overlap_is_refused_with_a_clear_message_on_the_time_field(client, login, users,
                                                                   case, session, tenant,
                                                                   in_tenant):
    login(client, users["secretary"])
    assert client.post(book_url(case), data=form(users["social_worker"])).status_code == 302
    r = client.post(book_url(case), data=form(users["social_worker"], at="10:30"))
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "a déjà un rendez-vous le 31/10/2027 de 10:00 à 11:00" in html
    assert 'class="error-summary"' in html and 'href="#rdv-time"' in html
    assert 'aria-invalid="true" aria-describedby="rdv-time-erreur' in html
    assert 'value="10:30"' in html  # what was typed is kept
    assert len(appointments(session, tenant, in_tenant)) == 1


def test_invalid_form_shows_each_error(client, login, users, case):
    login(client, users["secretary"])
    r = client.post(book_url(case), data=form(users["social_worker"], date="bientôt",
                                              duration="500", place=""))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for message in ("Date invalide", "Durée entre 15 et 240 minutes",
                    "Indiquez le lieu du rendez-vous"):
        assert message in html
    assert 'id="rdv-duration-erreur"' in html and 'id="rdv-place-erreur"' in html


def test_week_agenda_shows_the_appointment_in_local_time(client, login, users, case):
    login(client, users["secretary"])
    client.post(book_url(case), data=form(users["social_worker"]))
    worker = users["social_worker"]
    r = client.get(f"/t/alpha/agenda?worker={worker.id}&day=2027-10-28&view=week")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.count("<h1") == 1
    assert "semaine du 25/10/2027 au 31/10/2027" in html
    assert "Dimanche 31/10/2027" in html and "10:00–11:00" in html
    assert "Léa Martin" in html
    assert "day=2027-10-18&amp;view=week" in html and "day=2027-11-01&amp;view=week" in html


def test_day_agenda_and_navigation(client, login, users, case):
    login(client, users["social_worker"])
    client.post(book_url(case), data=form(users["social_worker"]))
    html = client.get(f"/t/alpha/agenda?day={DST_DAY}&view=day").get_data(as_text=True)
    assert "dimanche 31/10/2027" in html and "10:00–11:00" in html
    assert "day=2027-10-30&amp;view=day" in html and "day=2027-11-01&amp;view=day" in html
    nxt = client.get("/t/alpha/agenda?day=2027-11-01&view=day").get_data(as_text=True)
    assert "10:00–11:00" not in nxt and "Aucun rendez-vous." in nxt


def test_agenda_is_per_worker(client, login, users, case, make_user, tenant):
    other = make_user(tenant, "social_worker")
    login(client, users["secretary"])
    client.post(book_url(case), data=form(users["social_worker"]))
    html = client.get(f"/t/alpha/agenda?worker={other.id}&day={DST_DAY}").get_data(
        as_text=True)
    assert "10:00–11:00" not in html


def test_bad_agenda_day_is_reported(client, login, users):
    login(client, users["secretary"])
    r = client.get("/t/alpha/agenda?day=demain")
    assert r.status_code == 422 and "Date invalide" in r.get_data(as_text=True)


def test_ics_download_parses_back(client, login, users, case, session, tenant, in_tenant):
    login(client, users["secretary"])
    client.post(book_url(case), data=form(users["social_worker"]))
    [a] = appointments(session, tenant, in_tenant)
    r = client.get(f"/t/alpha/appointments/{a.id}/rendez-vous.ics")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in r.headers["Content-Disposition"]
    text = r.data.decode("utf-8")
    lines = text.replace("\r\n ", "").split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    props = dict(line.split(":", 1) for line in lines if ":" in line)
    assert props["DTSTART;TZID=Europe/Paris"] == "20271031T100000"
    assert props["DTEND;TZID=Europe/Paris"] == "20271031T110000"
    assert props["UID"] == f"{a.id}@alpha.ccas-network"
    local = datetime.strptime(props["DTSTART;TZID=Europe/Paris"], "%Y%m%dT%H%M%S")
    assert local.replace(tzinfo=PARIS).astimezone(UTC) == a.starts_at


def test_outcome_is_recorded_after_the_appointment(client, login, users, case, session,
                                                   tenant, in_tenant):
    with in_tenant(tenant):
        a = appts.book(session, case, users["social_worker"].id,
                       appts.Slot(day="2026-11-02", time="14:00", place="CCAS"),
                       users["secretary"], tenant,
                       now=datetime(2026, 11, 1, tzinfo=UTC))
        session.commit()
    login(client, users["social_worker"])
    page = client.get(f"/t/alpha/appointments/{a.id}").get_data(as_text=True)
    assert "Le rendez-vous a-t-il eu lieu ?" in page
    r = client.post(f"/t/alpha/appointments/{a.id}/outcome",
                    data={"status": "held", "note": "Projet voiture confirmé."})
    assert r.status_code == 302
    [row] = appointments(session, tenant, in_tenant)
    assert row.status == AppointmentStatus.held and row.outcome_note == "Projet voiture confirmé."
    case_page = client.get(f"/t/alpha/cases/{row.case_id}").get_data(as_text=True)
    assert "Temps passé en rendez-vous tenus" in case_page and "évaluation 60 min" in case_page
    r = client.post(f"/t/alpha/appointments/{a.id}/outcome", data={"status": ""})
    assert r.status_code == 422 and 'id="outcome-status-erreur"' in r.get_data(as_text=True)


def test_future_appointment_has_no_outcome_form_but_can_be_moved(client, login, users, case,
                                                                 session, tenant, in_tenant):
    login(client, users["secretary"])
    client.post(book_url(case), data=form(users["social_worker"]))
    [a] = appointments(session, tenant, in_tenant)
    page = client.get(f"/t/alpha/appointments/{a.id}").get_data(as_text=True)
    assert "Le rendez-vous a-t-il eu lieu ?" not in page
    assert "Déplacer le rendez-vous" in page and 'value="2027-10-31"' in page
    r = client.post(f"/t/alpha/appointments/{a.id}/move", data={
        "move-worker": str(users["social_worker"].id), "move-date": "2027-11-02",
        "move-time": "09:15", "move-duration": "45", "move-mode": "phone", "move-place": "",
        "move-kind": "intake"})
    assert r.status_code == 302
    old, new = sorted(appointments(session, tenant, in_tenant), key=lambda x: x.created_at)
    assert old.status == AppointmentStatus.moved and old.moved_to_id == new.id
    assert new.starts_at == datetime(2027, 11, 2, 8, 15, tzinfo=UTC)
    assert new.mode == "phone"


def test_social_worker_dashboard_lists_todays_appointments(client, login, users, case,
                                                          session, tenant, in_tenant):
    today = clock.now().astimezone(PARIS).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=PARIS) + timedelta(hours=23)
    with in_tenant(tenant):
        appts.book(session, case, users["social_worker"].id,
                   appts.Slot(day=today.isoformat(), time="23:00", duration_minutes=30,
                              place="CCAS"),
                   users["secretary"], tenant, now=start - timedelta(days=1))
        session.commit()
    login(client, users["social_worker"])
    html = client.get("/t/alpha/").get_data(as_text=True)
    assert "Mes rendez-vous du jour" in html and "23:00–23:30" in html


def test_secretary_dashboard_lists_everyones_appointments_of_today_in_this_tenant_only(
        client, login, users, case, session, tenant, in_tenant, other_tenant, make_user):
    today = clock.now().astimezone(PARIS).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=PARIS) + timedelta(hours=22)
    worker = users["social_worker"]
    with in_tenant(tenant):
        for at, place in (("22:00", "Mairie annexe"), ("23:00", "CCAS")):
            appts.book(session, case, worker.id,
                       appts.Slot(day=today.isoformat(), time=at, duration_minutes=30,
                                  place=place),
                       users["secretary"], tenant, now=start - timedelta(days=1))
        session.commit()
        moved = session.scalar(select(Appointment).where(Appointment.place == "Mairie annexe"))
        moved.status = AppointmentStatus.moved
        session.commit()
    their_worker, their_secretary = (make_user(other_tenant, "social_worker"),
                                     make_user(other_tenant, "secretary"))
    with in_tenant(other_tenant):
        person = cases.create_person(session, cases.PersonData("Eve", "Durand",
                                                               date(1980, 1, 2)))
        theirs = cases.open_case(session, person, "mobility", "900", actor=their_secretary)
        workflow.apply_transition(session, theirs, TransitionRequest(
            "documents_requested", theirs.version), their_secretary)
        appts.book(session, theirs, their_worker.id,
                   appts.Slot(day=today.isoformat(), time="22:30", duration_minutes=30,
                              place="Ailleurs"),
                   their_secretary, other_tenant, now=start - timedelta(days=1))
        session.commit()
    login(client, users["secretary"])
    html = client.get("/t/alpha/").get_data(as_text=True)
    block = html[html.index('id="rdv-jour-titre"'):]
    block = block[:block.index("</section>")]
    assert "Rendez-vous du jour" in block and "23:00–23:30" in block
    assert f"Léa Martin <span class=\"muted\">({case.reference})</span>" in block
    assert (worker.full_name or worker.email) in block and "CCAS" in block
    assert "Entretien d&#39;évaluation" in block and "rdv-status-planned" in block  # labels
    assert "Mairie annexe" not in block  # moved: not listed
    assert "Eve" not in block and "Ailleurs" not in block  # the other tenant's


@pytest.mark.parametrize("role", ["lender_agent", "referrer", "funder"])
def test_partners_see_no_appointments(client, login, users, case, role, session, tenant,
                                      in_tenant):
    login(client, users["secretary"])
    client.post(book_url(case), data=form(users["social_worker"]))
    [a] = appointments(session, tenant, in_tenant)
    client.post("/t/alpha/logout")
    login(client, users[role])
    assert client.get("/t/alpha/agenda").status_code == 403
    assert client.get(f"/t/alpha/appointments/{a.id}").status_code == 403
    assert client.get(f"/t/alpha/appointments/{a.id}/rendez-vous.ics").status_code == 403
    assert client.post(book_url(case), data=form(users["social_worker"])).status_code == 403
    assert "Agenda" not in client.get("/t/alpha/").get_data(as_text=True)


def test_another_tenants_appointment_is_not_found(client, login, users, case, session,
                                                  tenant, in_tenant, other_tenant,
                                                  make_user):
    worker = users["social_worker"]
    data, case_id = form(worker), case.id
    login(client, users["secretary"])
    client.post(book_url(case), data=data)
    [a] = appointments(session, tenant, in_tenant)
    appointment_id = a.id
    client.post("/t/alpha/logout")
    intruder = make_user(other_tenant, "secretary")
    login(client, intruder)
    assert client.get(f"/t/beta/appointments/{appointment_id}").status_code == 404
    assert client.get(f"/t/beta/appointments/{appointment_id}/rendez-vous.ics").status_code == 404
    assert client.post(f"/t/beta/cases/{case_id}/appointments/new",
                       data=data).status_code == 404
    assert client.get(f"/t/beta/agenda?worker={data['rdv-worker']}").status_code == 404
