"""Reorientation as DORA does it: the person's consent asked and recorded (who, when,
how); the partner reports progress and a coded outcome in the portal and the API; the
outcomes are counted per partner in the yearly review."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core import cases, workflow
from core.models import Organisation, Referral, ReferralStatus
from core.reports import export, yearly
from core.workflow import TransitionError, TransitionRequest


@pytest.fixture(autouse=True)
def _in_2026(clock):
    """The review of 2026, written in November 2026, whatever day the suite runs at."""
    clock.travel_to("2026-11-20T10:00")


@pytest.fixture
def reoriented(app, tenant, users, session, in_tenant):
    """A case reoriented to the partner association, consent given by phone."""
    with in_tenant(tenant):
        partner = session.scalar(select(Organisation).where(
            Organisation.name == "Association partenaire"))
        person = cases.create_person(session, cases.PersonData("Paul", "Durand",
                                                               date(1985, 1, 1)))
        case = cases.open_case(session, person, "employment", "2000", tenant=tenant)
        session.commit()
        workflow.apply_transition(session, case, TransitionRequest(
            "reoriented", case.version, reason="professional_project",
            destination=f"org:{partner.id}",
            data={"consent": "yes", "consent_method": "phone"}), users["social_worker"])
        session.commit()
        return session.scalar(select(Referral).where(Referral.source_case_id == case.id))


def test_a_reorientation_to_a_partner_without_consent_is_refused(app, tenant, users,
                                                                  session, in_tenant):
    with in_tenant(tenant):
        partner = session.scalar(select(Organisation).where(
            Organisation.name == "Association partenaire"))
        person = cases.create_person(session, cases.PersonData("Ana", "Sans"))
        case = cases.open_case(session, person, "employment", "2000", tenant=tenant)
        session.commit()
        request = TransitionRequest("reoriented", case.version, reason="professional_project",
                                    destination=f"org:{partner.id}")
        with pytest.raises(TransitionError, match="accepte d'être orientée"):
            workflow.apply_transition(session, case, request, users["social_worker"])
        session.rollback()
        request.data = {"consent": "yes"}
        with pytest.raises(TransitionError, match="comment la personne a donné son accord"):
            workflow.apply_transition(session, case, request, users["social_worker"])
        session.rollback()
        assert session.scalar(select(Referral)) is None


def test_consent_is_recorded_with_who_when_and_how(reoriented, users):
    assert reoriented.consent and reoriented.consent_method == "phone"
    assert reoriented.consent_by == users["social_worker"].full_name


def test_partner_reports_progress_then_outcome_in_the_portal(client, login, users,
                                                             reoriented, session, tenant,
                                                             in_tenant):
    base = f"/t/alpha/orientations/{reoriented.id}"
    login(client, users["referrer"])
    client.post(f"{base}/accepter")
    page = client.get(base).get_data(as_text=True)
    assert "Suivi de l&#39;orientation" in page or "Suivi de l'orientation" in page
    assert "par téléphone" in page
    assert client.post(f"{base}/en-cours").status_code == 302
    bad = client.post(f"{base}/suite", data={"outcome": ""})
    assert bad.status_code == 422 and 'id="outcome-erreur"' in bad.get_data(as_text=True)
    ok = client.post(f"{base}/suite", data={"outcome": "aid_granted",
                                            "outcome_message": "Prêt ADIE accordé."})
    assert ok.status_code == 302
    session.expire_all()
    with in_tenant(tenant):
        row = session.get(Referral, (tenant.id, reoriented.id))
        assert (row.status, row.outcome) == (ReferralStatus.done, "aid_granted")
        assert [h.to_status for h in row.history][-3:] == ["accepted", "in_progress", "done"]
    login(client, users["social_worker"])
    page = client.get(base).get_data(as_text=True)
    assert "Aide ou accompagnement accordé" in page and "Prêt ADIE accordé." in page


def test_partner_reports_the_outcome_through_the_api(client, users, api_token, reoriented):
    token = api_token(users["referrer"])
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/referrals/{reoriented.id}"
    too_early = client.post(f"{url}/follow-up", json={"status": "in_progress"},
                            headers={**headers, "Idempotency-Key": "k0"})
    assert too_early.status_code == 409
    client.post(f"{url}/decision", json={"decision": "accept"},
                headers={**headers, "Idempotency-Key": "k1"})
    unknown = client.post(f"{url}/follow-up", json={"status": "done", "outcome": "x"},
                          headers={**headers, "Idempotency-Key": "k2"})
    assert unknown.status_code == 422
    done = client.post(f"{url}/follow-up", json={"status": "done", "outcome": "not_reached"},
                       headers={**headers, "Idempotency-Key": "k3"})
    assert done.status_code == 200
    body = done.get_json()
    assert (body["status"], body["outcome"], body["consent_method"]) == (
        "done", "not_reached", "phone")


def test_outcomes_are_counted_per_partner_in_the_review(reoriented, users, session, tenant,
                                                        in_tenant):
    from core import referrals

    with in_tenant(tenant):
        row = session.get(Referral, (tenant.id, reoriented.id))
        referrals.accept(session, row, users["referrer"], tenant=tenant)
        referrals.report_outcome(session, row, users["referrer"], "aid_granted",
                                 tenant=tenant)
        session.commit()
        report = yearly.build_report(session, tenant, 2026)
    entry = report["partners"]["by_partner"]["Association partenaire"]
    assert entry["referrals"]["outcomes"] == {"aid_granted": 1}
    table = next(t for t in export.tables(report)
                 if t.title == "Suites données par les partenaires")
    assert table.headers == ["Partenaire", "Aide ou accompagnement accordé"]
    assert table.rows == [["Association partenaire", 1]]
