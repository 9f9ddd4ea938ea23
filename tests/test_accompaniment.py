"""Accompaniment: the plan from the signed contract, overdue follow-ups, tasks from loan
events and the borrower's changes, the final summary required to close, the lender's view."""

from __future__ import annotations

import types
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core import cases, plugins, workflow
from core.errors import UserError
from core.features import accompaniment
from core.models import CaseTransition, State
from core.models.accompaniment import (
    AccompanimentTask,
    TaskKind,
    TaskStatus,
    TimeEntry,
)
from core.plugin_api import accompaniment_status
from core.workflow import TransitionError, TransitionRequest

SIGNED_AT = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


def open_case(session, actor, first="Léa", last="Martin", email=None):
    person = cases.create_person(
        session, cases.PersonData(first, last, date(1990, 5, 4), email=email))
    return cases.open_case(session, person, "mobility", "1500", actor=actor)


def put_in(session, case, state, months=None, worker=None):
    """Test setup: place the case in ``state`` (the earlier steps belong to other
    features' tests); ``months`` writes the lender's granted transition."""
    if months is not None:
        session.add(CaseTransition(case_id=case.id, from_state="submitted_to_lender",
                                   to_state="granted", data={"amount_granted": "1500.00",
                                                             "months": months}))
    case.state = State(state)
    if worker is not None:
        case.social_worker_id = worker.id
    session.flush()


def sign(session, case, actor, at=SIGNED_AT):
    return workflow.apply_transition(
        session, case, TransitionRequest(target="withdrawal_period", version=case.version),
        actor, at=at)


@pytest.fixture
def signed(app, tenant, users, session, in_tenant):
    """A 12-month loan signed on 31/01/2026, followed by the social worker."""
    with in_tenant(tenant):
        c = open_case(session, users["secretary"])
        put_in(session, c, "signing", months=12, worker=users["social_worker"])
        sign(session, c, users["social_worker"])
        session.commit()
        yield c


# -- the plan ----------------------------------------------------------------------------


def test_plan_months_are_the_configured_ones_then_quarterly_until_the_last_month():
    assert accompaniment.plan_months([1, 3, 6], 36) == [1, 3, 6, 9, 12, 15, 18, 21, 24, 27,
                                                        30, 33, 36]
    assert accompaniment.plan_months([1, 3, 6], 12) == [1, 3, 6, 9, 12]
    assert accompaniment.plan_months([1, 3, 6], 20) == [1, 3, 6, 9, 12, 15, 18, 20]
    assert accompaniment.plan_months([1, 3, 6], 4) == [1, 3, 4]
    assert accompaniment.plan_months([6, 1, 3], None) == [1, 3, 6]


