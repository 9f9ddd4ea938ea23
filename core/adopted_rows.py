"""Whole rows of several models read by one Core statement, adopted as loaded objects.

Every request reads its own rows (the tenant, the signed-in user and the user's
organisation) before anything else. The ORM's load of them costs several times the read
itself; one Core read under the tenant wall (:func:`core.tenancy.scoped_select`, or a
plain ``select`` for global tables such as ``tenants``) of every column of each model,
labelled with a prefix (:func:`columns`), and :func:`adopted` for each model give the
same loaded objects (:func:`core.tenancy.adopt`): lazy loads, changes and flushes work as
on any object the session loaded.

New rows go the same way in reverse: :func:`inserted` writes one row at once (one Core
``INSERT`` under the tenant wall, the columns' Python defaults applied) and adopts it
as the object a flush would have left; :func:`insert_rows` writes several in one
statement without objects, for rows the request never reads back (the notices a change
queues in the outbox).
"""

from __future__ import annotations

import functools

from . import row_defaults, tenancy


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


@functools.cache
def _refuse_server_defaults(model) -> None:
    """A new row's object could not know a server-side default's value without reading
    the row back: such a model is not for this path."""
    for column in model.__table__.c:
        if column.server_default is not None:
            raise TypeError(f"inserted(): {model.__name__}.{column.key} has a server "
                            "default")


def inserted(session, model, values: dict, **related):
    """A new row of the tenant model ``model`` written at once in ``session``'s
    transaction (:func:`core.tenancy.scoped_insert`: the current tenant stamped, another
    refused) and returned as a loaded object (:func:`core.tenancy.adopt`), as the unit of
    work would leave it after its flush: ``values`` by column, the columns' Python
    defaults for the others; ``related``: many-to-one relationships, as objects held
    by the session. For the rows a hot path creates (a referral and its first status):
    the unit of work's bookkeeping cost more than the rows. No mapper event runs: a
    model with ``before_insert`` listeners or validators is not for this path."""
    row = insert_rows(session, model, [values])[0]
    return tenancy.adopt(session, model, {
        **{attr: row[key] for key, attr in _attributes(model, "")}, **related})


def insert_rows(session, model, rows: list[dict]) -> list[dict]:
    """Write new rows of the tenant model ``model`` (``rows``: values by column, the
    Python defaults for the others: ``core.row_defaults``; a column the table lacks
    refused) in one statement, without objects: for rows nobody reads back in the
    request (the notices a change queues). Returns the complete rows."""
    _refuse_server_defaults(model)
    complete = row_defaults.completer(model.__table__)
    tenant_id = tenancy.require_tenant_id()
    complete_rows = [complete(values, tenant_id) for values in rows]
    tenancy.scoped_insert(session, model.__table__, complete_rows)
    return complete_rows
