"""Page numbers and page sizes read from a query string, bounded so that an offset never
leaves the database's integer range (``?page=9223372036854775807``)."""

from __future__ import annotations

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
