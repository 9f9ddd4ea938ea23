"""core.paging: where a page stands in a list counted up to a cap (pure, no database)."""

from __future__ import annotations

import pytest

from core.paging import Pages, capped, page_count, page_within


@pytest.mark.parametrize(("total", "expected"), [
    (0, 1), (1, 1), (25, 1), (26, 2), (50, 2), (51, 3), (10_000, 400),
])
def test_page_count_is_at_least_one_and_rounds_up(total, expected):
    assert page_count(total, 25, 10_000) == expected


def test_page_count_is_unknown_above_the_cap():
    assert page_count(10_001, 25, 10_000) is None
    assert page_count(10_000, 25, 10_000) == 400  # the cap itself is an exact count


def test_a_single_page_shows_no_links():
    pages = Pages(page=1, total=3, per_page=25, cap=10_000, shown=3)
    assert pages.last == 1 and not pages.beyond
    assert not pages.several and not pages.has_previous and not pages.has_next


def test_an_empty_list_has_one_page():
    pages = Pages(page=1, total=0, per_page=25, cap=10_000, shown=0)
    assert pages.last == 1 and not pages.several and not pages.has_next


def test_counted_pages_link_to_their_neighbours_up_to_the_last():
    first = Pages(page=1, total=30, per_page=25, cap=10_000, shown=25)
    assert first.last == 2 and first.several
    assert not first.has_previous and first.has_next
    last = Pages(page=2, total=30, per_page=25, cap=10_000, shown=5)
    assert last.has_previous and not last.has_next


def test_a_full_last_page_has_no_next_page_when_counted():
    pages = Pages(page=2, total=50, per_page=25, cap=10_000, shown=25)
    assert not pages.has_next


def test_beyond_the_cap_pages_go_on_while_they_are_full():
    full = Pages(page=3, total=5, per_page=2, cap=4, shown=2)
    assert full.beyond and full.last is None and full.several
    assert full.has_previous and full.has_next
    short = Pages(page=4, total=5, per_page=2, cap=4, shown=1)
    assert short.has_previous and not short.has_next
    past_the_end = Pages(page=9, total=5, per_page=2, cap=4, shown=0)
    assert not past_the_end.has_next


@pytest.mark.parametrize(("asked", "expected"), [(1, 1), (2, 2), (3, 3), (4, 3), (50, 3)])
def test_a_page_past_the_last_is_the_last(asked, expected):
    assert page_within(asked, 7, 3, 100) == expected


def test_beyond_the_cap_the_page_asked_is_kept():
    assert page_within(50, 101, 3, 100) == 50


def test_pages_say_when_the_last_was_shown_for_a_page_past_it():
    moved = Pages(page=9, total=220, per_page=25, cap=10_000, shown=20, asked=50)
    assert moved.moved and not moved.past_end and not moved.has_next
    asked_there = Pages(page=9, total=220, per_page=25, cap=10_000, shown=20, asked=9)
    assert not asked_there.moved
    assert not Pages(page=2, total=30, per_page=25, cap=10_000, shown=5).moved


def test_an_empty_page_beyond_the_cap_is_past_the_end():
    assert Pages(page=9, total=5, per_page=2, cap=4, shown=0).past_end
    assert not Pages(page=4, total=5, per_page=2, cap=4, shown=1).past_end
    assert not Pages(page=1, total=0, per_page=25, cap=10_000, shown=0).past_end


@pytest.mark.parametrize(("read", "cap", "shown", "beyond"), [
    ([], 3, [], False), ([1, 2, 3], 3, [1, 2, 3], False), ([1, 2, 3, 4], 3, [1, 2, 3], True),
])
def test_a_list_read_one_past_its_cap_is_cut_and_says_rows_were_left_out(read, cap, shown,
                                                                         beyond):
    assert capped(read, cap) == (shown, beyond)
