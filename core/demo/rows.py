"""Rows written in bulk, for the demonstration data and the benchmarks.

:class:`Rows` gathers plain dicts per model (every column filled: the model's Python
defaults are applied, the tenant stamped) and writes them through
``core.rawsql.bulk_insert`` in the order of the foreign keys, a batch at a time: ``COPY``
through a temporary table on PostgreSQL, an ``executemany`` on SQLite. Ids come from the
caller's seeded generator, so the same seed gives the same rows.
"""

from __future__ import annotations

import itertools
import operator
import random
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from .. import case_search, rawsql, row_defaults
from ..models import Case, Person
from ..models.base import Base
from ..tenancy import carry, require_tenant_id

BATCH = 5000


#: The bits a version-4 (RFC 4122 variant) UUID fixes, as ``uuid.UUID(version=4)`` sets them.
_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_SET = (0x8000 << 48) | (4 << 76)
_new_uuid = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def new_id(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from ``rng`` (reproducible): the same value as
    ``uuid.UUID(int=rng.getrandbits(128), version=4)``, built without its argument checks
    (a million cases draw some 40 million ids)."""
    value = _new_uuid(uuid.UUID)
    _set(value, "int", (rng.getrandbits(128) & _CLEAR) | _SET)
    _set(value, "is_safe", _UNKNOWN)
    return value


def insert_rows(session, model, records: list[dict], *, connection=None,
                tenant_id: int | None = None, persons: list[dict] = ()) -> None:
    """Insert ``records`` (dicts of column values; the rest from the model's defaults)
    into ``model``'s table for the current tenant, in batches, in the session's
    transaction (``core.rawsql.bulk_insert`` refuses a record of another tenant, and
    PostgreSQL's row-level security checks them again). ``id`` must be given.
    ``connection`` and ``tenant_id``: the session's connection and the current tenant,
    taken beforehand (:meth:`Rows.write` in its writer thread). Cases get their search
    tokens (``core.case_search``) from their records and ``persons``, the records of
    their persons at hand (the others are read back)."""
    tenant_id = tenant_id if tenant_id is not None else require_tenant_id()
    table = model.__table__
    defaults = row_defaults.defaults(table)
    connection = connection if connection is not None else session.connection()
    for start in range(0, len(records), BATCH):
        batch = records[start:start + BATCH]
        rawsql.bulk_insert(connection, table, columns_of(table, tenant_id, batch, defaults),
                           tenant_id)
        if model is Case:
            complete = row_defaults.completer(table)
            case_search.index_new_cases(connection, tenant_id,
                                        [complete(r, tenant_id) for r in batch], persons)


#: A value no record holds: the column was not given in that record.
_MISSING = object()


def columns_of(table, tenant_id: int, records: list[dict],
               defaults: dict) -> rawsql.Columns:
    """``records`` completed as ``core.row_defaults`` does (the defaults of the missing
    columns, ``tenant_id`` unless given; a column the table lacks refused), given column
    by column in the table's order (``core.rawsql.Columns``): one list per column built
    by C-level passes over the records, no dict per row. A callable default (``utcnow``)
    is called once for each record that lacks its column."""
    names = list(defaults)
    unknown = set().union(*records) - set(names)
    if unknown:
        raise ValueError(f"{table.name}: unknown columns {sorted(unknown)}")
    count, values = len(records), []
    for name in names:
        default = tenant_id if name == "tenant_id" else defaults[name]
        if not callable(default):
            values.append(list(map(operator.methodcaller("get", name, default), records)))
            continue
        column = list(map(operator.methodcaller("get", name, _MISSING), records))
        # by identity (``==`` would call each value's ``__eq__``: UUID's is Python)
        missing = sum(map(operator.is_, column, itertools.repeat(_MISSING)))
        if missing == count:
            column = [default(None) for _ in range(count)]
        elif missing:
            column = [default(None) if v is _MISSING else v for v in column]
        values.append(column)
    return rawsql.Columns(names, values)


class Rows:
    """Rows to write, by model; :meth:`write` writes them in foreign-key order.

    ``write(background=True)`` hands them to a writer thread and returns at once, so that
    the next round's rows are drawn while the database stores these (the driver waits for
    the server without holding the interpreter); :meth:`wait` returns what was written.
    Meanwhile the caller must not use the session: the writer holds its connection."""

    def __init__(self, session, rng: random.Random):
        self.session, self.rng = session, rng
        self._by_model: dict[type, list[dict]] = {}
        self._writer: ThreadPoolExecutor | None = None
        self._pending: Future | None = None

    def new_id(self) -> uuid.UUID:
        return new_id(self.rng)

    def add(self, model, **values) -> uuid.UUID:
        values.setdefault("id", new_id(self.rng))
        self._by_model.setdefault(model, []).append(values)
        return values["id"]

    def count(self, model) -> int:
        return len(self._by_model.get(model, ()))

    def write(self, background: bool = False) -> dict[str, int]:
        """Write every row gathered (and forget them); ``{table: rows written}`` (empty
        with ``background``: :meth:`wait` gives it)."""
        self.wait_pending()
        by_model, self._by_model = self._by_model, {}
        tenant_id = require_tenant_id()
        carry(self.session)  # the transaction carries this tenant before the raw writes
        connection = self.session.connection()
        if not background:
            return _write(self.session, by_model, connection, tenant_id)
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="demo-rows")
        self._pending = self._writer.submit(_write, self.session, by_model, connection,
                                            tenant_id)
        return {}

    def wait(self) -> dict[str, int]:
        """Wait for the background write, if any; ``{table: rows written}``."""
        return self.wait_pending()

    def wait_pending(self) -> dict[str, int]:
        pending, self._pending = self._pending, None
        return pending.result() if pending is not None else {}

    def close(self) -> None:
        """Wait for the writer and stop its thread."""
        try:
            self.wait_pending()
        finally:
            if self._writer is not None:
                self._writer.shutdown()
                self._writer = None


def _write(session, by_model: dict, connection, tenant_id: int) -> dict[str, int]:
    order = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}
    written = {}
    for model in sorted(by_model, key=lambda m: order[m.__table__.name]):
        records = by_model[model]
        insert_rows(session, model, records, connection=connection, tenant_id=tenant_id,
                    persons=by_model.get(Person, ()))
        written[model.__table__.name] = len(records)
    return written
