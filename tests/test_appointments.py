"""core.features.appointments: booking in local time, overlap per worker, moving, outcome, ICS."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core import cases, workflow
from core.errors import UserError
from core.features import appointments as appts
from core.models import Appointment, AppointmentStatus, AuditEvent
from core.workflow import TransitionRequest

PARIS = ZoneInfo("Europe/Paris")
#: "Now" for the tests: well before the booked slots.
NOW = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def move_case(session, case, target, actor):
    workflow.apply_transition(session, case, TransitionRequest(target, case.version), actor)
    session.commit()


@pytest.fixture
def case(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1995, 4, 2), email="lea@example.org"))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"])
        session.commit()
        move_case(session, c, "documents_requested", users["secretary"])
        yield c


def slot(day="2026-10-20", at="10:00", duration=60, **kw):
    return appts.Slot(day=day, time=at, duration_minutes=duration,
                      place=kw.pop("place", "CCAS, 1 place du Capitole"), **kw)


def book(session, case, users, *args, worker="social_worker", **kw):
    a = appts.book(session, case, users[worker].id, slot(*args, **kw), users["secretary"],
                   now=NOW)
    session.commit()
    return a


def test_local_time_is_stored_in_utc(case, users, session):
    a = book(session, case, users, "2026-10-20", "10:00")
    assert a.starts_at == datetime(2026, 10, 20, 8, 0, tzinfo=UTC)  # CEST, UTC+2
    session.expire_all()
    fresh = session.get(Appointment, (a.tenant_id, a.id))
    assert fresh.starts_at.tzinfo is not None and fresh.starts_at.utcoffset().total_seconds() == 0


def test_booking_after_the_autumn_change_uses_winter_time(case, users, session):
    a = book(session, case, users, "2026-10-25", "10:00")
    assert a.starts_at == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)  # CET, UTC+1
    assert appts.local(a.starts_at, None).strftime("%d/%m/%Y %H:%M") == "25/10/2026 10:00"


def test_time_skipped_by_the_spring_change_is_refused():
    with pytest.raises(UserError, match="heure d'été"):
        appts.to_utc(date(2027, 3, 28), time(2, 30), PARIS)


def test_ambiguous_autumn_time_is_the_first_one():
    assert appts.to_utc(date(2026, 10, 25), time(2, 30), PARIS) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC)


def test_french_date_format_is_accepted():
    assert appts.parse_local_date("20/10/2026") == date(2026, 10, 20)
    assert appts.parse_local_time("9h30") == time(9, 30)


def test_booking_is_audited_and_assigns_the_worker(case, users, session):
    assert case.social_worker_id is None
    a = book(session, case, users)
    assert case.social_worker_id == users["social_worker"].id
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.book"))
    assert event.object_id == str(a.id)


def test_overlapping_booking_for_the_same_worker_is_refused_with_a_clear_message(
        case, users, session):
    book(session, case, users, "2026-10-20", "10:00", duration=60)
    with pytest.raises(UserError) as err:
        book(session, case, users, "2026-10-20", "10:30", duration=30)
    assert err.value.status == 409
    assert "déjà un rendez-vous le 20/10/2026 de 10:00 à 11:00" in err.value.message


def test_back_to_back_appointments_do_not_overlap(case, users, session):
    book(session, case, users, "2026-10-20", "10:00", duration=60)
    book(session, case, users, "2026-10-20", "11:00", duration=60)
    book(session, case, users, "2026-10-20", "09:00", duration=60)
    assert len(session.scalars(select(Appointment)).all()) == 3


def test_another_worker_is_free_at_the_same_time(case, users, session, make_user, tenant):
    other = make_user(tenant, "social_worker")
    book(session, case, users, "2026-10-20", "10:00")
    a = appts.book(session, case, other.id, slot("2026-10-20", "10:00"), users["secretary"],
                   now=NOW)
    assert a.social_worker_id == other.id


def test_missed_appointments_free_the_slot(case, users, session):
    a = book(session, case, users, "2026-10-20", "10:00")
    appts.record_outcome(session, a, "missed", "", users["social_worker"],
                         now=datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    session.commit()
    book(session, case, users, "2026-10-20", "10:00")


def test_past_slots_are_refused(case, users, session):
    with pytest.raises(UserError, match="déjà passé"):
        book(session, case, users, "2026-09-01", "10:00")


def test_in_person_needs_a_place_unless_the_tenant_has_one(case, users, session, tenant):
    with pytest.raises(UserError, match="lieu") as err:
        book(session, case, users, place="")
    assert err.value.field == "place"
    tenant.settings = {"appointment_place": "CCAS, accueil"}
    assert book(session, case, users, place="").place == "CCAS, accueil"


def test_phone_appointment_needs_no_place(case, users, session):
    a = book(session, case, users, place="", mode="phone")
    assert a.mode == "phone" and a.place == ""


def test_invalid_fields_are_all_reported(case, users, session):
    with pytest.raises(UserError) as err:
        appts.book(session, case, users["social_worker"].id,
                   appts.Slot(day="31/02/2026", time="25:00", duration_minutes=5,
                              mode="video", place="x", kind="party"),
                   users["secretary"], now=NOW)
    assert set(err.value.errors) == {"date", "duration", "mode", "kind"}


def test_only_active_workers_hold_appointments(case, users, session):
    with pytest.raises(UserError, match="travailleur social"):
        appts.book(session, case, users["lender_agent"].id, slot(), users["secretary"],
                   now=NOW)


def test_no_booking_at_intake(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Tom", "Petit"))
        c = cases.open_case(session, person, "housing", "800", actor=users["secretary"])
        with pytest.raises(UserError, match="fiche recueil pas encore traitée"):
            appts.book(session, c, users["social_worker"].id, slot(), users["secretary"],
                       now=NOW)


def test_no_booking_while_the_lenders_check_runs(app, tenant, users, session, in_tenant,
                                                 enable_plugin):
    """The lender plugin's own state is not bookable: the person may be registered."""
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Tom", "Petit"))
        c = cases.open_case(session, person, "housing", "800", actor=users["secretary"])
        move_case(session, c, "ficp_pending", users["secretary"])
        with pytest.raises(UserError, match="Pas de rendez-vous"):
            appts.book(session, c, users["social_worker"].id, slot(), users["secretary"],
                       now=NOW)


