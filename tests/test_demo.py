"""``ccas demo``: the populated demonstration city, its figures, its determinism, its
pages. The CLI tests come first (they use the function-scoped app, which empties the
database afterwards); the others share one demonstration built once for the module."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import accounts, demo, tenancy, workflow
from core import clock as platform_clock
from core.db import db
from core.models import (
    Appointment,
    Case,
    CaseTransition,
    HouseholdMember,
    Organisation,
    Referral,
    Tenant,
)
from core.models.referral import ReferralStatus
from core.reports import workload
from core.reports.yearly import build_report
from plugins.credit_municipal.arrears import positions
from plugins.credit_municipal.models import (
    GuaranteeCall,
    Loan,
    LoanStatus,
    Recovery,
    Repayment,
)
from plugins.credit_municipal.repayments import ledger_of
from tests import demo_world

#: the demo built once for the module (tests/demo_world.py)
world, toulouse = demo_world.world, demo_world.toulouse

# -- the command ---------------------------------------------------------------------------


def test_demo_empty_gives_the_logins_only(ccas, session):
    result = ccas("demo", "--empty")
    assert result.exit_code == 0, result.output
    assert "responsable@ccas-toulouse.demo" in result.output
    assert "Dossiers" not in result.output
    tenant = session.scalar(select(Tenant).where(Tenant.slug == "toulouse"))
    with tenancy.tenant_scope(tenant.id):
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_demo_runs_without_a_terminal_and_adds_nothing_the_second_time(ccas, session):
    first = ccas("demo", "--years", "0.25", "--requests-per-year", "200", input="")
    assert first.exit_code == 0, first.output
    assert "Activité générée" in first.output and "Dossiers : 50" in first.output
    assert "Rendez-vous cette semaine" in first.output
    second = ccas("demo")
    assert second.exit_code == 0, second.output
    assert "rien n'a été ajouté" in second.output
    tenant = session.scalar(select(Tenant).where(Tenant.slug == "toulouse"))
    with tenancy.tenant_scope(tenant.id):
        assert session.scalar(select(func.count()).select_from(Case)) == 50


# -- one demonstration for the module ----------------------------------------------------------


def test_demo_requests_per_year_and_purposes_follow_the_seed(toulouse):
    session = db.session
    today = platform_clock.today(toulouse)
    last_year = session.scalar(select(func.count()).select_from(Case).where(
        Case.intake_date > today - timedelta(days=365)))
    assert 350 <= last_year <= 450
    purposes = Counter(dict(session.execute(
        select(Case.purpose, func.count()).group_by(Case.purpose)).all()))
    total = sum(purposes.values())
    assert 0.50 <= purposes["mobility"] / total <= 0.64
    assert 0.13 <= purposes["housing"] / total <= 0.23
    assert 0.08 <= purposes["debts"] / total <= 0.16


def test_demo_instructed_and_granted_shares_follow_the_seed(toulouse):
    session = db.session
    settled = platform_clock.today(toulouse) - timedelta(days=120)  # outcomes known
    cases = select(Case.id).where(Case.intake_date <= settled)
    total = session.scalar(select(func.count()).select_from(cases.subquery()))

    def reached(state):
        return session.scalar(select(func.count(func.distinct(CaseTransition.case_id))).where(
            CaseTransition.to_state == state, CaseTransition.case_id.in_(cases)))

    assert 0.33 <= reached("instruction") / total <= 0.47
    assert 0.09 <= reached("granted") / total <= 0.16


def test_demo_households_have_their_members(toulouse):
    relationships = set(db.session.scalars(select(HouseholdMember.relationship).distinct()))
    assert {"child", "spouse", "partner"} <= {str(r) for r in relationships}


def test_demo_has_cases_in_every_state_of_the_workflow(toulouse):
    states = set(db.session.scalars(select(Case.state).distinct()))
    expected = set(workflow.current().states)
    assert "ficp_pending" in expected and "ficp_registered" in expected  # the lender's
    assert expected <= states, expected - states


def test_demo_loans_have_histories_late_defaulted_and_guarantee_calls(toulouse):
    session = db.session
    statuses = Counter(dict(session.execute(
        select(Loan.status, func.count()).group_by(Loan.status)).all()))
    assert statuses[LoanStatus.repaying] >= 20
    assert statuses[LoanStatus.defaulted] >= 1
    late = session.scalar(select(func.count()).select_from(Loan).where(
        Loan.status == LoanStatus.repaying, Loan.late_since.is_not(None)))
    assert late >= 1
    assert session.scalar(select(func.count()).select_from(Repayment)) > 200
    assert session.scalar(select(func.count()).select_from(GuaranteeCall)) >= 1
    assert session.scalar(select(func.count()).select_from(Loan).where(
        Loan.default_proposed_on.is_not(None))) >= 1
    assert session.scalar(select(func.count()).select_from(Loan).where(
        Loan.written_off_on.is_not(None))) >= 1
    assert session.scalar(select(func.count()).select_from(Recovery)) >= 1
    granted = session.scalar(select(func.count()).select_from(Case).where(Case.id.in_(
        select(CaseTransition.case_id).where(CaseTransition.to_state == "granted"))))
    assert session.scalar(select(func.count()).select_from(Loan)) == granted


def test_demo_loan_ledgers_add_up_and_late_loans_are_the_late_ones(toulouse):
    session = db.session
    today = platform_clock.today(toulouse)
    disbursed = session.scalars(select(Loan).where(Loan.disbursed_on.is_not(None))).all()
    for loan in disbursed:
        ledger = ledger_of(session, loan)
        assert ledger.last_paid_on is None or ledger.last_paid_on <= today, loan.reference
        if loan.status == LoanStatus.repaid:
            assert ledger.outstanding == 0, loan.reference
        if loan.status == LoanStatus.defaulted:
            assert loan.default_outstanding == ledger.outstanding > 0, loan.reference
    late = {p.loan.id for p in positions(session, today) if p.arrears.days_past_due > 0}
    flagged = {loan.id for loan in disbursed
               if loan.status == LoanStatus.repaying and loan.late_since is not None}
    assert late == flagged and late


def test_demo_referrals_in_every_status_from_and_to_every_partner(toulouse):
    session = db.session
    statuses = set(str(s) for s in session.scalars(select(Referral.status).distinct()))
    assert {s.value for s in ReferralStatus} <= statuses
    orgs = {o.id: o.plugin_name for o in session.scalars(select(Organisation))}
    senders = {orgs[i] for i in session.scalars(select(Referral.from_organisation_id))}
    receivers = {orgs[i] for i in session.scalars(select(Referral.to_organisation_id))}
    assert {"caf", "secours_catholique", "adie", "credit_municipal"} <= senders
    assert {"caf", "secours_catholique", "adie"} <= receivers  # reorientations


def test_demo_city_declares_its_own_aids_and_the_cases_get_them(toulouse, world):
    from core import plugins
    from core.models import CaseSuggestion

    assert plugins.is_enabled("city_aids")
    aids = plugins.plugin_settings("city_aids")["aids"]
    assert [a["code"] for a in aids] == ["aide_urgence", "aide_mobilite_ville",
                                         "aide_premier_loyer"]
    rows = db.session.scalars(select(CaseSuggestion).where(
        CaseSuggestion.plugin == "city_aids")).all()
    assert rows and all(r.why and r.label for r in rows)


def test_demo_is_relative_to_the_clock_with_meetings_this_week_and_in_the_coming_days(
        toulouse, world):
    """Whatever the day: this week (Monday to Sunday, as the dashboards count it) has its
    meetings, held or to come, and meetings are planned on the coming working days (the
    social worker's "prochains jours ouvrés" chart): on a Monday, this week's; on a
    Saturday or a Sunday (the week's meetings all held), the coming week's."""
    session = db.session
    today = platform_clock.today(toulouse)
    summary = world[1]["summary"]
    assert summary.today == today
    latest = session.scalar(select(func.max(Case.intake_date)))
    assert today - timedelta(days=7) <= latest <= today
    assert summary.appointments_this_week >= 8
    planned = [platform_clock.local_day(a, toulouse) for a in session.scalars(
        select(Appointment.starts_at).where(Appointment.status == "planned"))]
    coming_week = workload.per_day(planned, today, 5)  # the next five working days
    assert sum(n for _label, _day, n in coming_week) > 0


def test_demo_review_has_figures_for_this_year_and_the_last(toulouse):
    today = platform_clock.today(toulouse)
    year = today.year
    # in January the year has hardly begun: the review of the year needs a few weeks
    for y in (year, year - 1) if today.timetuple().tm_yday > 40 else (year - 1, year - 2):
        report = build_report(db.session, toulouse, y)
        assert report["requests"] > 0 and report["instructions"] > 0, y
        assert report["granted"] > 0 and report["reorientations"]["total"] > 0, y
    assert build_report(db.session, toulouse, year - 1)["requests"] >= 300  # a full year


def test_demo_same_seed_same_data(world):
    _app, first = world
    again = demo.create_demo(db.session, slug="toulouse-bis")
    db.session.commit()
    second = again["summary"]
    assert second.states == first["summary"].states
    assert second.referrals == first["summary"].referrals
    assert second.plugins == first["summary"].plugins


PAGES = {
    "manager": ["/t/toulouse/", "/t/toulouse/cases/", "/t/toulouse/bilans/"],
    "secretary": ["/t/toulouse/", "/t/toulouse/agenda"],
    "social_worker": ["/t/toulouse/", "/t/toulouse/agenda", "/t/toulouse/cases/"],
    "lender_agent": ["/t/toulouse/"],
    "referrer": ["/t/toulouse/"],
    "funder": ["/t/toulouse/", "/t/toulouse/bilans/financeurs"],
}
EMAILS = {email: role for email, role, _org, _name in demo.USERS}


@pytest.mark.parametrize("role", list(PAGES))
def test_demo_pages_of_each_role_have_content(world, role):
    app, _result = world
    client = app.test_client()
    email = next(e for e, r in EMAILS.items() if r == role)
    response = client.post("/t/toulouse/login",
                           data={"email": email, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    for url in PAGES[role]:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        # "no case" anywhere but in the manager's "no blocked case" (a good thing)
        assert not re.search(r"Aucun dossier(?! bloqué)", response.get_data(as_text=True)), url


def test_generate_works_on_a_tenant_without_partner_plugins(world):
    """The benchmarks' use: any tenant with a CCAS and a social worker, no plugin."""
    session = db.session
    tenant = accounts.create_tenant(session, "sans-partenaires", "CCAS de Nulle-Part")
    with tenancy.tenant_scope(tenant.id):
        accounts.create_organisation(session, "CCAS de Nulle-Part", "ccas")
        accounts.create_user(session, "as@nulle-part.test", "social_worker",
                             "CCAS de Nulle-Part", "mot-de-passe-assez-long-2026")
        session.flush()
    summary = demo.generate(session, tenant, years=0.5, requests_per_year=200)
    session.commit()
    assert summary.cases == 100
    assert summary.plugins == {}
    with tenancy.tenant_scope(tenant.id):
        states = set(session.scalars(select(Case.state).distinct()))
    assert "documents_requested" in states and "ficp_pending" not in states
