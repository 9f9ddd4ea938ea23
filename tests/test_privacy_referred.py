"""People known only through referrals (``core.privacy.referred``): their referrals are
taken together by names (case and spaces ignored) and birth date; a referral of a person's
file, or an anonymised one, is no one's here; the search finds them by name or birth date."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core.models import Organisation, Referral
from core.privacy import purge, referred
from core.privacy.registry import ANONYMISED
from tests.test_privacy_purge import populate


@pytest.fixture
def org_id(app, session, tenant, in_tenant):
    with in_tenant(tenant):
        return session.scalar(select(Organisation.id).where(Organisation.kind == "ccas"))


def _referral(session, org_id, first, last, born, **over) -> Referral:
    referral = Referral(from_organisation_id=org_id, to_organisation_id=org_id,
                        first_name=first, last_name=last, birth_date=born,
                        purpose="mobility", consent=True, **over)
    session.add(referral)
    session.flush()
    return referral


def test_same_person_takes_referrals_with_the_same_names_and_birth_date(
        org_id, session, tenant, in_tenant):
    born = date(1990, 5, 6)
    with in_tenant(tenant):
        first = _referral(session, org_id, "Léonie", "Marchal", born)
        again = _referral(session, org_id, "LÉONIE ", "marchal", born)
        spaced = _referral(session, org_id, "Léonie", "  Marchal", born)
        other_birth = _referral(session, org_id, "Léonie", "Marchal", date(1990, 5, 7))
        namesake = _referral(session, org_id, "Léon", "Marchal", born)
        anonymised = _referral(session, org_id, ANONYMISED, ANONYMISED, None)
        session.commit()
        # Accents and capitals compared in Python: the same group on SQLite and PostgreSQL.
        expected = {first.id, again.id, spaced.id}
        for anchor in (first, again, spaced):
            assert {r.id for r in referred.same_person(session, anchor)} == expected
        assert [r.id for r in referred.same_person(session, other_birth)] == [other_birth.id]
        assert [r.id for r in referred.same_person(session, namesake)] == [namesake.id]
        assert [r.id for r in referred.same_person(session, anonymised)] == [anonymised.id]


def test_a_referral_of_a_persons_file_is_not_a_referred_person(
        app, session, tenant, users, in_tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        person, case, _texts = populate(session, users["social_worker"], "FILE",
                                        birth=date(1972, 8, 9), intake=date(2024, 1, 5),
                                        last_contact=purge.utcnow())
        session.commit()
        incoming = session.scalar(select(Referral).where(Referral.case_id == case.id))
        outgoing = session.scalar(select(Referral).where(Referral.source_case_id == case.id))
        assert referred.has_case(incoming) and referred.has_case(outgoing)
        assert referred.linked_person(session, incoming).id == person.id
        assert referred.linked_person(session, outgoing).id == person.id
        assert referred.same_person(session, incoming) == [incoming]
        assert referred.search(session, pattern="%quatremarefile%") == []
        assert referred.search(session, born=date(1972, 8, 9)) == []


def test_search_groups_a_persons_referrals_and_finds_them_by_name_or_birth_date(
        org_id, session, tenant, in_tenant):
    born = date(1966, 3, 4)
    with in_tenant(tenant):
        a = _referral(session, org_id, "Irène", "Vautrin", born)
        b = _referral(session, org_id, "irène", "VAUTRIN", born)
        c = _referral(session, org_id, "Paul", "Vautrin", date(1960, 1, 1))
        session.commit()
        by_name = referred.search(session, pattern="%vautrin%")
        # Sorted by names: Irène before Paul.
        assert [{r.id for r in p.referrals} for p in by_name] == [{a.id, b.id}, {c.id}]
        by_birth = referred.search(session, born=born)
        assert len(by_birth) == 1 and {r.id for r in by_birth[0].referrals} == {a.id, b.id}
        assert by_birth[0].latest.id in {a.id, b.id}
        assert referred.search(session) == []
