"""Reminders for people without e-mail: a text message through the SMS provider hook
(a recording test provider here: no real provider is called), sent by the outbox; the
printable letters for people with neither e-mail nor a phone we can text."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core import cases, workflow
from core.features import reminders
from core.models import OutboxKind, OutboxMessage, OutboxStatus
from core.outbox import delivery
from core.testing.pytest_plugin import probe_plugin
from core.workflow import TransitionRequest

from .test_reminders import STARTS, book, run


@pytest.fixture(autouse=True)
def _before_the_appointment(clock):
    """The appointments of these tests are on 15/12/2026: the platform's clock stands the
    day before, whatever day the suite runs at (CCAS_TEST_NOW)."""
    clock.travel_to(STARTS - timedelta(days=1))


def open_case(session, tenant, users, in_tenant, email=None, phone="06 12 34 56 78",
              name="Léa"):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            name, "Martin", date(1995, 4, 2), email=email, phone=phone,
            address="3 rue des Lilas", postal_code="31000", city="Toulouse"))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"])
        workflow.apply_transition(session, c, TransitionRequest("documents_requested",
                                                                c.version), users["secretary"])
        session.commit()
        return c


def messages(session, tenant, in_tenant):
    session.expire_all()
    with in_tenant(tenant):
        return session.scalars(select(OutboxMessage)).all()


def test_a_person_without_email_gets_a_text_message_through_the_provider(
        app, tenant, users, session, in_tenant, sms_provider):
    c = open_case(session, tenant, users, in_tenant)
    book(session, tenant, users, in_tenant, c)
    result = run(session, tenant, in_tenant, STARTS - timedelta(hours=2))
    assert (result.queued, result.sms, result.no_email) == (0, 1, [])
    [message] = messages(session, tenant, in_tenant)
    assert message.kind == OutboxKind.sms and message.recipient == "06 12 34 56 78"
    stats = delivery.drain(app, now=STARTS - timedelta(hours=2))
    assert stats.sent == 1
    [(phone, text)] = sms_provider.sent
    assert phone == "06 12 34 56 78"
    assert "rappel de votre rendez-vous le 15/12/2026 à 10:00" in text
    assert messages(session, tenant, in_tenant)[0].status == OutboxStatus.sent
    # Idempotent: nothing more the second time.
    assert run(session, tenant, in_tenant, STARTS - timedelta(hours=1)).sms == 0


def test_without_a_provider_the_person_is_listed_and_gets_a_letter(
        app, tenant, users, session, in_tenant, client, login, clock):
    c = open_case(session, tenant, users, in_tenant)
    book(session, tenant, users, in_tenant, c)
    result = run(session, tenant, in_tenant, STARTS - timedelta(hours=2))
    assert result.sms == 0 and len(result.no_email) == 1
    with in_tenant(tenant):
        found = reminders.letters(session, tenant, STARTS - timedelta(days=3))
    assert len(found) == 1 and "Bonjour Léa Martin" in found[0][1]
    clock.travel_to("2026-12-12T10:00")
    login(client, users["secretary"])
    page = client.get("/t/alpha/agenda/courriers-de-rappel")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<h1") == 1
    assert "3 rue des Lilas" in html and "15/12/2026 à 10:00" in html


def test_with_a_provider_only_people_with_neither_get_a_letter(
        app, tenant, users, session, in_tenant, sms_provider):
    texted = open_case(session, tenant, users, in_tenant)
    neither = open_case(session, tenant, users, in_tenant, phone=None, name="Ana")
    emailed = open_case(session, tenant, users, in_tenant, email="x@example.org", name="Zoé")
    for c, at in ((texted, "09:00"), (neither, "11:00"), (emailed, "14:00")):
        book(session, tenant, users, in_tenant, c, at=at)
    with in_tenant(tenant):
        found = reminders.letters(session, tenant, STARTS - timedelta(days=3))
    assert [a.case.person.first_name for a, _t in found] == ["Ana"]


def test_a_failing_provider_is_retried_by_the_outbox(app, tenant, users, session,
                                                     in_tenant, with_plugin):
    def refuse(phone, text):
        raise RuntimeError("provider down")

    with_plugin(probe_plugin("sms_down", ccas_sms_send=refuse))
    c = open_case(session, tenant, users, in_tenant)
    book(session, tenant, users, in_tenant, c)
    run(session, tenant, in_tenant, STARTS - timedelta(hours=2))
    stats = delivery.drain(app, now=STARTS - timedelta(hours=2))
    assert stats.retried == 1
    [message] = messages(session, tenant, in_tenant)
    assert message.status == OutboxStatus.pending and "sms_down" in message.last_error
