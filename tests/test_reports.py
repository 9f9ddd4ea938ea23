"""The yearly review: figures of a dataset whose answers are known, the seed's 2018 shape,
the definitions' edge cases (timezone, repeats), and the funder suppression rule."""

from __future__ import annotations

import types
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from core import plugins
from core.models import Case, CaseTransition, Organisation, Person
from core.plugin_api import PluginInfo, ReportSection, hookimpl
from core.reports import build_report, funder_view
from core.reports.suppression import HIDDEN, SMALL, cells_to_hide
from core.reports.yearly import histogram_stats, percentages

PARIS = ZoneInfo("Europe/Paris")


def noon(day: str) -> datetime:
    """Noon, Paris time, of an ISO day, as an aware UTC datetime."""
    return datetime.combine(date.fromisoformat(day), time(12), PARIS).astimezone(UTC)


def add_case(session, intake: str, purpose: str, steps=(), birth: str | None = None,
             employment: str | None = None, source: str = "phone", org=None,
             reoriented_to: str | None = None):
    """A case with its history: ``steps`` are ``(to_state, at, data)``; the intake
    transition is recorded at noon of the intake day."""
    person = Person(first_name="A", last_name="B",
                    birth_date=date.fromisoformat(birth) if birth else None,
                    employment=employment)
    session.add(person)
    session.flush()
    history = [("intake", noon(intake), {}), *steps]
    case = Case(reference=f"T-{uuid.uuid4().hex[:10]}", person_id=person.id, purpose=purpose,
                amount_requested=Decimal("1000"), source=source,
                referring_organisation_id=org.id if org else None,
                state=history[-1][0], intake_date=date.fromisoformat(intake),
                reoriented_to=reoriented_to)
    session.add(case)
    session.flush()
    previous = None
    for to_state, at, data in history:
        session.add(CaseTransition(case_id=case.id, from_state=previous, to_state=to_state,
                                   at=at, data=data))
        previous = to_state
    session.flush()
    return case


def path(*steps):
    return [(state, noon(day) if isinstance(day, str) else day, data)
            for state, day, data in steps]


@pytest.fixture
def dataset(app, tenant, other_tenant, session, in_tenant):
    """Year 2023 of tenant alpha: 5 requests, 4 instructions, 3 loans granted."""
    with in_tenant(tenant):
        caf = Organisation(name="CAF", kind="aid_fund")
        session.add(caf)
        session.flush()
        add_case(session, "2023-03-10", "mobility", birth="2000-06-15", employment="cdd",
                 steps=path(("ficp_pending", "2023-03-10", {}),
                            ("documents_requested", "2023-03-13", {}),
                            ("evaluation", "2023-03-20", {}), ("instruction", "2023-03-27", {}),
                            ("submitted_to_lender", "2023-03-30", {}),
                            ("granted", "2023-04-04", {"amount_granted": "1500.00", "months": 24})))
        add_case(session, "2023-03-10", "mobility", birth="1990-03-10", employment="interim",
                 steps=path(("ficp_pending", "2023-03-10", {}),
                            ("documents_requested", "2023-03-12", {}),
                            ("evaluation", "2023-03-22", {}), ("instruction", "2023-04-05", {}),
                            ("submitted_to_lender", "2023-04-06", {}),
                            ("refused", "2023-04-16", {})))
        add_case(session, "2023-03-10", "housing", birth="1990-03-11",
                 employment="minimum_benefits", reoriented_to="aide_legale",
                 steps=path(("reoriented", "2023-03-15", {})))
        # instructed on 31/12/2023 23:30 UTC = 01/01/2024 00:30 in Paris: a 2024 instruction
        add_case(session, "2023-07-01", "debts", source="referral", org=caf,
                 steps=[("instruction", datetime(2023, 12, 31, 23, 30, tzinfo=UTC), {})])
        add_case(session, "2023-11-20", "training", birth="1950-01-01", source="referral",
                 org=caf,
                 steps=path(("ficp_pending", "2023-11-20", {}),
                            ("documents_requested", "2023-11-21", {}),
                            ("evaluation", "2023-11-28", {}), ("instruction", "2023-12-01", {}),
                            ("submitted_to_lender", "2023-12-04", {}),
                            ("granted", "2023-12-08", {"amount_granted": "3000.00", "months": 36})))
        # asked in 2022, instructed and granted in 2023
        add_case(session, "2022-12-15", "mobility",
                 steps=path(("instruction", "2023-01-10", {}),
                            ("submitted_to_lender", "2023-01-12", {}),
                            ("granted", "2023-01-20", {"amount_granted": "500.50", "months": 12})))
        add_case(session, "2024-01-02", "health")
        session.commit()
    with in_tenant(other_tenant):
        add_case(session, "2023-05-05", "mobility",
                 steps=path(("instruction", "2023-05-06", {}),
                            ("granted", "2023-05-07", {"amount_granted": "900", "months": 10})))
        session.commit()
    return tenant