def test_add_months_keeps_the_day_or_takes_the_last_day_of_a_short_month():
    assert accompaniment.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert accompaniment.add_months(date(2026, 1, 15), 12) == date(2027, 1, 15)
    assert accompaniment.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_signing_plans_follow_ups_at_1_3_6_months_then_quarterly_to_the_loan_end(
        signed, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        rows = accompaniment.follow_ups(session, signed)
        plan = accompaniment.plan_of(session, signed)
    assert plan.signed_on == date(2026, 1, 31) and plan.loan_months == 12
    assert [(f.plan_month, f.planned_on) for f in rows] == [
        (1, date(2026, 2, 28)), (3, date(2026, 4, 30)), (6, date(2026, 7, 31)),
        (9, date(2026, 10, 31)), (12, date(2027, 1, 31)),
    ]
    assert [f.final for f in rows] == [False, False, False, False, True]
    assert all(f.worker_id == users["social_worker"].id and f.done_on is None for f in rows)


def test_signing_date_is_the_local_day_in_the_tenant_timezone(
        app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        c = open_case(session, users["secretary"])
        put_in(session, c, "signing", months=3)
        sign(session, c, users["manager"], at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
        # 23:30 UTC on 31/03 is 01:30 on 01/04 in Paris (summer time).
        assert accompaniment.plan_of(session, c).signed_on == date(2026, 4, 1)


def test_the_tenant_setting_chooses_the_followup_months(app, tenant, users, session,
                                                        in_tenant):
    tenant.settings = {"accompaniment": {"followup_months": [2, 4]}}
    session.commit()
    with in_tenant(tenant):
        c = open_case(session, users["secretary"])
        put_in(session, c, "signing", months=10)
        sign(session, c, users["manager"])
        months = [f.plan_month for f in accompaniment.follow_ups(session, c)]
    assert months == [2, 4, 7, 10]


def test_without_a_known_duration_only_the_configured_months_are_planned(
        app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        c = open_case(session, users["secretary"])
        put_in(session, c, "signing")
        sign(session, c, users["manager"])
        rows = accompaniment.follow_ups(session, c)
    assert [f.plan_month for f in rows] == [1, 3, 6] and not any(f.final for f in rows)


def test_the_plan_is_created_once(signed, session, tenant, in_tenant):
    with in_tenant(tenant):
        again = accompaniment.create_plan(session, signed, date(2026, 5, 1))
        assert again.signed_on == date(2026, 1, 31)
        assert len(accompaniment.follow_ups(session, signed)) == 5


# -- overdue -----------------------------------------------------------------------------


def test_overdue_lists_past_follow_ups_not_done_on_running_loans(
        signed, session, tenant, in_tenant, users, make_user):
    other_worker = make_user(tenant, "social_worker")
    with in_tenant(tenant):
        late = accompaniment.overdue(session, date(2026, 5, 1))
        assert [f.plan_month for f in late] == [1, 3]
        assert accompaniment.overdue(session, date(2026, 2, 28)) == []  # due today: not late
        mine = accompaniment.overdue(session, date(2026, 5, 1), users["social_worker"].id)
        assert len(mine) == 2
        assert accompaniment.overdue(session, date(2026, 5, 1), other_worker.id) == []
        first = late[0]
        first.done_on = date(2026, 3, 2)
        session.flush()
        assert [f.plan_month for f in accompaniment.overdue(session, date(2026, 5, 1))] == [3]
        signed.state = State.withdrawn  # the loan does not run any more
        session.flush()
        assert accompaniment.overdue(session, date(2026, 5, 1)) == []


def test_overdue_follow_ups_of_another_tenant_are_not_seen(signed, session, other_tenant,
                                                           in_tenant):
    with in_tenant(other_tenant):
        assert accompaniment.overdue(session, date(2027, 12, 1)) == []


# -- follow-ups --------------------------------------------------------------------------


def form(**kw):
    values = {"done_on": "2026-03-02", "channel": "phone", "duration_minutes": "25",
              "shared_note": "Budget tenu, échéances payées.", "private_note": "Fragile."}
    values.update(kw)
    return accompaniment.FollowUpForm(**values)


def test_recording_a_planned_follow_up_counts_as_accompaniment_time(
        signed, session, tenant, in_tenant, users):
    worker = users["social_worker"]
    with in_tenant(tenant):
        planned = accompaniment.follow_ups(session, signed)[0]
        accompaniment.record_follow_up(session, signed, worker, form(), planned)
        session.commit()
        assert planned.done_on == date(2026, 3, 2) and planned.duration_minutes == 25
        assert planned.private_note == "Fragile." and planned.channel.value == "phone"
        entry = session.scalar(select(TimeEntry))
    assert (entry.user_id, entry.case_id, entry.minutes, entry.day) == (
        worker.id, signed.id, 25, date(2026, 3, 2))
    assert (entry.activity.value, entry.category.value) == ("follow_up", "accompaniment")


def test_a_follow_up_needs_date_channel_and_duration(signed, session, tenant, in_tenant,
                                                     users):
    with in_tenant(tenant), pytest.raises(UserError) as err:
        accompaniment.record_follow_up(
            session, signed, users["social_worker"],
            form(done_on="", channel="fax", duration_minutes="0"))
    assert set(err.value.errors) == {"done_on", "channel", "duration_minutes"}


def test_a_follow_up_cannot_be_dated_in_the_future(signed, session, tenant, in_tenant, users):
    tomorrow = (accompaniment.today(tenant) + timedelta(days=1)).isoformat()
    with in_tenant(tenant), pytest.raises(UserError) as err:
        accompaniment.record_follow_up(session, signed, users["manager"], form(done_on=tomorrow))
    assert err.value.field == "done_on"


def test_only_social_workers_and_the_manager_record_follow_ups(signed, session, tenant,
                                                               in_tenant, users):
    for role in ("secretary", "lender_agent", "referrer", "funder"):
        with in_tenant(tenant), pytest.raises(UserError) as err:
            accompaniment.record_follow_up(session, signed, users[role], form())
        assert err.value.status == 403


# -- tasks -------------------------------------------------------------------------------


def test_a_late_instalment_event_creates_one_task_with_a_suggested_action(
        signed, session, tenant, in_tenant, users):
    loan = types.SimpleNamespace(case_id=signed.id)
    with in_tenant(tenant):
        for days in (12, 40):
            accompaniment.ccas_loan_event(loan=loan, event="late", data={"days_late": days},
                                          session=session)
        session.commit()
        rows = session.scalars(select(AccompanimentTask)).all()
    assert len(rows) == 1  # one alert per problem, updated
    task = rows[0]
    assert task.kind == TaskKind.late_instalment and task.status == TaskStatus.open
    assert "40 jour" in task.message and "budget" in task.suggested_action
    assert task.assigned_to_id == users["social_worker"].id


def test_the_loan_event_hook_reaches_the_core_whatever_the_tenant_enabled(
        signed, session, tenant, in_tenant):
    loan = types.SimpleNamespace(case_id=signed.id)
    with in_tenant(tenant):
        assert plugins.enabled_plugins() == frozenset()
        plugins.hooks().ccas_loan_event(loan=loan, event="late", data={"days_late": 5})
        session.commit()
        task = session.scalar(select(AccompanimentTask))
    assert task.kind == TaskKind.late_instalment and task.source == "loan:late"


def test_default_and_bounced_payment_events_create_their_tasks(signed, session, tenant,
                                                               in_tenant):
    loan = types.SimpleNamespace(case_id=signed.id)
    with in_tenant(tenant):
        plugins.hooks().ccas_loan_event(loan=loan, event="default", data={})
        plugins.hooks().ccas_loan_event(loan=loan, event="repayment",
                                        data={"amount": "87.30", "bounced": True})
        plugins.hooks().ccas_loan_event(loan=loan, event="repayment", data={"amount": "87.30"})
        kinds = sorted(t.kind.value for t in session.scalars(select(AccompanimentTask)))
    assert kinds == ["bounced_payment", "loan_default"]


def test_a_change_the_borrower_reports_creates_a_task_with_the_suggested_action(
        signed, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        task = accompaniment.report_change(session, signed, users["secretary"], "job_loss",
                                           "Fin de CDD en mars.")
    assert task.kind == TaskKind.borrower_change
    assert "Perte d'emploi" in task.message and "Fin de CDD" in task.message
    assert "droits chômage" in task.suggested_action


def test_an_unknown_change_is_refused(signed, session, tenant, in_tenant, users):
    with in_tenant(tenant), pytest.raises(UserError) as err:
        accompaniment.report_change(session, signed, users["social_worker"], "lottery")
    assert err.value.field == "change"


def test_closing_a_task_needs_what_was_done(signed, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        task = accompaniment.report_change(session, signed, users["social_worker"], "moving")
        with pytest.raises(UserError):
            accompaniment.close_task(session, task, users["social_worker"], "")
        accompaniment.close_task(session, task, users["social_worker"], "Adresse mise à jour.")
    assert task.status == TaskStatus.done and task.closed_at is not None


# -- closing -----------------------------------------------------------------------------


def close(session, case, actor, reason="repaid"):
    return workflow.apply_transition(
        session, case, TransitionRequest(target="closed", version=case.version, reason=reason),
        actor)


@pytest.mark.parametrize("reason", ["repaid", "early_repayment", "default"])
def test_close_is_vetoed_until_the_final_summary_is_recorded(signed, session, tenant,
                                                              in_tenant, users, reason):
    worker = users["social_worker"]
    with in_tenant(tenant):
        signed.state = State.repaying
        session.commit()
        with pytest.raises(TransitionError) as err:
            close(session, signed, worker, reason)
        assert "bilan final" in err.value.message
        session.rollback()
        accompaniment.record_follow_up(session, signed, worker,
                                       form(final=True, shared_note="Bilan : prêt soldé."))
        close(session, signed, worker, reason)
        session.commit()
    assert signed.state == State.closed


def test_the_final_summary_needs_a_shared_note(signed, session, tenant, in_tenant, users):
    with in_tenant(tenant), pytest.raises(UserError) as err:
        accompaniment.record_follow_up(session, signed, users["social_worker"],
                                       form(final=True, shared_note=" "))
    assert err.value.field == "shared_note"


def test_a_planned_follow_up_that_is_not_done_does_not_count_as_final_summary(
        signed, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        assert any(f.final for f in accompaniment.follow_ups(session, signed))
        assert not accompaniment.has_final_summary(session, signed)


# -- the lender's view -------------------------------------------------------------------


def test_the_lender_sees_that_the_ccas_is_on_it_not_the_details(signed, session, tenant,
                                                                 in_tenant, users):
    loan = types.SimpleNamespace(case_id=signed.id)
    with in_tenant(tenant):
        assert accompaniment_status(signed) == "En cours de suivi par le CCAS"
        accompaniment.ccas_loan_event(loan=loan, event="late", data={"days_late": 12},
                                      session=session)
        status = accompaniment_status(signed)
        assert status == "Alerte prise en charge par le CCAS"
        assert "12" not in status and "budget" not in status
        for task in session.scalars(select(AccompanimentTask)):
            accompaniment.close_task(session, task, users["social_worker"], "Appel fait.")
        assert accompaniment_status(signed) == "En cours de suivi par le CCAS"


def test_a_case_without_plan_has_no_accompaniment_status(app, tenant, users, session,
                                                         in_tenant):
    with in_tenant(tenant):
        c = open_case(session, users["secretary"])
        assert accompaniment_status(c) == "Pas d'accompagnement en cours"


def test_the_status_from_rows_already_read_is_the_status_the_queries_give():
    """``status_of`` (the case page's block, from the rows it holds) answers as
    ``status_code`` (three queries) for each outcome: an open task first, then a final
    summary recorded, then a plan, else none."""
    task = types.SimpleNamespace
    open_task, done_task = task(status=TaskStatus.open), task(status=TaskStatus.done)
    final = types.SimpleNamespace(final=True, done_on=date(2026, 6, 1))
    final_planned = types.SimpleNamespace(final=True, done_on=None)
    plan = object()
    assert accompaniment.status_of([done_task, open_task], [final], plan) == "acting"
    assert accompaniment.status_of([done_task], [final_planned, final], plan) == "closed"
    assert accompaniment.status_of([done_task], [final_planned], plan) == "following"
    assert accompaniment.status_of([], [final_planned], None) == "none"


def test_the_status_from_the_rows_read_matches_the_queries_on_a_followed_case(
        signed, session, tenant, in_tenant):
    def both():
        from_rows = accompaniment.status_of(
            accompaniment.tasks(session, signed), accompaniment.follow_ups(session, signed),
            accompaniment.plan_of(session, signed))
        return from_rows, accompaniment.status_code(session, signed)

    with in_tenant(tenant):
        assert both() == ("following", "following")
        accompaniment.ccas_loan_event(loan=types.SimpleNamespace(case_id=signed.id),
                                      event="late", data={"days_late": 12}, session=session)
        session.flush()
        assert both() == ("acting", "acting")
