"""core.row_views: a page's read-only rows of one tenant table, with the model's
properties and methods, read under the current tenant, never ORM objects."""

from __future__ import annotations

from datetime import date

import pytest

from core import cases, row_views, tenancy
from core.cases import household
from core.models import HouseholdMember


@pytest.fixture
def two_households(app, tenant, other_tenant, session, in_tenant):
    """A person with two household members in ``tenant``, and one with one member in
    ``other_tenant``."""
    out = {}
    for t, names in ((tenant, ("Tom", "Ali")), (other_tenant, ("Eve",))):
        with in_tenant(t):
            person = cases.create_person(session, cases.PersonData("Léa", "Martin",
                                                                   date(1990, 4, 2)))
            session.flush()
            for i, name in enumerate(names):
                session.add(HouseholdMember(
                    person_id=person.id, first_name=name, last_name="Martin",
                    birth_date=date(2019 - 20 * i, 1, 1),
                    relationship="child" if i == 0 else "partner"))
            session.commit()
            out[t.slug] = person
    return out


def test_rows_carry_the_models_properties_and_methods_in_the_same_order(
        two_households, tenant, session, in_tenant):
    with in_tenant(tenant):
        person = two_households[tenant.slug]
        objects = household.members(session, person)
        rows = household.member_rows(session, person)
    assert [r.id for r in rows] == [m.id for m in objects]
    for row, member in zip(rows, objects, strict=True):
        assert not isinstance(row, HouseholdMember)
        assert row.full_name == member.full_name
        assert row.relationship_label == member.relationship_label
        assert row.age_on(date(2026, 6, 1)) == member.age_on(date(2026, 6, 1))
        assert household.is_adult(row, date(2026, 6, 1)) == household.is_adult(
            member, date(2026, 6, 1))


def test_rows_are_read_under_the_current_tenant_only(two_households, tenant, other_tenant,
                                                     session, in_tenant):
    # the other tenant's person id, asked for from this tenant: nothing
    with in_tenant(tenant):
        assert household.member_rows(session, two_households[other_tenant.slug]) == []
    with in_tenant(other_tenant):
        assert [r.first_name for r in household.member_rows(
            session, two_households[other_tenant.slug])] == ["Eve"]
    with pytest.raises(tenancy.TenantNotSet):
        household.member_rows(session, two_households[tenant.slug])


def test_a_relationship_is_absent_not_lazily_loaded():
    from datetime import UTC, datetime, timedelta

    from core.models import Appointment

    start = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    view = row_views.view_of(Appointment)(starts_at=start, duration_minutes=45,
                                          case_id=None)
    assert view.ends_at == start + timedelta(minutes=45)  # the model's property
    with pytest.raises(AttributeError):
        view.case  # noqa: B018 - the relationship is not on a view


def test_pending_changes_are_flushed_before_the_read(two_households, tenant, session,
                                                     in_tenant):
    with in_tenant(tenant):
        person = two_households[tenant.slug]
        session.add(HouseholdMember(person_id=person.id, first_name="Zoé",
                                    last_name="Martin", birth_date=None,
                                    relationship="sibling"))
        assert "Zoé" in [r.first_name for r in household.member_rows(session, person)]
        session.rollback()


def test_a_read_of_some_columns_gives_views_of_those_columns_under_the_current_tenant(
        two_households, tenant, other_tenant, session, in_tenant):
    table = HouseholdMember.__table__
    stmt = row_views.statement(HouseholdMember, order_by=(table.c.first_name,),
                               columns=("id", "first_name", "last_name"))
    assert [c.name for c in stmt.selected_columns] == ["id", "first_name", "last_name"]
    with in_tenant(tenant):
        rows = row_views.read(session, stmt, {}, HouseholdMember)
    assert [r.first_name for r in rows] == ["Ali", "Tom"]  # not the other tenant's Eve
    assert rows[0].full_name == "Ali Martin"  # a property of the columns read
    with pytest.raises(AttributeError):
        rows[0].birth_date  # noqa: B018 - a column not read is not on the view
    with in_tenant(other_tenant):
        assert [r.first_name for r in row_views.read(session, stmt, {}, HouseholdMember)] \
            == ["Eve"]
