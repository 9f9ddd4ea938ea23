"""Staff time: recording rules, the split per month and worker by category (summed in SQL),
held appointments counted under their kind, and instruction time per granted loan."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core import cases
from core.errors import UserError
from core.features import staff_time
from core.features.staff_time import Row, TimeForm
from core.models import Appointment, AppointmentKind, AppointmentStatus, CaseTransition


def entry(session, user, day, minutes, category, activity="other"):
    return staff_time.record(session, user, TimeForm(day=day, minutes=minutes,
                                                     activity=activity, category=category))


# -- pure --------------------------------------------------------------------------------


def test_split_sums_minutes_per_month_per_worker_and_per_category():
    a, b = uuid.uuid4(), uuid.uuid4()
    result = staff_time.split([
        Row(2026, 1, a, "intake", 30), Row(2026, 1, a, "instruction", 90),
        Row(2026, 1, b, "instruction", 60), Row(2026, 2, a, "accompaniment", 45),
        Row(2026, 1, a, "instruction", 10),
    ])
    assert result.months == [(2026, 1), (2026, 2)]
    assert result.by_month[(2026, 1)] == {"intake": 30, "instruction": 160, "accompaniment": 0}
    assert result.by_worker[a] == {"intake": 30, "instruction": 100, "accompaniment": 45}
    assert result.by_month_worker[(2026, 1, b)]["instruction"] == 60
    assert result.totals == {"intake": 30, "instruction": 160, "accompaniment": 45}
    assert result.total == 235
    assert result.share("accompaniment") == Decimal("19.1")


def test_an_empty_split_has_no_share():
    assert staff_time.split([]).share("intake") is None


def test_instruction_time_per_granted_loan_divides_and_never_by_zero():
    assert staff_time.instruction_per_granted(300, 4) == Decimal("75.0")
    assert staff_time.instruction_per_granted(100, 3) == Decimal("33.3")
    assert staff_time.instruction_per_granted(100, 0) is None


def test_hours_are_written_the_french_way():
    assert staff_time.hours(135) == "2 h 15" and staff_time.hours(5) == "0 h 05"


def test_bars_are_stacked_and_scaled_on_the_biggest_total():
    result = staff_time.bars([("janv.", {"intake": 30, "instruction": 30, "accompaniment": 0}),
                              ("févr.", {"intake": 0, "instruction": 0, "accompaniment": 120})],
                             width=600)
    assert result[0].segments == (("intake", 0, 150, 30), ("instruction", 150, 150, 30))
    assert result[1].segments == (("accompaniment", 0, 600, 120),)
    assert result[1].y > result[0].y


# -- recording ---------------------------------------------------------------------------


def test_the_secretary_records_phone_calls_only(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        row = entry(session, users["secretary"], "2026-02-03", 15, "intake", "phone_call")
        assert row.minutes == 15
        with pytest.raises(UserError) as err:
            entry(session, users["secretary"], "2026-02-03", 15, "intake", "interview")
    assert err.value.field == "activity"


def test_partners_record_no_time(app, tenant, users, session, in_tenant):
    for role in ("lender_agent", "referrer", "funder"):
        with in_tenant(tenant), pytest.raises(UserError) as err:
            entry(session, users[role], "2026-02-03", 15, "intake", "phone_call")
        assert err.value.status == 403


def test_a_time_entry_needs_a_past_day_minutes_and_a_category(app, tenant, users, session,
                                                             in_tenant):
    with in_tenant(tenant), pytest.raises(UserError) as err:
        entry(session, users["social_worker"], "2999-01-01", 0, "lunch")
    assert set(err.value.errors) == {"day", "minutes", "category"}


# -- SQL ---------------------------------------------------------------------------------


def test_the_report_splits_time_and_counts_instruction_per_granted_loan(
        app, tenant, users, session, in_tenant, make_user):
    worker, manager = users["social_worker"], users["manager"]
    other = make_user(tenant, "social_worker")
    with in_tenant(tenant):
        entry(session, worker, "2026-01-05", 30, "intake", "interview")
        entry(session, worker, "2026-01-20", 120, "instruction", "interview")
        entry(session, worker, "2026-01-21", 60, "instruction", "other")
        entry(session, other, "2026-01-22", 45, "accompaniment", "follow_up")
        entry(session, manager, "2026-02-02", 90, "instruction", "other")
        entry(session, worker, "2025-12-31", 500, "instruction", "other")  # out of range
        person = cases.create_person(session, cases.PersonData("Ana", "Roy", date(1990, 1, 1)))
        c = cases.open_case(session, person, "mobility", "1000", actor=worker)
        # A held appointment on 31/01 at 23:30 Paris time (22:30 UTC): January.
        session.add(Appointment(case_id=c.id, social_worker_id=worker.id,
                                starts_at=datetime(2026, 1, 31, 22, 30, tzinfo=UTC),
                                duration_minutes=60, kind=AppointmentKind.instruction,
                                status=AppointmentStatus.held))
        # A planned (not held) one does not count.
        session.add(Appointment(case_id=c.id, social_worker_id=worker.id,
                                starts_at=datetime(2026, 1, 10, 9, tzinfo=UTC),
                                duration_minutes=60, kind=AppointmentKind.intake))
        # Granted cases: two in the period, one before it.
        for at in (datetime(2026, 1, 15, 10, tzinfo=UTC), datetime(2026, 2, 10, 10, tzinfo=UTC),
                   datetime(2025, 11, 10, 10, tzinfo=UTC)):
            other_case = cases.open_case(session, person, "housing", "900", actor=worker)
            session.add(CaseTransition(case_id=other_case.id, from_state="submitted_to_lender",
                                       to_state="granted", at=at))
        session.commit()
        result = staff_time.report(session, date(2026, 1, 1), date(2026, 2, 28))
    s = result.split
    assert s.months == [(2026, 1), (2026, 2)]
    assert s.by_month[(2026, 1)] == {"intake": 30, "instruction": 240, "accompaniment": 45}
    assert s.by_month[(2026, 2)] == {"intake": 0, "instruction": 90, "accompaniment": 0}
    assert s.by_worker[worker.id] == {"intake": 30, "instruction": 240, "accompaniment": 0}
    assert s.by_worker[other.id]["accompaniment"] == 45
    assert result.granted == 2
    assert result.instruction_per_granted == Decimal("165.0")  # (240 + 90) / 2
    assert result.names[worker.id] == worker.full_name


def test_another_tenants_time_is_not_counted(app, tenant, other_tenant, users, session,
                                             in_tenant, make_user):
    stranger = make_user(other_tenant, "social_worker")
    with in_tenant(other_tenant):
        entry(session, stranger, "2026-01-05", 30, "intake", "interview")
        session.commit()
    with in_tenant(tenant):
        result = staff_time.report(session, date(2026, 1, 1), date(2026, 12, 31))
    assert result.split.total == 0 and result.granted == 0
