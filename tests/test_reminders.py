"""core.features.reminders: one e-mail with the ICS, 48 hours before, never twice, every tenant."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core import cases, workflow
from core.features import appointments as appts
from core.features import reminders
from core.models import Appointment, OutboxMessage
from core.workflow import TransitionRequest

BOOKED_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
#: The appointment: Tuesday 15 December 2026, 10:00 in Paris (09:00 UTC).
STARTS = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)


def open_case(session, tenant, users, in_tenant, email="lea@example.org"):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1995, 4, 2), email=email))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"])
        for target in ("documents_requested",):
            workflow.apply_transition(session, c, TransitionRequest(target, c.version),
                                      users["secretary"])
        session.commit()
        return c


def book(session, tenant, users, in_tenant, case, at="10:00", day="2026-12-15", **kw):
    with in_tenant(tenant):
        a = appts.book(session, case, users["social_worker"].id,
                       appts.Slot(day=day, time=at, place="CCAS, accueil", **kw),
                       users["secretary"], tenant, now=BOOKED_AT)
        session.commit()
        return a


@pytest.fixture
def case(app, tenant, users, session, in_tenant):
    return open_case(session, tenant, users, in_tenant)


def run(session, tenant, in_tenant, now):
    with in_tenant(tenant):
        result = reminders.remind(session, tenant, now)
        session.commit()
        return result


def outbox(session, tenant, in_tenant):
    with in_tenant(tenant):
        return session.scalars(select(OutboxMessage)).all()


def test_reminder_is_enqueued_once_within_48_hours_with_the_ics(case, tenant, users,
                                                                 session, in_tenant):
    a = book(session, tenant, users, in_tenant, case)
    now = STARTS - timedelta(hours=47)
    assert run(session, tenant, in_tenant, now).queued == 1
    messages = outbox(session, tenant, in_tenant)
    assert len(messages) == 1
    m = messages[0]
    assert m.recipient == "lea@example.org" and m.topic == f"appointment:{a.id}:reminder"
    assert "15/12/2026 à 10:00" in m.subject and "15/12/2026 à 10:00" in m.payload["text"]
    attachment = m.payload["attachments"][0]
    assert attachment["filename"].endswith(".ics")
    assert attachment["content_type"].startswith("text/calendar")
    ics_text = base64.b64decode(attachment["content_b64"]).decode("utf-8")
    assert "BEGIN:VEVENT\r\n" in ics_text
    assert "DTSTART;TZID=Europe/Paris:20261215T100000\r\n" in ics_text
    session.expire_all()
    with in_tenant(tenant):
        assert session.get(Appointment, (a.tenant_id, a.id)).reminder_sent_at == now


def test_running_again_sends_nothing_more(case, tenant, users, session, in_tenant):
    book(session, tenant, users, in_tenant, case)
    run(session, tenant, in_tenant, STARTS - timedelta(hours=47))
    assert run(session, tenant, in_tenant, STARTS - timedelta(hours=46)).queued == 0
    assert run(session, tenant, in_tenant, STARTS - timedelta(hours=1)).queued == 0
    assert len(outbox(session, tenant, in_tenant)) == 1


def test_nothing_is_sent_earlier_than_48_hours_before(case, tenant, users, session,
                                                      in_tenant):
    book(session, tenant, users, in_tenant, case)
    assert run(session, tenant, in_tenant, STARTS - timedelta(hours=49)).queued == 0
    assert run(session, tenant, in_tenant, STARTS - timedelta(hours=48)).queued == 1


def test_past_moved_and_held_appointments_get_no_reminder(case, tenant, users, session,
                                                          in_tenant):
    a = book(session, tenant, users, in_tenant, case)
    with in_tenant(tenant):
        appts.move(session, a, appts.Slot(day="2026-12-20", time="10:00", place="CCAS"),
                   None, users["secretary"], tenant, now=BOOKED_AT)
        session.commit()
    # The moved one (15/12) is not reminded; the new one (20/12) is not due yet.
    assert run(session, tenant, in_tenant, STARTS - timedelta(hours=10)).queued == 0
    # After its start, a planned appointment is not reminded any more.
    assert run(session, tenant, in_tenant, datetime(2026, 12, 20, 10, tzinfo=UTC)).queued == 0


def test_person_without_email_is_reported_not_reminded(app, tenant, users, session,
                                                       in_tenant):
    c = open_case(session, tenant, users, in_tenant, email=None)
    book(session, tenant, users, in_tenant, c)
    result = run(session, tenant, in_tenant, STARTS - timedelta(hours=2))
    assert result.queued == 0 and len(result.no_email) == 1
    assert outbox(session, tenant, in_tenant) == []




def test_cli_reminds_every_tenant_in_its_own_scope_and_is_idempotent(
        ccas, tenant, other_tenant, users, make_user, session, in_tenant, ccas_database):
    book(session, tenant, users, in_tenant, open_case(session, tenant, users, in_tenant))
    other_users = {r: make_user(other_tenant, r) for r in ("secretary", "social_worker")}
    other_case = open_case(session, other_tenant, other_users, in_tenant,
                           email="tom@example.org")
    book(session, other_tenant, other_users, in_tenant, other_case, at="11:00")
    now = (STARTS - timedelta(hours=24)).isoformat()
    result = ccas("appointments", "remind", "--now", now)
    assert result.exit_code == 0, result.output
    assert "alpha : 1 rappel mis en file" in result.output
    assert "beta : 1 rappel mis en file" in result.output
    result = ccas("appointments", "remind", "--now", now)
    assert "alpha : 0 rappel mis en file" in result.output
    assert "beta : 0 rappel mis en file" in result.output
    session.expire_all()
    assert [m.recipient for m in outbox(session, tenant, in_tenant)] == ["lea@example.org"]
    assert [m.recipient for m in outbox(session, other_tenant, in_tenant)] == [
        "tom@example.org"]
    assert ccas_database.count(OutboxMessage) == 2


def test_cli_refuses_a_naive_now(ccas):
    result = ccas("appointments", "remind", "--now", "2026-12-14T09:00")
    assert result.exit_code == 1 and "fuseau" in result.output


def test_cli_unknown_tenant_is_an_error(ccas):
    result = ccas("appointments", "remind", "--tenant", "nowhere")
    assert result.exit_code == 1 and "Territoire inconnu" in result.output
