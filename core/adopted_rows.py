"""Whole rows of several models read by one Core statement, adopted as loaded objects.

Every request reads its own rows (the tenant, the signed-in user and the user's
organisation) before anything else. The ORM's load of them costs several times the read
itself; one Core read under the tenant wall (:func:`core.tenancy.scoped_select`, or a
plain ``select`` for global tables such as ``tenants``) of every column of each model,
labelled with a prefix (:func:`columns`), and :func:`adopted` for each model give the
same loaded objects (:func:`core.tenancy.adopt`): lazy loads, changes and flushes work as
on any object the session loaded.
"""

from __future__ import annotations

import functools

from . import tenancy


def columns(model, prefix: str) -> list:
    """Every column of ``model``'s table, labelled ``<prefix><column>``."""
    return [c.label(f"{prefix}{c.key}") for c in model.__table__.c]


@functools.cache
def _attributes(model, prefix: str) -> tuple[tuple[str, str], ...]:
    mapper = model.__mapper__
    return tuple((f"{prefix}{c.key}", mapper.get_property_by_column(c).key)
                 for c in model.__table__.c)


def adopted(session, model, prefix: str, row, **related):
    """The loaded ``model`` object of ``row``'s columns labelled by :func:`columns` with
    ``prefix``; ``related``: many-to-one relationships, as objects adopted before."""
    mapping = row._mapping
    values = {attr: mapping[label] for label, attr in _attributes(model, prefix)}
    return tenancy.adopt(session, model, {**values, **related})
