"""Sortable lists (``core.sorting``): the request's sort read against a whitelist, the
ORDER BY it gives, in-memory sorting; the case list sorted by each column, keeping its
filters and pages, with ``aria-sort`` and the direction in words; an unknown sort is
the default, never an error."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import column

from core import cases, sorting
from core.models import State

SPEC = sorting.SortSpec({
    "name": sorting.SortColumn((column("name"), column("id"))),
    "day": sorting.SortColumn((column("day"),), first="desc"),
}, default="day", default_dir="desc")


# -- the pure helper -----------------------------------------------------------------------


def test_an_unknown_column_or_direction_gives_the_default_never_an_error():
    for args in ({}, {"sort": "password"}, {"sort": "name; drop table"}, {"sort": ["x"]},
                 {"sort": "", "dir": "desc"}):
        s = sorting.sort_from(args, SPEC)
        assert (s.key, s.direction, s.is_default) == ("day", "desc", True)
    assert sorting.sort_from({"sort": "name", "dir": "sideways"}, SPEC).direction == "asc"
    assert sorting.sort_from({"sort": "day", "dir": "up"}, SPEC).direction == "desc"


def test_a_known_column_is_sorted_as_asked():
    s = sorting.sort_from({"sort": "name", "dir": "desc"}, SPEC)
    assert (s.key, s.direction, s.is_default) == ("name", "desc", False)
    assert [str(c) for c in sorting.order_by(s)] == ["name DESC", "id DESC"]
    asc = sorting.sort_from({"sort": "name", "dir": "asc"}, SPEC)
    assert [str(c) for c in sorting.order_by(asc)] == ["name ASC", "id ASC"]


def test_headers_flip_the_sorted_column_and_start_others_in_their_first_direction():
    s = sorting.sort_from({"sort": "name", "dir": "asc"}, SPEC)
    assert s.aria("name") == "ascending" and s.aria("day") is None
    assert s.params("name") == {"sort": "name", "dir": "desc"}
    assert s.params("day") == {"sort": "day", "dir": "desc"}  # dates: newest first
    assert s.params() == {"sort": "name", "dir": "asc"}
    assert sorting.sort_from({}, SPEC).params() == {}  # default URLs stay as they were


def test_rows_in_memory_sort_with_empty_values_last_both_ways():
    spec = sorting.SortSpec({"n": sorting.SortColumn((lambda r: r[1], lambda r: r[0]))},
                            default="n")
    rows = [("a", 2), ("b", None), ("c", 1), ("d", 2)]
    up = sorting.sort_rows(rows, sorting.sort_from({"sort": "n", "dir": "asc"}, spec))
    down = sorting.sort_rows(rows, sorting.sort_from({"sort": "n", "dir": "desc"}, spec))
    assert [r[0] for r in up] == ["c", "a", "d", "b"]
    assert [r[0] for r in down] == ["d", "a", "c", "b"]


def test_a_default_must_be_one_of_the_columns():
    with pytest.raises(ValueError):
        sorting.SortSpec({"a": sorting.SortColumn(())}, default="b")


# -- the case list ---------------------------------------------------------------------------


@pytest.fixture
def three_cases(session, tenant, in_tenant, users):
    """Three cases: (last name, amount, intake day, state, worker?)."""
    made = {}
    with in_tenant(tenant):
        for last, amount, day, state, worker in (
                ("Bernard", "900", date(2026, 3, 2), State.evaluation, True),
                ("Adam", "2500", date(2026, 1, 5), State.intake, False),
                ("Colin", "300", date(2026, 2, 9), State.instruction, True)):
            person = cases.create_person(session, cases.PersonData("Léa", last,
                                                                   date(1990, 1, 1)))
            case = cases.open_case(session, person, "mobility", amount,
                                   actor=users["secretary"], intake_date=day)
            case.state = state.value
            case.social_worker_id = users["social_worker"].id if worker else None
            made[last] = case.reference
        session.commit()
    return made


def _order(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<td>(\w+) Léa</td>", body)


@pytest.mark.parametrize(("args", "expected"), [
    ("", ["Bernard", "Colin", "Adam"]),  # default: newest intake first, as before
    ("?sort=person&dir=asc", ["Adam", "Bernard", "Colin"]),
    ("?sort=person&dir=desc", ["Colin", "Bernard", "Adam"]),
    ("?sort=amount&dir=asc", ["Colin", "Bernard", "Adam"]),
    ("?sort=amount&dir=desc", ["Adam", "Bernard", "Colin"]),
    ("?sort=intake_date&dir=asc", ["Adam", "Colin", "Bernard"]),
    ("?sort=state&dir=asc", ["Adam", "Bernard", "Colin"]),  # the workflow's order
    ("?sort=worker&dir=asc", ["Bernard", "Colin", "Adam"]),  # unassigned last
    ("?sort=worker&dir=desc", ["Colin", "Bernard", "Adam"]),
    ("?sort=reference&dir=asc", ["Bernard", "Adam", "Colin"]),
    ("?sort=drop_table&dir=asc", ["Bernard", "Colin", "Adam"]),  # unknown: default
])
def test_the_case_list_sorts_by_each_column(client, users, login, three_cases, args,
                                            expected):
    login(client, users["manager"])
    response = client.get("/t/alpha/cases/" + args)
    assert response.status_code == 200
    assert _order(response.get_data(as_text=True)) == expected


def test_the_sorted_header_says_its_direction_and_keeps_the_filters(client, users, login,
                                                                   three_cases):
    login(client, users["manager"])
    html = client.get("/t/alpha/cases/?sort=amount&dir=asc&purpose=mobility"
                      ).get_data(as_text=True)
    header = re.search(r'<th scope="col" aria-sort="ascending"[^>]*>(.*?)</th>', html, re.S)
    assert header and "Montant" in header.group(1)
    assert "trié par ordre croissant" in header.group(1)
    assert html.count("aria-sort=") == 1
    # the sorted column's header reverses it, filters kept, back to the first page
    assert 'href="/t/alpha/cases/?purpose=mobility&amp;sort=amount&amp;dir=desc"' in html
    # the filter form keeps the sort
    assert '<input type="hidden" name="sort" value="amount">' in html
    default = client.get("/t/alpha/cases/").get_data(as_text=True)
    assert re.search(r'aria-sort="descending"[^>]*><a[^>]*>Reçue le', default)


def test_the_pages_keep_the_sort(client, users, login, three_cases, monkeypatch):
    from core.web import cases as case_pages

    monkeypatch.setattr(case_pages, "PER_PAGE", 2)
    login(client, users["manager"])
    first = client.get("/t/alpha/cases/?sort=person&dir=asc").get_data(as_text=True)
    assert _order(first) == ["Adam", "Bernard"]
    assert "page=2&amp;sort=person&amp;dir=asc" in first
    second = client.get("/t/alpha/cases/?page=2&sort=person&dir=asc").get_data(as_text=True)
    assert _order(second) == ["Colin"]


def test_a_name_search_sorts_by_post_and_keeps_the_name_out_of_urls(client, users, login,
                                                                    three_cases):
    login(client, users["manager"])
    response = client.post("/t/alpha/cases/", data={"q": "Léa", "sort": "person",
                                                     "dir": "desc"})
    html = response.get_data(as_text=True)
    assert _order(html) == ["Colin", "Bernard", "Adam"]
    assert "q=L" not in html and 'href="/t/alpha/cases/?' not in html
    assert '<input type="hidden" name="q" value="Léa">' in html


def test_the_api_list_keeps_its_order_and_refuses_sort_parameters(client, users, api_token,
                                                                  three_cases):
    """The page's sort is the page's: the API's list (offset pages with ``has_more``)
    keeps its one order and still refuses parameters it does not know."""
    headers = {"Authorization": f"Bearer {api_token(users['secretary'])}"}
    assert client.get("/api/v1/cases?sort=person&dir=asc", headers=headers).status_code == 400
    body = client.get("/api/v1/cases?per_page=2", headers=headers).get_json()
    assert [item["reference"] for item in body["items"]] == [three_cases["Bernard"],
                                                             three_cases["Colin"]]
    assert body["has_more"] is True


# -- the referral lists ----------------------------------------------------------------------


def test_the_referral_lists_sort_by_person_and_keep_the_status_filter(app, users, login,
                                                                     clock):
    from tests.test_referral_portal import submit

    client = app.test_client()
    login(client, users["referrer"])
    for last in ("Martin", "Abadie", "Zola"):
        assert submit(client, last_name=last).status_code == 302
        clock.travel_to(clock.now() + timedelta(minutes=5))

    def order(query):
        html = client.get("/t/alpha/orientations/" + query).get_data(as_text=True)
        sent = html.split('id="table-envoyees"', 1)[1].split("</table>", 1)[0]
        return re.findall(r"<td>Léa (\w+)</td>", sent), html

    assert order("")[0] == ["Zola", "Abadie", "Martin"]  # the last change first
    names, html = order("?sort=person&dir=asc")
    assert names == ["Abadie", "Martin", "Zola"]
    assert html.count('aria-sort="ascending"') == 3  # one per table of the page
    assert order("?sort=person&dir=desc")[0] == ["Zola", "Martin", "Abadie"]
    assert order("?sort=unknown")[0] == ["Zola", "Abadie", "Martin"]
    _names, html = order("?statut=sent&sort=person&dir=asc")
    assert "statut=sent&amp;sort=person&amp;dir=desc" in html