@pytest.fixture
def report_2023(dataset, session, in_tenant):
    with in_tenant(dataset):
        return build_report(session, dataset, 2023)


def test_requests_instructions_and_granted_follow_the_definitions(report_2023):
    assert report_2023["tenant"] == "alpha" and report_2023["year"] == 2023
    assert (report_2023["requests"], report_2023["instructions"], report_2023["granted"]) == (
        5, 4, 3)


def test_an_instruction_late_on_new_years_eve_utc_counts_in_the_local_year(
        dataset, session, in_tenant):
    with in_tenant(dataset):
        report = build_report(session, dataset, 2024)
    assert report["instructions"] == 1 and report["requests"] == 1


def test_purposes_are_shares_of_the_years_requests_with_one_decimal(report_2023):
    assert report_2023["purposes"] == {
        "mobility": 40.0, "housing": 20.0, "debts": 20.0, "training": 20.0,
        "household_equipment": 0.0, "health": 0.0, "employment": 0.0, "other": 0.0,
    }
    assert report_2023["purpose_counts"]["mobility"] == 2


def test_applicant_age_is_taken_on_the_request_date_and_banded(report_2023):
    assert report_2023["applicants"]["age"] == {
        "under_25": 1, "25_34": 2, "35_44": 0, "45_54": 0, "55_64": 0, "65_and_over": 1,
        "unknown": 1,
    }
    employment = report_2023["applicants"]["employment"]
    assert (employment["cdd"], employment["interim"], employment["minimum_benefits"],
            employment["unknown"], employment["cdi"]) == (1, 1, 1, 2, 0)


def test_delays_give_median_and_90th_percentile_days_between_milestones(
        dataset, session, in_tenant, enable_plugin):
    """With the lender's FICP check (its part of the workflow adds the FICP result)."""
    enable_plugin(dataset, "credit_municipal")
    with in_tenant(dataset):
        delays = build_report(session, dataset, 2023)["delays"]
    assert delays["intake_to_ficp_result"] == {"count": 3, "median": 2.0, "p90": 3}
    # across the daylight-saving change of 26/03/2023: still 7 whole days
    assert delays["evaluation_to_instruction"] == {"count": 3, "median": 7.0, "p90": 14}
    assert delays["ficp_result_to_evaluation"] == {"count": 3, "median": 7.0, "p90": 10}
    assert delays["instruction_to_submission"] == {"count": 4, "median": 2.5, "p90": 3}
    assert delays["submission_to_decision"] == {"count": 4, "median": 6.5, "p90": 10}
    assert delays["intake_to_decision"] == {"count": 4, "median": 30.5, "p90": 37}


def test_without_the_lender_the_first_step_is_request_to_first_interview(report_2023):
    delays, labels = report_2023["delays"], report_2023["delay_labels"]
    assert "intake_to_ficp_result" not in delays
    assert list(delays)[0] == "intake_to_evaluation"
    assert labels["intake_to_evaluation"] == "Demande → premier entretien"
    assert delays["intake_to_evaluation"]["count"] == 3


def test_reorientations_and_partner_referrals_with_outcomes(report_2023):
    assert report_2023["reorientations"] == {
        "total": 1, "by_destination": {"aide_legale": 1},
        "labels": {"aide_legale": "Aide légale (droits à ouvrir : CAF, CPAM, Pôle emploi…)"}}
    caf = report_2023["partners"]["by_partner"]["CAF"]
    assert report_2023["partners"]["total"] == 2
    assert caf["cases"] == 2
    assert caf["outcomes"] == {"in_progress": 1, "granted": 1, "refused": 0, "reoriented": 0,
                               "abandoned": 0}


def test_loans_without_lender_section_come_from_granted_transitions(report_2023):
    loans = report_2023["loans"]
    assert loans["count"] == 3 and loans["source"] == "transitions"
    assert loans["amount_lent"] == Decimal("5000.50")
    assert loans["average_amount"] == Decimal("1666.83")
    assert loans["average_months"] == 24.0
    assert loans["par30"] is None


