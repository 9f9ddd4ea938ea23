"""Secours Catholique plugin: eligibility hint, destination, flows both ways."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from core import accounts, cases, plugins
from core.plugin_api import Organisation, Referral, hooks
from plugins.secours_catholique import fits_own_microcredit
from plugins.secours_catholique.settings import SecoursCatholiqueSettings

DEFAULTS = SecoursCatholiqueSettings().load({})


def test_its_own_microcredit_fits_above_the_ccas_ceiling_within_its_own():
    assert fits_own_microcredit(DEFAULTS, "mobility", Decimal("4000"))
    assert not fits_own_microcredit(DEFAULTS, "mobility", Decimal("3000"))
    assert not fits_own_microcredit(DEFAULTS, "mobility", Decimal("5000.01"))
    assert not fits_own_microcredit(DEFAULTS, "debts", Decimal("4000"))


def test_a_large_request_gets_the_hint_and_a_small_one_does_not(app, tenant, enable_plugin,
                                                               in_tenant, session, users):
    enable_plugin(tenant, "secours_catholique", own_microcredit_max="6000")
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Jo", "Lee", date(1970, 1, 1)))
        big = cases.open_case(session, person, "housing", "5500", actor=users["secretary"])
        small = cases.open_case(session, person, "housing", "900", actor=users["secretary"])
        [[hint]] = hooks().ccas_suggest_alternatives(case=big)
        assert hooks().ccas_suggest_alternatives(case=small) == []
    assert hint.code == "microcredit_secours_catholique" and not hint.blocking
    assert "jusqu'à 6\u202f000,00\u00a0€" in hint.why


def test_settings_are_validated(app, tenant, in_tenant, session):
    with in_tenant(tenant):
        try:
            plugins.update_settings(session, "secours_catholique", {"suggest_above": "-1"})
        except plugins.PluginError as exc:
            assert "suggest_above" in exc.errors
        else:
            raise AssertionError("a negative amount was accepted")


def test_flows_both_ways_with_their_outcomes_are_reported(app, tenant, enable_plugin,
                                                          in_tenant, session):
    enable_plugin(tenant, "secours_catholique")
    year = cases.local_today(tenant).year
    with in_tenant(tenant):
        sc = accounts.create_organisation(session, "Secours Catholique 31", "association",
                                          plugin_name="secours_catholique")
        ccas = session.scalar(select(Organisation).where(Organisation.kind == "ccas"))
        for status in ("granted", "declined"):
            session.add(Referral(from_organisation_id=sc.id, to_organisation_id=ccas.id,
                                 first_name="A", last_name="B", purpose="mobility",
                                 consent=True, status=status))
        session.add(Referral(from_organisation_id=ccas.id, to_organisation_id=sc.id,
                             first_name="C", last_name="D", purpose="housing", consent=True,
                             status="accepted"))
        session.commit()
        answers = hooks().ccas_reorientation_destinations.answers()
        [destination] = [d for name, found in answers.results
                         if name == "secours_catholique" for d in found]
        [section] = hooks().ccas_report_sections(tenant=tenant, year=year, session=session)
    assert destination.organisation_name == "Secours Catholique 31"
    assert section.data["referrals_in_by_status"] == {"declined": 1, "granted": 1}
    assert section.data["referrals_out_by_status"] == {"accepted": 1}
    assert section.data["reoriented_out"] == 0


def _reorient_to(session, tenant, in_tenant, users, org):
    from core import workflow
    from core.workflow import TransitionRequest

    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Jo", "Lee", date(1970, 1, 1)))
        case = cases.open_case(session, person, "housing", "4500", actor=users["secretary"],
                               tenant=tenant)
        workflow.apply_transition(session, case, TransitionRequest(
            "reoriented", case.version, reason="better_scheme", destination=f"org:{org.id}",
            data={"consent": "yes", "consent_method": "in_person"}),
            users["secretary"])
        session.commit()


def test_a_person_reoriented_to_the_association_is_announced_to_its_desk(
        app, tenant, enable_plugin, in_tenant, session, users):
    from core.models import OutboxMessage

    enable_plugin(tenant, "secours_catholique", contact_email="microcredit@sc31.example")
    with in_tenant(tenant):
        sc = accounts.create_organisation(session, "Secours Catholique 31", "association",
                                          plugin_name="secours_catholique")
        other = accounts.create_organisation(session, "UDAF 31", "association")
        session.commit()
    _reorient_to(session, tenant, in_tenant, users, sc)
    _reorient_to(session, tenant, in_tenant, users, other)
    with in_tenant(tenant):
        mails = session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == "microcredit@sc31.example")).all()
    assert len(mails) == 1
    assert "oriente vers le microcrédit du Secours Catholique une personne (J. L.)" in (
        mails[0].payload["text"])
    assert "Lee" not in mails[0].payload["text"]


def test_without_a_contact_address_the_desk_gets_nothing_more(app, tenant, enable_plugin,
                                                               in_tenant, session, users):
    from core.models import OutboxMessage

    enable_plugin(tenant, "secours_catholique")
    with in_tenant(tenant):
        sc = accounts.create_organisation(session, "Secours Catholique 31", "association",
                                          plugin_name="secours_catholique")
        session.commit()
    _reorient_to(session, tenant, in_tenant, users, sc)
    with in_tenant(tenant):
        topics = session.scalars(select(OutboxMessage.topic)).all()
    assert not [t for t in topics if t.endswith(":secours_catholique")]
