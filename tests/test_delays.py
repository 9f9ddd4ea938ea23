"""Median delays per step for the manager's dashboard, from recorded transitions (pure).
The steps are the tenant's workflow's: here the core's with the lender's FICP check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.reports.delays import TransitionPoint, median_delays, milestones
from core.workflow.definitions import merge
from plugins.credit_municipal.ficp import CASE_WORKFLOW

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
FLOW = merge([("credit_municipal", CASE_WORKFLOW)])
CORE_FLOW = merge([])


def _path(case_id, ficp_days, interview_days, submit_days):
    points = [TransitionPoint(case_id, None, "intake", T0),
              TransitionPoint(case_id, "intake", "ficp_pending", T0 + timedelta(hours=1))]
    if ficp_days is not None:
        points.append(TransitionPoint(case_id, "ficp_pending", "documents_requested",
                                      T0 + timedelta(days=ficp_days)))
    if interview_days is not None:
        points.append(TransitionPoint(case_id, "documents_requested", "evaluation",
                                      T0 + timedelta(days=interview_days)))
    if submit_days is not None:
        points.append(TransitionPoint(case_id, "evaluation", "instruction",
                                      T0 + timedelta(days=submit_days - 1)))
        points.append(TransitionPoint(case_id, "instruction", "submitted_to_lender",
                                      T0 + timedelta(days=submit_days)))
    return points


def _by_step(result):
    return {(d.start, d.end): d for d in result}


def _delays(points, first=None, flow=FLOW):
    return _by_step(median_delays(milestones(points, flow.milestones, first), flow.delays()))


def test_the_steps_follow_the_tenants_workflow():
    assert [(a, b) for _k, a, b, _l in FLOW.delays()] == [
        ("intake", "ficp_result"), ("ficp_result", "evaluation"), ("evaluation", "instruction"),
        ("instruction", "submission"), ("submission", "decision"), ("intake", "decision")]
    assert [(a, b) for _k, a, b, _l in CORE_FLOW.delays()][:1] == [("intake", "evaluation")]
    assert FLOW.delays()[0][3] == "Demande → résultat FICP"


def test_median_days_of_each_step_over_the_cases_that_reached_both_ends():
    result = _delays(_path("a", 2, 10, 30) + _path("b", 4, 20, 40) + _path("c", 6, None, None))
    assert result[("intake", "ficp_result")].median_days == 4.0
    assert result[("intake", "ficp_result")].cases == 3
    assert result[("ficp_result", "evaluation")].median_days == 12.0  # 8 and 16
    assert result[("evaluation", "instruction")].median_days == 19.0  # 19 and 19
    assert result[("instruction", "submission")].median_days == 1.0
    assert result[("instruction", "submission")].cases == 2


def test_ficp_registered_is_a_ficp_result():
    points = [TransitionPoint("x", None, "intake", T0),
              TransitionPoint("x", "ficp_pending", "ficp_registered", T0 + timedelta(days=3))]
    assert _delays(points)[("intake", "ficp_result")].median_days == 3.0


def test_abandon_from_ficp_pending_is_not_a_ficp_result():
    points = [TransitionPoint("x", None, "intake", T0),
              TransitionPoint("x", "ficp_pending", "abandoned", T0 + timedelta(days=3))]
    result = _delays(points)
    assert result[("intake", "ficp_result")].median_days is None
    assert result[("intake", "ficp_result")].cases == 0


def test_an_earlier_recorded_interview_counts_as_the_first_interview():
    points = _path("a", 2, 10, None)
    marks = milestones(points, FLOW.milestones, {"a": date(2026, 1, 6)})
    assert marks["a"]["evaluation"].date() == date(2026, 1, 6)


def test_no_cases_gives_no_median():
    assert all(d.median_days is None and d.cases == 0
               for d in median_delays({}, FLOW.delays()))
