"""core.cases.items: the two light row shapes of a case, each reading only its columns."""

from __future__ import annotations

from datetime import date

from core import cases
from core.cases import items


def test_a_page_list_row_reads_six_columns_and_the_api_row_its_document():
    """The pages' lists read the case's reference, state and person's names only; the
    API's list the columns of a case document: one shape does not widen the other."""
    assert len(items.CASE_ITEM.selected_columns) == 6
    assert len(items.LISTED_CASE.selected_columns) == 24
    assert len(items.CaseItem._fields) == 5 and items.PersonName._fields == (
        "first_name", "last_name")


def test_rows_read_through_the_session_carry_the_case_and_its_person(session, tenant,
                                                                     in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Léa", "Martin",
                                                               date(1990, 5, 4)))
        case = cases.open_case(session, person, "health", "300", tenant=tenant)
        session.commit()
        item = items.case_item(session.execute(items.CASE_ITEM).one())
        assert (item.id, item.reference, item.state) == (case.id, case.reference,
                                                         str(case.state))
        assert item.person.full_name == "Léa Martin"
        listed = items.listed_case(session.execute(items.LISTED_CASE).one())
        assert (listed.id, listed.reference, listed.amount_requested) == (
            case.id, case.reference, case.amount_requested)
        assert (listed.person.id, listed.person.last_name, listed.person.birth_date) == (
            person.id, "Martin", date(1990, 5, 4))