def test_moving_marks_the_old_one_and_books_a_new_one(case, users, session):
    a = book(session, case, users, "2026-10-20", "10:00")
    new = appts.move(session, a, slot("2026-10-22", "14:00"), None, users["secretary"],
                     now=NOW)
    session.commit()
    assert a.status == AppointmentStatus.moved and a.moved_to_id == new.id
    assert new.status == AppointmentStatus.planned and new.sequence == 1
    assert new.starts_at == datetime(2026, 10, 22, 12, 0, tzinfo=UTC)
    # The old slot is free again; the new one is taken.
    book(session, case, users, "2026-10-20", "10:00")
    with pytest.raises(UserError):
        book(session, case, users, "2026-10-22", "14:30")


def test_moving_to_a_slot_overlapping_itself_is_allowed(case, users, session):
    a = book(session, case, users, "2026-10-20", "10:00")
    new = appts.move(session, a, slot("2026-10-20", "10:30"), None, users["secretary"],
                     now=NOW)
    assert new.starts_at == datetime(2026, 10, 20, 8, 30, tzinfo=UTC)


def test_outcome_held_with_a_note(case, users, session):
    a = book(session, case, users, "2026-10-20", "10:00")
    appts.record_outcome(session, a, "held", "Budget revu.", users["social_worker"],
                         now=datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    session.commit()
    assert a.status == AppointmentStatus.held and a.outcome_note == "Budget revu."
    assert appts.staff_minutes([a]) == {"intake": 60, "instruction": 0, "accompaniment": 0}
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.outcome"))


def test_outcome_before_the_appointment_is_refused(case, users, session):
    a = book(session, case, users, "2026-10-20", "10:00")
    with pytest.raises(UserError, match="pas encore"):
        appts.record_outcome(session, a, "held", "", users["social_worker"], now=NOW)


def test_outcome_must_be_held_or_missed(case, users, session):
    a = book(session, case, users, "2026-10-20", "10:00")
    with pytest.raises(UserError, match="eu lieu"):
        appts.record_outcome(session, a, "moved", "", users["social_worker"],
                             now=datetime(2026, 10, 21, tzinfo=UTC))


def test_agenda_groups_by_local_day(case, users, session):
    late = book(session, case, users, "2026-10-20", "23:30", duration=30)
    early = book(session, case, users, "2026-10-21", "00:30", duration=30)
    days = appts.agenda(session, users["social_worker"].id, date(2026, 10, 19), 7, None)
    assert days[date(2026, 10, 20)] == [late] and days[date(2026, 10, 21)] == [early]
    assert len(days) == 7


def test_ics_of_an_appointment_is_in_paris_time(case, users, session, tenant):
    a = book(session, case, users, "2026-10-25", "10:00")
    text = appts.ics_text(a, tenant, stamp=NOW)
    assert "DTSTART;TZID=Europe/Paris:20261025T100000\r\n" in text
    assert f"UID:{a.id}@alpha.ccas-network\r\n" in text
    assert "LOCATION:CCAS\\, 1 place du Capitole" in text
