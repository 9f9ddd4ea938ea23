"""Rows written in bulk, for the demonstration data and the benchmarks.

:class:`Rows` gathers plain dicts per model (every column filled: the model's Python
defaults are applied, the tenant stamped) and writes them through
``core.rawsql.bulk_insert`` in the order of the foreign keys, a batch at a time: one
statement per batch on PostgreSQL, an ``executemany`` on SQLite. Ids come from the
caller's seeded generator, so the same seed gives the same rows.
"""

from __future__ import annotations

import random
import uuid

from .. import rawsql
from ..models.base import Base
from ..tenancy import require_tenant_id

BATCH = 5000


def new_id(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from ``rng`` (reproducible)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _defaults(table) -> dict:
    """``{column: default}`` for the columns whose model gives a Python default; the
    callables (``utcnow``, ``dict``…) are kept to be called per row."""
    out = {}
    for column in table.columns:
        default = column.default
        if default is None:
            out[column.name] = None
        elif default.is_scalar:
            out[column.name] = default.arg
        elif default.is_callable:
            out[column.name] = default.arg  # called per row (SQLAlchemy's wrapper)
        else:
            out[column.name] = None
    return out


def complete(table, tenant_id: int, values: dict, defaults: dict) -> dict:
    """A full record of ``table``: ``values`` then the defaults of the missing columns,
    ``tenant_id`` the current tenant's unless given (another is refused on writing)."""
    unknown = set(values) - set(defaults)
    if unknown:
        raise ValueError(f"{table.name}: unknown columns {sorted(unknown)}")
    row = {}
    for name, default in defaults.items():
        if name in values:
            row[name] = values[name]
        elif callable(default):
            row[name] = default(None)
        else:
            row[name] = default
    if "tenant_id" not in values:
        row["tenant_id"] = tenant_id
    return row


def insert_rows(session, model, records: list[dict]) -> None:
    """Insert ``records`` (dicts of column values; the rest from the model's defaults)
    into ``model``'s table for the current tenant, in batches, in the session's
    transaction (``core.rawsql.bulk_insert`` refuses a record of another tenant, and
    PostgreSQL's row-level security checks them again). ``id`` must be given."""
    tenant_id = require_tenant_id()
    table = model.__table__
    defaults = _defaults(table)
    connection = session.connection()
    for start in range(0, len(records), BATCH):
        batch = [complete(table, tenant_id, r, defaults) for r in records[start:start + BATCH]]
        rawsql.bulk_insert(connection, table, batch, tenant_id)


class Rows:
    """Rows to write, by model; :meth:`write` writes them in foreign-key order."""

    def __init__(self, session, rng: random.Random):
        self.session, self.rng = session, rng
        self._by_model: dict[type, list[dict]] = {}

    def new_id(self) -> uuid.UUID:
        return new_id(self.rng)

    def add(self, model, **values) -> uuid.UUID:
        values.setdefault("id", self.new_id())
        self._by_model.setdefault(model, []).append(values)
        return values["id"]

    def count(self, model) -> int:
        return len(self._by_model.get(model, ()))

    def write(self) -> dict[str, int]:
        """Write every row gathered (and forget them); ``{table: rows written}``."""
        order = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}
        written = {}
        for model in sorted(self._by_model, key=lambda m: order[m.__table__.name]):
            records = self._by_model[model]
            insert_rows(self.session, model, records)
            written[model.__table__.name] = len(records)
        self._by_model.clear()
        return written
