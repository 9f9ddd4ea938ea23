"""The household: members with ages and relationship, the counts the budget reads kept
in step, a co-borrower chosen among the adults, shown in the file summary."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import select

from core import cases
from core.cases import file_summary, household
from core.errors import UserError
from core.models import AuditEvent, Case, HouseholdMember, Person
from core.privacy import purge


@pytest.fixture
def case(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Léa", "Martin",
                                                               date(1990, 4, 2)))
        c = cases.open_case(session, person, "mobility", "1500", tenant=tenant)
        session.commit()
        return c


def test_counts_are_pure_and_count_the_person_as_an_adult():
    today = date(2026, 11, 16)
    kid = HouseholdMember(first_name="Tom", last_name="M", birth_date=date(2019, 1, 1),
                          relationship="child")
    partner = HouseholdMember(first_name="Ali", last_name="M", birth_date=None,
                              relationship="partner")
    teen = HouseholdMember(first_name="Zoé", last_name="M", birth_date=date(2008, 11, 16),
                           relationship="child")
    assert household.counts([kid, partner, teen], today) == (3, [7])


def test_members_keep_the_budget_counts_in_step(case, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        c = session.get(Case, (tenant.id, case.id))
        household.add_member(session, c.person, {"first_name": "Ali", "relationship":
                                                 "partner", "birth_date": "1988-02-01"},
                             users["social_worker"], tenant)
        household.add_member(session, c.person, {"first_name": "Tom", "relationship": "child",
                                                 "birth_date": "2019-06-01"},
                             users["social_worker"], tenant)
        session.commit()
        person = session.get(Person, (tenant.id, c.person_id))
        assert (person.adults, person.children_ages) == (2, [7])
        assert [m.last_name for m in household.members(session, person)] == ["Martin"] * 2


def test_a_child_needs_a_birth_date_and_every_error_is_named(case, session, tenant,
                                                             in_tenant, users):
    with in_tenant(tenant):
        c = session.get(Case, (tenant.id, case.id))
        with pytest.raises(UserError) as err:
            household.add_member(session, c.person, {"relationship": "child"},
                                 users["social_worker"], tenant)
    assert set(err.value.errors) == {"first_name", "birth_date"}


def test_co_borrower_is_an_adult_of_the_household(case, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        c = session.get(Case, (tenant.id, case.id))
        ali = household.add_member(session, c.person, {"first_name": "Ali", "relationship":
                                                       "spouse", "birth_date": "1988-02-01"},
                                   users["social_worker"], tenant)
        tom = household.add_member(session, c.person, {"first_name": "Tom", "relationship":
                                                       "child", "birth_date": "2019-06-01"},
                                   users["social_worker"], tenant)
        with pytest.raises(UserError, match="majeur"):
            household.set_co_borrower(session, c, tom.id, users["social_worker"], tenant)
        household.set_co_borrower(session, c, ali.id, users["social_worker"], tenant)
        session.commit()
        assert [b.role for b in household.borrowers(session, c)] == ["borrower",
                                                                      "co_borrower"]
        with pytest.raises(UserError, match="co-emprunteuse"):
            household.remove_member(session, ali, users["social_worker"], tenant)
        summary = file_summary.build(session, c, tenant)
    assert ("Ali Martin", "Conjoint(e) marié(e) ou pacsé(e)", 38, True) in summary.household


def test_household_pages_add_and_choose_a_co_borrower(client, login, users, case, session,
                                                      tenant, in_tenant):
    login(client, users["secretary"])
    base = f"/t/alpha/cases/{case.id}/household"
    page = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert "Ajouter un membre du foyer" in page
    bad = client.post(f"{base}/members", data={"first_name": "", "relationship": ""})
    assert bad.status_code == 422 and 'id="hh-first_name-erreur"' in bad.get_data(as_text=True)
    assert client.post(f"{base}/members", data={
        "first_name": "Ali", "last_name": "Benali", "birth_date": "1985-03-04",
        "relationship": "partner"}).status_code == 302
    with in_tenant(tenant):
        ali = session.scalar(select(HouseholdMember))
    assert client.post(f"{base}/co-borrower", data={"co_borrower": str(ali.id)}
                       ).status_code == 302
    session.expire_all()
    with in_tenant(tenant):
        assert session.get(Case, (tenant.id, case.id)).co_borrower_id == ali.id
    page = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert "Ali Benali" in page


def test_a_member_is_corrected_from_the_page(client, login, users, case, session, tenant,
                                            in_tenant, other_tenant, make_user):
    with in_tenant(tenant):
        member = household.add_member(session, case.person, {
            "first_name": "Nino", "last_name": "", "birth_date": "2014-06-01",
            "relationship": "child"}, tenant=tenant)
        session.commit()
    login(client, users["social_worker"])
    base = f"/t/alpha/cases/{case.id}/household"
    panel = html.unescape(client.get(base + "/").get_data(as_text=True))
    assert f'href="{base}/members/{member.id}/edit"' in panel and "Modifier" in panel
    form = html.unescape(client.get(f"{base}/members/{member.id}/edit").get_data(as_text=True))
    assert 'value="Nino"' in form and 'value="2014-06-01"' in form
    assert '<option value="child" selected>' in form
    # a child needs a birth date: the error is shown at the field, nothing is changed
    bad = client.post(f"{base}/members/{member.id}/edit", data={
        "first_name": "Nina", "last_name": "Martin", "birth_date": "",
        "relationship": "child"})
    assert bad.status_code == 422
    assert 'id="hh-birth_date-erreur"' in bad.get_data(as_text=True)
    session.expire_all()
    with in_tenant(tenant):
        assert session.get(HouseholdMember, (tenant.id, member.id)).first_name == "Nino"
    ok = client.post(f"{base}/members/{member.id}/edit", data={
        "first_name": "Nina", "last_name": "Martin", "birth_date": "2014-06-11",
        "relationship": "child"})
    assert ok.status_code == 302
    session.expire_all()
    with in_tenant(tenant):
        saved = session.get(HouseholdMember, (tenant.id, member.id))
        assert (saved.first_name, saved.birth_date) == ("Nina", date(2014, 6, 11))
        assert session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "household.update")) == "household.update"
    # another tenant's account finds no such member
    other = client.application.test_client()
    login(other, make_user(other_tenant, "secretary"))
    assert other.get(f"/t/beta/cases/{case.id}/household/members/{member.id}/edit"
                     ).status_code == 404


def test_another_tenant_cannot_touch_the_household(client, login, case, other_tenant,
                                                   make_user):
    login(client, make_user(other_tenant, "secretary"))
    r = client.post(f"/t/beta/cases/{case.id}/household/members",
                    data={"first_name": "X", "relationship": "other"})
    assert r.status_code == 404


def test_erasure_anonymises_the_household(case, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        c = session.get(Case, (tenant.id, case.id))
        household.add_member(session, c.person, {"first_name": "Ali", "last_name": "Benali",
                                                 "relationship": "partner"},
                             users["social_worker"], tenant)
        session.commit()
        purge.anonymise_person(session, session.get(Person, (tenant.id, c.person_id)))
        session.commit()
        member = session.scalar(select(HouseholdMember))
    assert (member.first_name, member.last_name) == ("Anonymisé", "Anonymisé")
