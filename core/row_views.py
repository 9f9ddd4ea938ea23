"""Read-only views of a tenant table's rows, for what a page shows.

A page's panel that only displays rows (the case page's checklist, household, syntheses,
files, appointments, follow-ups, plan, tasks) need not build ORM objects: each one costs
an identity-map entry, its instance state and the ORM statement's machinery, where the
page reads a few attributes. :func:`read` runs a Core ``SELECT`` built once by
:func:`core.tenancy.scoped_select` (one tenant table, its tenant criterion bound on each
execution, on the session's connection and transaction: PostgreSQL's row-level security
applies as for any read) and returns instances of :func:`view_of` the model: the row's
columns as attributes, with the model's own properties and methods (labels, an age, a
validity) so that a template reads them as it reads the model. They are not ORM objects:
nothing is tracked or written back, and a relationship is not there (``AttributeError``,
never a lazy load) unless the caller sets it.
"""

from __future__ import annotations

import functools
import inspect

from sqlalchemy import select

from . import tenancy


class RowView:
    """A row of a tenant table, read only (see the module)."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__dict__.get('id')}>"


@functools.cache
def view_of(model) -> type:
    """A :class:`RowView` class carrying ``model``'s properties and methods."""
    namespace: dict = {}
    for klass in reversed(model.__mro__):
        if klass is object or klass.__module__.startswith("sqlalchemy"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("__"):
                continue
            if isinstance(value, property) or inspect.isfunction(value):
                namespace[name] = value
    return type(f"{model.__name__}View", (RowView,), namespace)


def statement(model, *criteria, order_by=(), columns: tuple[str, ...] = ()):
    """The page's read of ``model``'s rows, built once at import: every column, or only
    ``columns`` (their names) when a page shows a few of a wide table's (its views then
    have those attributes only, and the properties that read no other)."""
    table = model.__table__
    read = select(*(table.c[name] for name in columns)) if columns else select(table)
    return tenancy.scoped_select(read.where(*criteria).order_by(*order_by))


def read(session, stmt, params: dict, model) -> list:
    """The rows of ``stmt`` (from :func:`statement`) for the current tenant, as views of
    ``model``. The session's pending changes are flushed first, as an ORM read would
    (a page rendered after a refused form shows what the request wrote so far; by
    ``core.tenancy.scoped_rows``)."""
    view = view_of(model)
    return [view(**row._asdict()) for row in tenancy.scoped_rows(session, stmt, params)]
