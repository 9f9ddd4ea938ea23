"""The manager's median delays computed by the database (``core.reports.queries
.median_delays``) equal the Python definition (``core.reports.delays``) on the same rows:
two tenants' generated histories (each tenant sees its own), the first interview earlier
than the move, a step across the Paris new year, cases outside the window."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from core import workflow
from core.models import Case, CaseTransition, Interview, Person
from core.reports import delays, queries

SINCE = date(2025, 1, 1)
#: 31/12/2025 23:30 in Paris, 22:30 UTC: the step ends in the new year (Paris), the
#: old one in UTC
NEW_YEAR = datetime(2025, 12, 31, 22, 30, tzinfo=UTC)
PATH = ("intake", "ficp_pending", "documents_requested", "evaluation", "instruction",
        "submitted_to_lender", "granted")


def _case(session, intake: date, moves: list[tuple[str, datetime]], interview=None):
    person = Person(first_name="A", last_name="B")
    session.add(person)
    session.flush()
    case = Case(reference=f"D-{uuid.uuid4().hex[:10]}", person_id=person.id,
                purpose="mobility", amount_requested=Decimal("900"), source="phone",
                state=moves[-1][0], intake_date=intake)
    session.add(case)
    session.flush()
    previous = None
    for state, at in moves:
        session.add(CaseTransition(case_id=case.id, from_state=previous, to_state=state,
                                   at=at, data={}))
        previous = state
    if interview is not None:
        session.add(Interview(case_id=case.id, held_on=interview))
    session.flush()


def _history(session, seed: int, n: int) -> None:
    rng = random.Random(seed)
    for _ in range(n):
        intake = SINCE + timedelta(days=rng.randrange(-60, 360))
        at = datetime.combine(intake, datetime.min.time(), UTC) + timedelta(
            hours=rng.randrange(7, 18), seconds=rng.randrange(3600))
        moves = []
        for state in PATH[:rng.randrange(1, len(PATH) + 1)]:
            moves.append((state, at))
            at += timedelta(days=rng.randrange(0, 20), hours=rng.randrange(24),
                            seconds=rng.randrange(3600))
        interview = None
        if len(moves) > 3 and rng.random() < 0.4:  # sometimes before the move to evaluation
            interview = moves[3][1].date() - timedelta(days=rng.randrange(-2, 6))
        _case(session, intake, moves, interview)
    # whole hours: medians on a .x5 boundary of days (12 h = 0.5 day) round the same way
    _case(session, date(2025, 12, 20), [("intake", NEW_YEAR - timedelta(days=12, hours=6)),
                                        ("ficp_pending", NEW_YEAR)])


def _in_python(session, flow, since):
    """The definition: every transition of the window's cases, in Python."""
    recent = select(Case.id).where(Case.intake_date >= since)
    points = [delays.TransitionPoint(*row) for row in session.execute(select(
        CaseTransition.case_id, CaseTransition.from_state, CaseTransition.to_state,
        CaseTransition.at).where(CaseTransition.case_id.in_(recent)))]
    first = dict(session.execute(select(Interview.case_id, func.min(Interview.held_on))
                                 .where(Interview.case_id.in_(recent))
                                 .group_by(Interview.case_id)).all())
    return delays.median_delays(delays.milestones(points, flow.milestones, first),
                                flow.delays())


def test_the_databases_medians_equal_the_python_definition_for_each_tenant(
        app, tenant, other_tenant, session, in_tenant, enable_plugin):
    for n, t in enumerate((tenant, other_tenant)):
        enable_plugin(t, "credit_municipal")
        with in_tenant(t):
            _history(session, seed=19 + n, n=60 + 25 * n)
    for t in (tenant, other_tenant):
        with in_tenant(t):
            flow = workflow.current()
            expected = _in_python(session, flow, SINCE)
            got = queries.median_delays(session, flow, SINCE)
            assert got == expected
            assert any(d.median_days is not None for d in got)
            assert any(d.cases % 2 == 0 and d.cases for d in got)  # a mean of two middles


def test_a_step_across_the_paris_new_year_and_an_earlier_interview(
        app, tenant, session, in_tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        _case(session, date(2025, 12, 20),
              [("intake", NEW_YEAR - timedelta(days=12, hours=6)), ("ficp_pending", NEW_YEAR),
               ("documents_requested", NEW_YEAR + timedelta(days=1)),
               ("evaluation", NEW_YEAR + timedelta(days=10))],
              interview=date(2026, 1, 5))  # noon UTC of 05/01, earlier than the move
        _case(session, date(2024, 12, 20),  # opened before the window: not counted
              [("intake", NEW_YEAR - timedelta(days=400)), ("ficp_pending", NEW_YEAR)])
        flow = workflow.current()
        got = {(d.start, d.end): d for d in queries.median_delays(session, flow, SINCE)}
        assert got == {(d.start, d.end): d for d in _in_python(session, flow, SINCE)}
    # the FICP result is the move out of the check, a day into the new year: 13 days 6 h,
    # 13.25 exactly, rounded as Python rounds (half to even)
    assert got[("intake", "ficp_result")].median_days == 13.2
    # the first interview at noon UTC of 05/01, before the move to evaluation (10/01)
    assert got[("ficp_result", "evaluation")].median_days == 3.6
    assert got[("intake", "ficp_result")].cases == 1
