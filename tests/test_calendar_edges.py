"""The calendar's edges, where a result depends on the day: New Year's night in Paris
(00:30 on 1 January is still 31 December in UTC), the spring and autumn clock changes, a
leap day. The suite runs on a pinned clock (``TEST_NOW`` in ``core.testing.pytest_plugin``,
or ``CCAS_TEST_NOW``); these tests move it to each edge and check what people see there."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core import cases
from core.features import appointments as appts
from core.features import reminders
from core.models import Case, Person, State
from core.privacy import purge
from core.reports.yearly import build_report

PARIS = ZoneInfo("Europe/Paris")
NEW_YEARS_EVE = "2026-12-31T23:30"  # 22:30 UTC
NEW_YEARS_NIGHT = "2027-01-01T00:30"  # 23:30 UTC, still 31 December there

INTAKE = {
    "last_name": "Martin", "first_name": "Léa", "birth_date": "1995-04-02",
    "phone": "0600000000", "adults": "1", "employment": "cdd", "purpose": "mobility",
    "amount_requested": "1 500,00", "project": "Voiture pour aller travailler",
    "source": "phone",
}


def _intake(client, **overrides):
    response = client.post("/t/alpha/cases/new",
                           data={**INTAKE, "person_choice": "new", **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return uuid.UUID(re.search(r"/cases/([0-9a-f-]{36})", response.headers["Location"])[1])


def _case(session, tenant, in_tenant, case_id) -> Case:
    with in_tenant(tenant):
        return session.scalar(select(Case).where(Case.id == case_id)
                              .execution_options(populate_existing=True))


def test_today_is_the_day_in_paris_not_in_utc(clock):
    clock.travel_to(NEW_YEARS_NIGHT)
    assert clock.now().date() == date(2026, 12, 31)
    assert clock.today() == date(2027, 1, 1)
    clock.travel_to(NEW_YEARS_EVE)
    assert clock.now().date() == clock.today() == date(2026, 12, 31)


def test_requests_taken_either_side_of_midnight_are_numbered_and_counted_in_their_year(
        client, login, users, session, tenant, in_tenant, clock):
    clock.travel_to(NEW_YEARS_EVE)
    login(client, users["secretary"])
    last = _case(session, tenant, in_tenant, _intake(client))
    clock.travel_to(NEW_YEARS_NIGHT)  # an hour later: the session has expired meanwhile
    login(client, users["secretary"])
    first = _case(session, tenant, in_tenant,
                  _intake(client, last_name="Durand", birth_date="1990-01-01"))
    assert (last.reference, last.intake_date) == ("2026-00001", date(2026, 12, 31))
    assert (first.reference, first.intake_date) == ("2027-00001", date(2027, 1, 1))
    with in_tenant(tenant):
        assert build_report(session, tenant, 2026)["requests"] == 1
        assert build_report(session, tenant, 2027)["requests"] == 1
        assert build_report(session, tenant, 2027)["monthly_requests"][0] == 1


def test_the_reports_page_opens_on_the_new_year_just_after_midnight(client, login, users,
                                                                    clock):
    clock.travel_to(NEW_YEARS_NIGHT)
    login(client, users["manager"])
    html = client.get("/t/alpha/bilans/").get_data(as_text=True)
    assert "2027" in html and re.search(r"<h1[^>]*>[^<]*2027", html), html[:2000]


@pytest.mark.parametrize("instant, expected", [
    ("2026-10-25T01:30+02:00", date(2026, 10, 25)),  # before the autumn change
    ("2026-10-25T02:30+01:00", date(2026, 10, 25)),  # the hour that happens twice
    ("2027-03-28T01:59+01:00", date(2027, 3, 28)),  # just before the spring change
    ("2027-03-28T03:00+02:00", date(2027, 3, 28)),  # just after it (02:00 never happens)
    ("2028-02-29T23:59+01:00", date(2028, 2, 29)),  # a leap day's last minute
])
def test_the_day_is_right_around_clock_changes(clock, instant, expected):
    clock.travel_to(instant)
    assert clock.today() == expected


def test_the_reminder_goes_48_real_hours_before_across_the_spring_change(
        session, tenant, in_tenant, users, clock):
    """Monday 29 March 2027 09:00 in Paris is 07:00 UTC; 48 hours earlier is Saturday
    27 March 07:00 UTC, 08:00 in Paris (winter time): the night in between is one hour
    short, so the reminder leaves at 08:00 on Saturday, not at 09:00."""
    clock.travel_to("2027-03-20T10:00")
    with in_tenant(tenant):
        person = Person(first_name="Léa", last_name="Martin", birth_date=date(1995, 4, 2),
                        email="lea@example.org")
        session.add(person)
        session.flush()
        case = cases.open_case(session, person, "mobility", "1500", tenant=tenant)
        case.state = State.evaluation
        appointment = appts.book(
            session, case, users["social_worker"].id,
            appts.Slot(day="2027-03-29", time="09:00", duration_minutes=60, place="CCAS"),
            users["secretary"], tenant)
        session.commit()
        assert appointment.starts_at == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
        saturday_0759 = datetime(2027, 3, 27, 7, 59, tzinfo=PARIS)
        saturday_0800 = datetime(2027, 3, 27, 8, 0, tzinfo=PARIS)
        assert reminders.due(session, saturday_0759.astimezone(UTC)) == []
        assert reminders.due(session, saturday_0800.astimezone(UTC)) == [appointment]


@pytest.mark.parametrize("today, past_retention", [
    ("2026-02-28T13:00", False),  # two years after 29 February 2024 is not over yet
    ("2026-03-01T13:00", True),
])
def test_a_leap_day_contact_is_kept_two_full_years(session, tenant, in_tenant, clock, today,
                                                   past_retention):
    with in_tenant(tenant):
        person = Person(first_name="Léa", last_name="Martin", birth_date=date(1995, 4, 2),
                        last_contact_at=datetime(2024, 2, 29, 12, 0, tzinfo=UTC))
        session.add(person)
        session.commit()
        clock.travel_to(today)
        found = person.id in {p.id for p in purge.due_persons(session, tenant)}
    assert found is past_retention
