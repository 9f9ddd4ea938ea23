"""Interviews counted per evaluated request in the yearly review (a count, not time: the
staff time report counts the time of held appointments), masked for funders."""

from __future__ import annotations

from datetime import date

import pytest

from core import cases, workflow
from core.models import State
from core.reports import export, suppression, yearly
from core.workflow import TransitionRequest


def test_interviews_figures_are_banded_and_averaged():
    figures = yearly.interviews_figures({0: 1, 1: 2, 2: 1, 5: 1})
    assert figures == {"cases": 5, "total": 9, "average": 1.8,
                       "by_count": {"0": 1, "1": 2, "2": 1, "3": 0, "4+": 1}}
    assert yearly.interviews_figures({})["average"] is None


@pytest.fixture(autouse=True)
def _in_2026(clock):
    """The review of 2026, written in November 2026, whatever day the suite runs at."""
    clock.travel_to("2026-11-20T10:00")


def test_the_review_counts_interviews_per_evaluated_request(app, tenant, users, session,
                                                            in_tenant):
    with in_tenant(tenant):
        for name, interviews in (("Un", 2), ("Deux", 0), ("Trois", 1)):
            person = cases.create_person(session, cases.PersonData(name, "Test",
                                                                   date(1990, 1, 1)))
            case = cases.open_case(session, person, "mobility", "1000", tenant=tenant)
            for target in (State.documents_requested, State.evaluation):
                workflow.apply_transition(session, case,
                                          TransitionRequest(target, case.version),
                                          users["manager"])
            for day in range(interviews):
                cases.add_interview(session, case, users["social_worker"],
                                    f"2026-11-0{day + 2}", 45, "Entretien.")
        person = cases.create_person(session, cases.PersonData("Quatre", "Test"))
        cases.open_case(session, person, "mobility", "1000", tenant=tenant)  # not evaluated
        session.commit()
        report = yearly.build_report(session, tenant, 2026)
    assert report["interviews"] == {"cases": 3, "total": 3, "average": 1.0,
                                    "by_count": {"0": 1, "1": 1, "2": 1, "3": 0, "4+": 0}}
    table = next(t for t in export.tables(report)
                 if t.title == "Entretiens par demande évaluée")
    assert ["Moyenne par demande", 1.0] in table.rows
    masked = suppression.funder_view(report)["interviews"]
    assert masked["cases"] == suppression.SMALL and masked["average"] == suppression.HIDDEN
