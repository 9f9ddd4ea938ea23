"""Median delays per step, from recorded transitions (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.reports.delays import TransitionPoint, median_delays, milestones

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)


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


def test_median_days_of_each_step_over_the_cases_that_reached_both_ends():
    points = _path("a", 2, 10, 30) + _path("b", 4, 20, 40) + _path("c", 6, None, None)
    result = _by_step(median_delays(milestones(points)))
    assert result[("intake", "ficp_result")].median_days == 4.0
    assert result[("intake", "ficp_result")].cases == 3
    assert result[("ficp_result", "first_interview")].median_days == 12.0  # 8 and 16
    assert result[("first_interview", "submission")].median_days == 20.0
    assert result[("intake", "submission")].median_days == 35.0
    assert result[("intake", "submission")].cases == 2


def test_ficp_registered_is_a_ficp_result():
    points = [TransitionPoint("x", None, "intake", T0),
              TransitionPoint("x", "ficp_pending", "ficp_registered", T0 + timedelta(days=3))]
    result = _by_step(median_delays(milestones(points)))
    assert result[("intake", "ficp_result")].median_days == 3.0


def test_abandon_from_ficp_pending_is_not_a_ficp_result():
    points = [TransitionPoint("x", None, "intake", T0),
              TransitionPoint("x", "ficp_pending", "abandoned", T0 + timedelta(days=3))]
    result = _by_step(median_delays(milestones(points)))
    assert result[("intake", "ficp_result")].median_days is None
    assert result[("intake", "ficp_result")].cases == 0


def test_an_earlier_recorded_interview_counts_as_the_first_interview():
    points = _path("a", 2, 10, None)
    marks = milestones(points, {"a": date(2026, 1, 6)})
    assert marks["a"]["first_interview"].date() == date(2026, 1, 6)


def test_no_cases_gives_no_median():
    assert all(d.median_days is None and d.cases == 0 for d in median_delays({}))
