"""Budget workshops: sessions, invitations by e-mail with an ICS file, capacity,
attendance, evaluation and the aggregate report."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import cases, clock
from core.errors import UserError
from core.features import workshops
from core.features.workshops import SessionForm
from core.models import CaseTransition, OutboxMessage, State
from core.models.accompaniment import AccompanimentTask, InvitationStatus, TaskKind


def next_month():
    return (clock.now() + timedelta(days=30)).date()


def make_case(session, actor, first, email=None, state="evaluation"):
    person = cases.create_person(
        session, cases.PersonData(first, "Durand", date(1992, 3, 3), email=email))
    c = cases.open_case(session, person, "mobility", "1200", actor=actor)
    c.state = State(state)
    session.flush()
    return c


def new_session(session, actor, tenant, capacity=2, day=None):
    theme = workshops.create_theme(session, actor, "Tenir son budget",
                                   "Budget, épargne, imprévus.")
    return workshops.create_session(session, actor, SessionForm(
        theme_id=str(theme.id), day=(day or next_month()).isoformat(), time="14:00",
        duration_minutes=120,
        place="CCAS, salle 2", capacity=capacity), tenant)


def start_now(session, ws):
    """Test setup: the session has started (attendance may be recorded)."""
    ws.starts_at = clock.now() - timedelta(hours=1)
    session.flush()


def parse_ics(data: bytes) -> list[tuple[str, dict, str]]:
    """A minimal RFC 5545 reader: unfold, then (name, params, value) per content line."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    unfolded = text.replace("\r\n ", "")
    out = []
    for line in unfolded.split("\r\n"):
        if not line:
            continue
        head, value = line.split(":", 1)
        name, *params = head.split(";")
        out.append((name, dict(p.split("=", 1) for p in params), value))
    return out


def test_a_session_needs_a_theme_a_future_date_a_place_and_a_capacity(
        app, tenant, users, session, in_tenant):
    with in_tenant(tenant), pytest.raises(UserError) as err:
        workshops.create_session(session, users["social_worker"], SessionForm(
            theme_id="nope", day="2001-01-01", time="10:00", place="", capacity="0"), tenant)
    assert set(err.value.errors) == {"theme_id", "day", "place", "capacity"}


def test_the_secretary_does_not_create_sessions(app, tenant, users, session, in_tenant):
    with in_tenant(tenant), pytest.raises(UserError) as err:
        workshops.create_theme(session, users["secretary"], "Épargne")
    assert err.value.status == 403


