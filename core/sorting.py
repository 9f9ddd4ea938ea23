"""Sortable lists: a request's ``?sort=<column>&dir=asc|desc`` read against a whitelist.

One helper for every list a person works from (the case list, the referrals, the lender's
loans). Pure: no request, no session. A list declares a :class:`SortSpec` (its columns,
each with what it orders by, and its default), :func:`sort_from` reads the request's
parameters (anything unknown gives the default: never an error, never a column name
that reaches SQL), then :func:`order_by` gives the ``ORDER BY`` clauses of a query, or
:func:`sort_rows` sorts rows already in memory (columns computed in Python).

The column headers come from the macro ``sort_th`` of ``templates/_sort.html``: a link
(or a button in a form, for a list whose filters travel by POST) with ``aria-sort`` on
the sorted column and the direction said in words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

ASC, DESC = "asc", "desc"


@dataclass(frozen=True)
class SortColumn:
    """What a column orders by: SQL expressions (for :func:`order_by`) or key functions
    of a row (for :func:`sort_rows`), the first deciding, the next breaking ties; the
    direction of a first click (``desc`` for dates people want newest first);
    ``nulls_last``: empty values after the others in both directions (an unassigned
    case after the assigned ones; SQL ``NULLS LAST``)."""

    order: Sequence
    first: str = ASC
    nulls_last: bool = False


@dataclass(frozen=True)
class SortSpec:
    columns: Mapping[str, SortColumn]
    default: str
    default_dir: str = ASC

    def __post_init__(self):
        if self.default not in self.columns:
            raise ValueError(f"default sort column {self.default!r} is not a column")


@dataclass(frozen=True)
class Sorting:
    """The sort a list is shown in."""

    spec: SortSpec = field(repr=False)
    key: str
    direction: str

    @property
    def descending(self) -> bool:
        return self.direction == DESC

    @property
    def is_default(self) -> bool:
        return self.key == self.spec.default and self.direction == self.spec.default_dir

    def aria(self, key: str) -> str | None:
        """``aria-sort`` of the header of column ``key`` (``None``: not sorted on it)."""
        if key != self.key:
            return None
        return "descending" if self.descending else "ascending"

    def next_dir(self, key: str) -> str:
        """The direction a click on ``key``'s header asks for: the other one on the
        sorted column, the column's first direction on another."""
        if key == self.key:
            return ASC if self.descending else DESC
        return self.spec.columns[key].first

    def params(self, key: str | None = None) -> dict[str, str]:
        """The query parameters of a link sorting on ``key`` (the next direction), or of
        the current sort when ``key`` is ``None`` (pagination, filter forms); empty for
        the default sort, so that default URLs stay as they were."""
        if key is None:
            return {} if self.is_default else {"sort": self.key, "dir": self.direction}
        return {"sort": key, "dir": self.next_dir(key)}


def sort_from(args: Mapping, spec: SortSpec) -> Sorting:
    """The sort asked for by ``args`` (``sort``, ``dir``): an unknown column gives the
    default sort, an unknown direction the column's first one."""
    key = args.get("sort")
    if not isinstance(key, str) or key not in spec.columns:
        return Sorting(spec, spec.default, spec.default_dir)
    direction = args.get("dir")
    if direction not in (ASC, DESC):
        direction = spec.default_dir if key == spec.default else spec.columns[key].first
    return Sorting(spec, key, direction)


def order_by(sorting: Sorting) -> list:
    """``ORDER BY`` clauses (SQLAlchemy) of ``sorting``: every expression of the column
    in the sort's direction."""
    column = sorting.spec.columns[sorting.key]
    clauses = []
    for expression in column.order:
        clause = expression.desc() if sorting.descending else expression.asc()
        clauses.append(clause.nulls_last() if column.nulls_last else clause)
    return clauses


def sort_rows(rows: Iterable, sorting: Sorting) -> list:
    """``rows`` sorted by ``sorting`` whose column's ``order`` are key functions of a row;
    a ``None`` key goes after the others in both directions."""
    column = sorting.spec.columns[sorting.key]
    result = list(rows)
    # stable sorts from the last tie-breaker to the first
    for key in reversed(column.order):
        result = _sorted(result, key, sorting.descending)
    return result


def _sorted(rows: list, key: Callable, descending: bool) -> list:
    present = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    return sorted(present, key=key, reverse=descending) + missing