def test_monthly_requests_count_by_intake_month(report_2023):
    assert report_2023["monthly_requests"] == [0, 0, 2 + 1, 0, 0, 0, 1, 0, 0, 0, 1, 0]


def test_another_tenants_cases_are_not_counted(other_tenant, dataset, session, in_tenant):
    with in_tenant(other_tenant):
        report = build_report(session, other_tenant, 2023)
    assert (report["requests"], report["instructions"], report["granted"]) == (1, 1, 1)
    assert report["loans"]["amount_lent"] == Decimal("900.00")


@pytest.fixture
def lender_section(app, tenant, enable_plugin):
    module = types.ModuleType("fake_lender")

    @hookimpl
    def ccas_plugin_info():
        return PluginInfo(name="fake_lender", label="Prêteur", version="1")

    @hookimpl
    def ccas_report_sections(tenant, year, session):
        return ReportSection("credit_municipal", "Crédit Municipal", data={
            "loans": {"count": 3, "amount_lent": "5000.50", "portfolio_outstanding": "4200.00",
                      "par30": 2.5, "defaults": 0},
            "year": year,
        })

    module.ccas_plugin_info = ccas_plugin_info
    module.ccas_report_sections = ccas_report_sections
    plugins.registry().register(module, "fake_lender")
    enable_plugin(tenant, "fake_lender")
    yield
    plugins.registry().unregister("fake_lender")


def test_lender_section_supplies_loans_and_appears_under_sections(
        dataset, lender_section, session, in_tenant):
    with in_tenant(dataset):
        report = build_report(session, dataset, 2023)
    assert report["loans"]["source"] == "credit_municipal"
    assert report["loans"]["portfolio_outstanding"] == "4200.00"
    assert report["loans"]["par30"] == 2.5
    # what the section does not give is still computed from the transitions
    assert report["loans"]["average_months"] == 24.0
    assert report["sections"]["credit_municipal"]["data"]["year"] == 2023
    assert report["sections"]["credit_municipal"]["title"] == "Crédit Municipal"


def _bulk_cases(session, tenant, year, purposes, instructed, granted):
    """``sum(purposes.values())`` requests of ``year``; the first ``instructed`` reach
    instruction in the year, the first ``granted`` of those are granted."""
    people, rows, moves = [], [], []
    n = 0
    for purpose, count in purposes.items():
        for _ in range(count):
            pid, cid = uuid.uuid4(), uuid.uuid4()
            day = date(year, 1 + n % 12, 1 + n % 28)
            people.append({"tenant_id": tenant.id, "id": pid, "first_name": "P",
                           "last_name": f"N{n}"})
            rows.append({"tenant_id": tenant.id, "id": cid, "reference": f"{year}-{n:05d}",
                         "person_id": pid, "purpose": purpose, "amount_requested": Decimal(900),
                         "intake_date": day, "state": "intake", "version": 1})
            at = noon(day.isoformat())
            moves.append({"tenant_id": tenant.id, "case_id": cid, "to_state": "intake",
                          "at": at, "data": {}})
            if n < instructed:
                moves.append({"tenant_id": tenant.id, "case_id": cid, "to_state": "instruction",
                              "from_state": "intake", "at": at, "data": {}})
            if n < granted:
                moves.append({"tenant_id": tenant.id, "case_id": cid, "to_state": "granted",
                              "from_state": "instruction", "at": at,
                              "data": {"amount_granted": "1000.00", "months": 24}})
            n += 1
    session.execute(insert(Person), people)
    session.execute(insert(Case), rows)
    session.execute(insert(CaseTransition), moves)
    session.commit()


def test_the_seeds_2018_review_shape_is_reproduced_in_miniature(
        app, tenant, session, in_tenant):
    # 2018 in Toulouse: 4,838 requests, 1,914 instructions, 559 granted; mobility 57 %,
    # housing 18.5 %, debts 11.6 %, training 4.5 %. Here at about 1/5 scale.
    purposes = {"mobility": 570, "housing": 185, "debts": 116, "training": 45,
                "household_equipment": 30, "health": 20, "employment": 14, "other": 20}
    with in_tenant(tenant):
        _bulk_cases(session, tenant, 2018, purposes, instructed=396, granted=116)
        report = build_report(session, tenant, 2018)
    assert (report["requests"], report["instructions"], report["granted"]) == (1000, 396, 116)
    assert report["purposes"] == {
        "mobility": 57.0, "housing": 18.5, "debts": 11.6, "training": 4.5,
        "household_equipment": 3.0, "health": 2.0, "employment": 1.4, "other": 2.0,
    }
    assert report["loans"]["amount_lent"] == Decimal("116000.00")


