"""A new row's values: those the caller gives, the columns' Python defaults for the rest.

One completion serves the rows a request writes by Core (``core.adopted_rows``: a
referral, its first status, the notices it queues) and the bulk loads
(``core.demo.rows``: the demonstration data, the benchmarks, legacy imports), so that a
row written either way holds what the unit of work would have written: the scalar
defaults as they are, the callable ones (``utcnow``, ``dict``…) called for each row, the
tenant stamped, and a column the table lacks refused (never silently dropped).
"""

from __future__ import annotations

import functools


@functools.cache
def defaults(table) -> dict:
    """``{column: default}`` of ``table``, in its column order: the column's Python
    default (a scalar, or a callable called per row: SQLAlchemy's wrapper, taking the
    execution context), ``None`` where it has none. A default written in SQL is refused
    (its value is the database's to compute: the row would silently differ from the
    unit of work's). Built once per table; not to be changed by the caller."""
    out = {}
    for column in table.columns:
        default = column.default
        if default is None:
            out[column.name] = None
        elif default.is_scalar or default.is_callable:
            out[column.name] = default.arg
        else:
            raise TypeError(f"{table.name}.{column.name}: a SQL default, not completed "
                            "here; give its value")
    return out


class Completer:
    """Full records of one table: the defaults sorted once into constants and callables,
    every record built in the column order of the table."""

    def __init__(self, table):
        table_defaults = defaults(table)
        self.table, self.names = table, frozenset(table_defaults)
        self.base = {name: (None if callable(d) else d) for name, d in table_defaults.items()}
        self.calls = [(name, d) for name, d in table_defaults.items() if callable(d)]

    def __call__(self, values: dict, tenant_id: int) -> dict:
        """``values`` then the defaults of the missing columns; ``tenant_id`` unless
        ``values`` gives one (another tenant's is refused on writing)."""
        # the base's keys first, in column order; a key of no column would come after
        row = {**self.base, "tenant_id": tenant_id, **values}
        if len(row) != len(self.base):
            unknown = set(values) - self.names
            raise ValueError(f"{self.table.name}: unknown columns {sorted(unknown)}")
        for name, default in self.calls:
            if name not in values:
                row[name] = default(None)
        return row


@functools.cache
def completer(table) -> Completer:
    """The :class:`Completer` of ``table``, built once."""
    return Completer(table)


def complete(table, tenant_id: int, values: dict) -> dict:
    """A full record of ``table`` (:class:`Completer`)."""
    return completer(table)(values, tenant_id)
