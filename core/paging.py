"""Page numbers and page sizes read from a query string, bounded so that an offset never
leaves the database's integer range (``?page=9223372036854775807``); and where a page
stands in a list counted up to a cap (:class:`Pages`, drawn by the ``pagination`` macro of
``core/web/templates/_pagination.html``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from .errors import UserError

#: The last page anyone can ask for: far beyond any list, far below the 64-bit offset limit.
MAX_PAGE = 100_000


def bounded_int(raw: str | None, field: str, default: int, low: int, high: int) -> int:
    """``raw`` as an integer within ``[low, high]`` (``default`` when absent or empty);
    anything else is a 422 naming the field and its bounds (API parameters)."""
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(high))):
        value = None
    else:
        value = int(text)
    if value is None or not low <= value <= high:
        raise UserError(f"{field} : un nombre entier entre {low} et {high} est attendu.",
                        status=422, field=field,
                        message_en=f"{field}: an integer between {low} and {high}.")
    return value


def page_from(raw: str | None) -> int:
    """A page number for a page of the site: anything unreadable is the first page, a
    number beyond :data:`MAX_PAGE` the last one allowed (a list then shows nothing)."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()):
        return 1
    digits = text.lstrip("0")
    return min(max(int(digits[:7] or "0"), 1), MAX_PAGE) if len(digits) <= 7 else MAX_PAGE


def count_at_most(session, stmt, cap: int) -> int:
    """How many rows ``stmt`` (a select) gives, reading at most ``cap + 1`` of them: a
    result above ``cap`` means "more than ``cap``". A list page counts this way so that
    its cost stops growing with the tenant's history."""
    limited = stmt.order_by(None).limit(cap + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(limited)) or 0)


def capped(rows: list, cap: int) -> tuple[list, bool]:
    """A list read with one row more than it shows (``.limit(cap + 1)``) cut to ``cap``,
    and whether rows were left out: a count or heading then says "plus de ``cap``"
    (the ``shown_count`` macro of ``dashboards/_counts.html``), never a cut total."""
    return rows[:cap], len(rows) > cap


def page_count(total: int, per_page: int, cap: int) -> int | None:
    """How many pages ``total`` rows make, at least one; ``None`` when ``total`` is above
    ``cap`` (counted by :func:`count_at_most`: the last page is then unknown)."""
    if total > cap:
        return None
    return max((total + per_page - 1) // per_page, 1)


def page_within(page: int, total: int, per_page: int, cap: int) -> int:
    """The page to show when ``page`` is asked of ``total`` rows counted up to ``cap``:
    ``page`` itself, or the last page when the list ends before it (an old link, a number
    typed in the address: the end of the list, not an empty table under "page 50 of 9").
    Beyond the cap the last page is unknown and ``page`` is kept."""
    last = page_count(total, per_page, cap)
    return page if last is None else min(page, last)


@dataclass(frozen=True)
class Pages:
    """Where page ``page`` stands in a list of ``total`` rows counted up to ``cap`` (a
    ``total`` above ``cap`` means "more than ``cap``"), ``shown`` of them on this page;
    ``asked`` is the page that was asked for when it lay past the last one (see
    :func:`page_within`), the page shown being then the last.

    Beyond the cap the last page is unknown: the pages go on while they are full, and a
    page asked past their end is empty (:attr:`past_end`)."""

    page: int
    total: int
    per_page: int
    cap: int
    shown: int
    asked: int | None = None

    @property
    def moved(self) -> bool:
        """The page asked for lay past the last one: the last is shown instead."""
        return self.asked is not None and self.asked > self.page

    @property
    def past_end(self) -> bool:
        """A page after the first with nothing on it: asked past the end of a list whose
        last page is unknown (beyond the cap)."""
        return self.page > 1 and self.shown == 0

    @property
    def beyond(self) -> bool:
        """The count stopped at the cap: "more than ``cap``"."""
        return self.total > self.cap

    @property
    def last(self) -> int | None:
        """The number of pages; ``None`` beyond the cap."""
        return page_count(self.total, self.per_page, self.cap)

    @property
    def several(self) -> bool:
        """More than one page, or an unknown number of them: the page shows its number
        and the links to the others."""
        return self.last is None or self.last > 1

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        last = self.last
        return self.page < last if last is not None else self.shown == self.per_page