# -- pure helpers -----------------------------------------------------------------------------


def test_percentages_use_largest_remainder_and_add_up_to_100():
    shares = percentages({"a": 1, "b": 1, "c": 1}, 3, ["a", "b", "c"])
    assert shares == {"a": 33.4, "b": 33.3, "c": 33.3}
    assert round(sum(shares.values()), 1) == 100.0
    assert percentages({}, 0, ["a"]) == {"a": 0.0}


def test_histogram_median_averages_the_middle_pair_and_p90_is_nearest_rank():
    assert histogram_stats({1: 1, 2: 1, 3: 1, 10: 1}) == {"count": 4, "median": 2.5, "p90": 10}
    assert histogram_stats({5: 9, 50: 1}) == {"count": 10, "median": 5.0, "p90": 5}
    assert histogram_stats({}) == {"count": 0, "median": None, "p90": None}


# -- funder view --------------------------------------------------------------------------------


def test_funder_view_shows_every_count_under_5_as_less_than_5(report_2023):
    view = funder_view(report_2023)
    assert view["requests"] == 5
    assert view["instructions"] == SMALL and view["granted"] == SMALL
    assert set(view["purpose_counts"].values()) == {SMALL}
    assert set(view["purposes"].values()) == {HIDDEN}
    assert view["delays"]["intake_to_decision"] == {"count": SMALL, "median": HIDDEN,
                                                    "p90": HIDDEN}
    assert view["loans"]["count"] == SMALL
    assert view["loans"]["amount_lent"] == HIDDEN and view["loans"]["average_amount"] == HIDDEN
    assert view["reorientations"]["total"] == SMALL
    assert view["partners"]["by_partner"]["CAF"]["cases"] == SMALL
    assert view["suppressed"] is True


def test_funder_view_does_not_change_the_managers_report(report_2023):
    funder_view(report_2023)
    assert report_2023["instructions"] == 4 and report_2023["purposes"]["mobility"] == 40.0


def test_a_single_hidden_cell_gets_a_complementary_one_so_it_cannot_be_recomputed():
    report = {
        "year": 2023, "requests": 83, "instructions": 40, "granted": 12,
        "purpose_counts": {"mobility": 50, "housing": 20, "debts": 3, "training": 10},
        "purposes": {"mobility": 60.2, "housing": 24.1, "debts": 3.6, "training": 12.1},
    }
    view = funder_view(report)
    assert view["purpose_counts"] == {"mobility": 50, "housing": 20, "debts": SMALL,
                                      "training": HIDDEN}
    assert view["purposes"] == {"mobility": 60.2, "housing": 24.1, "debts": HIDDEN,
                                "training": HIDDEN}
    assert view["granted"] == 12


def test_hidden_cells_that_total_under_5_get_another_cell_hidden():
    primary, complementary = cells_to_hide({"a": 40, "b": 0, "c": 0, "d": 30})
    assert primary == {"b", "c"} and complementary == {"d"}
    assert cells_to_hide({"a": 40, "b": 3, "c": 4}) == ({"b", "c"}, set())
    assert cells_to_hide({"a": 40, "b": 9}) == (set(), set())


def test_a_hidden_partner_hides_all_its_outcomes():
    report = {"year": 2023, "partners": {"total": 27, "by_partner": {
        "CAF": {"cases": 20, "outcomes": {"granted": 10, "refused": 10}},
        "UDAF": {"cases": 4, "outcomes": {"granted": 4, "refused": 0}},
        "ADIE": {"cases": 3, "outcomes": {"granted": 3, "refused": 0}},
    }}}
    partners = funder_view(report)["partners"]
    assert partners["total"] == 27
    assert partners["by_partner"]["CAF"] == {"cases": 20,
                                             "outcomes": {"granted": 10, "refused": 10}}
    assert partners["by_partner"]["UDAF"] == {"cases": SMALL,
                                              "outcomes": {"granted": SMALL, "refused": SMALL}}


def test_plugin_sections_get_small_counts_and_their_companions_hidden():
    report = {"year": 2023, "sections": {"caf": {"title": "CAF", "data": {
        "aids": {"count": 2, "amount": "800.00"}, "referrals": 12}}}}
    data = funder_view(report)["sections"]["caf"]["data"]
    assert data == {"aids": {"count": SMALL, "amount": HIDDEN}, "referrals": 12}