def test_invitation_is_an_email_with_a_parseable_ics_in_the_tenant_timezone(
        app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        ws = new_session(session, users["social_worker"], tenant)
        c = make_case(session, users["secretary"], "Inès", email="ines@example.org",
                      state="repaying")
        created, skipped = workshops.invite(session, ws, [str(c.id)], users["secretary"],
                                            tenant)
        session.commit()
        message = session.scalar(select(OutboxMessage))
    assert len(created) == 1 and not skipped
    assert created[0].status == InvitationStatus.invited
    assert message.recipient == "ines@example.org"
    assert "Tenir son budget" in message.subject and "Inès" in message.payload["text"]
    [attachment] = message.payload["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == ("atelier.ics",
                                                                    "text/calendar")
    lines = parse_ics(base64.b64decode(attachment["content_b64"]))
    assert lines[0] == ("BEGIN", {}, "VCALENDAR") and lines[-1] == ("END", {}, "VCALENDAR")
    begins = [v for n, _, v in lines if n == "BEGIN"]
    assert begins.count("VEVENT") == 1 and sorted(begins) == sorted(
        v for n, _, v in lines if n == "END")
    props = {n: (p, v) for n, p, v in lines}
    assert props["DTSTART"] == ({"TZID": "Europe/Paris"}, f"{next_month():%Y%m%d}T140000")
    assert props["DTEND"][1] == f"{next_month():%Y%m%d}T160000"
    assert props["SUMMARY"][1] == "Atelier budget : Tenir son budget"
    assert props["LOCATION"][1] == "CCAS\\, salle 2"
    assert props["UID"][1] == f"atelier-{ws.id}@ccas-network"
    assert ("BEGIN", {}, "VTIMEZONE") in lines


def test_a_person_is_invited_once_and_one_without_email_is_reported(
        app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        ws = new_session(session, users["social_worker"], tenant)
        a = make_case(session, users["secretary"], "Anna", email="anna@example.org")
        b = make_case(session, users["secretary"], "Bob")
        workshops.invite(session, ws, [a.id], users["manager"], tenant)
        created, skipped = workshops.invite(session, ws, [a.id, b.id], users["manager"], tenant)
        assert created == [] and len(skipped) == 2
        assert "déjà invitée" in skipped[0] and "pas d'adresse e-mail" in skipped[1]
        assert len(session.scalars(select(OutboxMessage)).all()) == 1


def test_closed_cases_are_not_invited(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        ws = new_session(session, users["social_worker"], tenant)
        c = make_case(session, users["secretary"], "Zoé", email="z@example.org",
                      state="abandoned")
        with pytest.raises(UserError):
            workshops.invite(session, ws, [c.id], users["manager"], tenant)


def test_a_session_never_holds_more_people_than_its_capacity(app, tenant, users, session,
                                                             in_tenant):
    with in_tenant(tenant):
        ws = new_session(session, users["social_worker"], tenant, capacity=2)
        people = [make_case(session, users["secretary"], n) for n in ("A", "B", "C")]
        workshops.register(session, ws, users["secretary"], case_id=people[0].id)
        second = workshops.register(session, ws, users["secretary"], case_id=people[1].id)
        session.commit()
        with pytest.raises(UserError) as err:
            workshops.register(session, ws, users["secretary"], case_id=people[2].id)
        assert err.value.status == 409 and "complète" in err.value.message
        session.rollback()
        workshops.cancel_registration(session, ws, second, users["secretary"])
        workshops.register(session, ws, users["secretary"], case_id=people[2].id)
        assert workshops.seats_taken(session, ws) == 2
        # Someone who comes without registering is refused a seat when the session is full.
        start_now(session, ws)
        walk_in = workshops.invitations(session, ws)
        unseated = next(i for i in walk_in if i.status == InvitationStatus.invited)
        with pytest.raises(UserError):
            workshops.record_attendance(session, ws, unseated, True, users["social_worker"])


def test_attendance_is_recorded_from_the_start_of_the_session(app, tenant, users, session,
                                                              in_tenant):
    with in_tenant(tenant):
        ws = new_session(session, users["social_worker"], tenant)
        c = make_case(session, users["secretary"], "Paul")
        invitation = workshops.register(session, ws, users["secretary"], case_id=c.id)
        with pytest.raises(UserError) as err:
            workshops.record_attendance(session, ws, invitation, True, users["social_worker"])
        assert "début de la séance" in err.value.message
        start_now(session, ws)
        with pytest.raises(UserError) as err:
            workshops.record_attendance(session, ws, invitation, True, users["secretary"])
        assert err.value.status == 403
        workshops.record_attendance(session, ws, invitation, True, users["social_worker"])
    assert invitation.status == InvitationStatus.attended


def test_only_people_present_evaluate_with_a_score_from_1_to_5(app, tenant, users, session,
                                                               in_tenant):
    worker = users["social_worker"]
    with in_tenant(tenant):
        ws = new_session(session, worker, tenant)
        here = workshops.register(session, ws, worker,
                                  case_id=make_case(session, worker, "Ici").id)
        away = workshops.register(session, ws, worker,
                                  case_id=make_case(session, worker, "Loin").id)
        start_now(session, ws)
        workshops.record_attendance(session, ws, here, True, worker)
        workshops.record_attendance(session, ws, away, False, worker)
        with pytest.raises(UserError):
            workshops.evaluate(session, away, worker, 4)
        with pytest.raises(UserError) as err:
            workshops.evaluate(session, here, worker, 6)
        assert err.value.field == "score"
        workshops.evaluate(session, here, worker, "5", "Très utile.")
    assert (here.score, here.comment) == (5, "Très utile.")


def borrower(session, actor, name, state, close_reason=None, late=False):
    c = make_case(session, actor, name, state=state)
    session.add(CaseTransition(case_id=c.id, from_state="withdrawal_period",
                               to_state="disbursed"))
    if close_reason:
        session.add(CaseTransition(case_id=c.id, from_state="repaying", to_state="closed",
                                   reason_code=close_reason))
    if late:
        session.add(AccompanimentTask(case_id=c.id, kind=TaskKind.late_instalment,
                                      message="Échéance impayée."))
    session.flush()
    return c


def test_the_report_counts_sessions_attendees_and_compares_repayment_behaviour(
        app, tenant, users, session, in_tenant):
    worker = users["social_worker"]
    with in_tenant(tenant):
        # Attendees: one repaying with a late instalment, one closed repaid.
        a1 = borrower(session, worker, "A1", "repaying", late=True)
        a2 = borrower(session, worker, "A2", "closed", close_reason="repaid")
        applicant = make_case(session, worker, "Demandeur")  # attends, not a borrower
        # Others: repaying, closed by default (late), disbursed (late).
        borrower(session, worker, "O1", "repaying")
        borrower(session, worker, "O2", "closed", close_reason="default", late=True)
        borrower(session, worker, "O3", "disbursed", late=True)
        a2.state = State.repaying  # registrable while the loan runs
        ws = new_session(session, worker, tenant, capacity=10)
        rows = [workshops.register(session, ws, worker, case_id=c.id)
                for c in (a1, a2, applicant)]
        # An invited person who will not come.
        absent = workshops.register(session, ws, worker,
                                    case_id=make_case(session, worker, "Absent").id)
        a2.state = State.closed
        start_now(session, ws)
        for row, score in zip(rows, (4, 5, None), strict=True):
            workshops.record_attendance(session, ws, row, True, worker)
            if score:
                workshops.evaluate(session, row, worker, score)
        workshops.record_attendance(session, ws, absent, False, worker)
        session.commit()
        start, end = workshops.year_bounds(ws.starts_at.year, tenant)
        result = workshops.report(session, start, end)
        empty = workshops.report(session, *workshops.year_bounds(2001, tenant))
    assert (result.sessions, result.invitations, result.registrations) == (1, 4, 4)
    assert (result.attendances, result.attendees) == (3, 3)
    assert result.average_score == Decimal("4.5")
    att, oth = result.attendees_behaviour, result.others_behaviour
    assert (att.cases, att.repaying_or_repaid, att.with_late_task) == (2, 2, 1)
    assert (oth.cases, oth.repaying_or_repaid, oth.with_late_task) == (3, 1, 2)
    assert att.good_share == Decimal("100.0") and oth.good_share == Decimal("33.3")
    assert oth.late_share == Decimal("66.7")
    assert (empty.sessions, empty.attendees, empty.average_score) == (0, 0, None)


def test_workshops_of_another_tenant_are_not_found(app, tenant, other_tenant, users,
                                                   session, in_tenant):
    with in_tenant(tenant):
        ws = new_session(session, users["social_worker"], tenant)
        session.commit()
    with in_tenant(other_tenant), pytest.raises(UserError) as err:
        workshops.get_session(session, ws.id)
    assert err.value.status == 404
