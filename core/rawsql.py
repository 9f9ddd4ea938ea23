"""The one module allowed to use raw SQL and Core connections.

Raw SQL and ``Connection.execute`` skip the ORM session events that scope tenants, so
they live here, small and reviewed: PostgreSQL tenant settings, row-level security DDL,
role grants, health checks. Nothing here reads tenant-owned rows.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import itertools
import json
import operator
import re
import uuid
from collections.abc import Iterator
from typing import NamedTuple

from psycopg.adapt import Transformer
from psycopg.types.uuid import UUIDDumper
from sqlalchemy import JSON, Uuid, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from .models import AuditEvent

try:  # psycopg's row formatter for COPY text (C with psycopg[binary]), not a public name
    from psycopg._copy_base import format_row_text as _format_row_text
except ImportError:  # pragma: no cover - another psycopg: rows written one call each
    _format_row_text = None

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"unsafe SQL identifier: {name!r}")
    return name


def set_tenant_guc(conn: Connection, tenant_id: str, cross: str, key: bytes | None) -> None:
    """Set the transaction-local tenant settings read by the RLS policies: the tenant and
    its signature for this transaction (``wall_signature``; without ``key`` the tenant
    is unsigned and the policies show nothing), and ``ccas.cross``, honoured for the owner
    only."""
    signature = ""
    if tenant_id and key:
        pid, started = conn.execute(text(
            "SELECT pg_backend_pid(), "
            "(extract(epoch FROM transaction_timestamp()) * 1000000)::bigint")).one()
        signature = wall_signature(key, tenant_id, pid, started)
    conn.execute(
        text("SELECT set_config('ccas.tenant_id', :t, true), "
             "set_config('ccas.tenant_sig', :s, true), set_config('ccas.cross', :c, true)"),
        {"t": tenant_id, "s": signature, "c": cross},
    )


def wall_signature(key: bytes, tenant_id: str, backend_pid: int, transaction_start: int) -> str:
    """The signature of ``tenant_id`` for one transaction (its backend and its start, in
    microseconds): ``sha256(key || sha256(key || message))`` in hex, what
    ``ccas_current_tenant()`` recomputes with the key only the owner can read."""
    message = f"{tenant_id}:{backend_pid}:{transaction_start}".encode()
    return hashlib.sha256(key + hashlib.sha256(key + message).digest()).hexdigest()


#: The database side of the wall (migration 0016b, ``install_wall``): the key in a schema
#: the application role cannot enter, and the function the policies call.
WALL_FUNCTION = """
CREATE OR REPLACE FUNCTION public.ccas_current_tenant() RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    tenant text := current_setting('ccas.tenant_id', true);
    signature text := current_setting('ccas.tenant_sig', true);
    secret bytea;
    message bytea;
BEGIN
    IF tenant IS NULL OR signature IS NULL OR tenant !~ '^[0-9]{1,9}$' THEN
        RETURN NULL;
    END IF;
    SELECT k.key INTO secret FROM ccas_wall.keys AS k WHERE k.id = 1;
    IF secret IS NULL THEN
        RETURN NULL;
    END IF;
    message := convert_to(tenant || ':' || pg_backend_pid() || ':'
        || ((extract(epoch FROM transaction_timestamp()) * 1000000)::bigint)::text, 'UTF8');
    IF encode(sha256(secret || sha256(secret || message)), 'hex') = signature THEN
        RETURN tenant::integer;
    END IF;
    RETURN NULL;
END
$fn$
"""


#: ANALYZE of a table the application role fills in bulk but does not own (migration 0021,
#: ``install_analyze``): see ``analyze_if_never_analyzed``. ANALYZE ignores row-level
#: security, but ``pg_stats`` hides the statistics of a table under it from a role the
#: policy applies to, so nothing of another tenant becomes readable.
ANALYZE_FUNCTION = """
CREATE OR REPLACE FUNCTION public.ccas_analyze(target text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF target !~ '^[a-z_][a-z0-9_]{0,62}$' OR to_regclass('public.' || target) IS NULL THEN
        RAISE EXCEPTION 'ccas_analyze: unknown table %', target;
    END IF;
    -- Another loading transaction analyzing it holds the lock until it ends: skip rather
    -- than wait (two first imports at once must not deadlock on each other's tables).
    BEGIN
        EXECUTE format('LOCK TABLE public.%I IN SHARE UPDATE EXCLUSIVE MODE NOWAIT', target);
    EXCEPTION WHEN lock_not_available THEN
        RETURN false;
    END;
    EXECUTE format('ANALYZE public.%I', target);
    RETURN true;
END
$fn$
"""


def install_analyze(conn: Connection) -> None:
    conn.execute(text(ANALYZE_FUNCTION))


def analyze_if_never_analyzed(conn: Connection, table: str) -> bool:
    """Give ``table`` its first statistics, on PostgreSQL, if it never had any; whether
    it did (not when another loading transaction is analyzing it: no waiting).

    A foreign-key check is a query PostgreSQL plans once per connection, generically. On
    a table never analyzed (a new city's first import, the demo, a restored archive, all
    in one transaction) every index leading with ``tenant_id`` looks as good as the
    primary key, and the planner may take ``(tenant_id, state, …)`` and filter on the id:
    each row inserted that refers to the table then reads all the tenant's rows of it,
    and a bulk load grows quadratically. ANALYZE run inside the loading transaction sees
    its own rows, and invalidates the plans already cached, so the checks that follow use
    the primary key. Called after each bulk insert (``bulk_insert``): a catalogue read,
    and one ANALYZE per table in the database's life.
    """
    if conn.dialect.name != "postgresql":
        return False
    never = conn.execute(text(
        "SELECT reltuples < 0 FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    ).scalar()
    if not never:
        return False
    return bool(conn.execute(text("SELECT public.ccas_analyze(:t)"), {"t": table}).scalar())


def install_wall(conn: Connection) -> None:
    """Create the key's schema and table (owner only) and ``ccas_current_tenant()``."""
    conn.execute(text("CREATE SCHEMA IF NOT EXISTS ccas_wall"))
    conn.execute(text("REVOKE ALL ON SCHEMA ccas_wall FROM PUBLIC"))
    conn.execute(text("CREATE TABLE IF NOT EXISTS ccas_wall.keys ("
                      "id integer PRIMARY KEY CHECK (id = 1), key bytea NOT NULL)"))
    conn.execute(text("REVOKE ALL ON ccas_wall.keys FROM PUBLIC"))
    conn.execute(text(WALL_FUNCTION))


def drop_wall(conn: Connection) -> None:
    conn.execute(text("DROP FUNCTION IF EXISTS public.ccas_current_tenant()"))
    conn.execute(text("DROP SCHEMA IF EXISTS ccas_wall CASCADE"))


def install_wall_key(conn: Connection, key: bytes) -> None:
    """Store the key the signatures are checked with (owner's connection; idempotent)."""
    conn.execute(text("INSERT INTO ccas_wall.keys (id, key) VALUES (1, :k) "
                      "ON CONFLICT (id) DO UPDATE SET key = EXCLUDED.key"), {"k": key})


class Columns(NamedTuple):
    """Rows given column by column (what :func:`bulk_insert` takes from a bulk writer that
    builds them so, ``core.demo.rows``): the column ``names`` and, for each, the list of
    its values, every list as long as the others."""

    names: list[str]
    values: list[list]


def bulk_insert(conn: Connection, table, records: list[dict] | Columns,
                tenant_id: int) -> None:
    """Insert ``records`` (dicts with the same keys, or :class:`Columns`) into the tenant
    table ``table``, fast.

    For bulk loads (the legacy import, the demo and benchmark data): on PostgreSQL the rows
    are streamed with ``COPY`` into a temporary table of the same columns, then moved by one
    ``INSERT … SELECT`` (``COPY FROM`` is refused on a table under row-level security, and
    the ``INSERT`` keeps the policy's ``WITH CHECK``); on SQLite a driver-level
    ``executemany``, each column's bind conversion applied once per value. Every record
    must carry ``tenant_id`` equal to ``tenant_id`` (checked here, and again by the RLS
    ``WITH CHECK`` on PostgreSQL). Enum columns take members or values and store the
    member's name, as the ORM does; JSON columns take Python values. The values are
    converted a column at a time (one list per column, not one object per row).
    """
    if isinstance(records, Columns):
        names, values = list(records.names), list(records.values)
    else:
        if not records:
            return
        names = list(records[0])
        values = [list(map(operator.itemgetter(name), records)) for name in names]
    if not values or not values[0]:
        return
    tenants = values[names.index("tenant_id")] if "tenant_id" in names else None
    if tenants is None or tenants.count(tenant_id) != len(tenants):
        raise ValueError(f"bulk insert into {table.name}: a record of another tenant")
    columns = [table.c[name] for name in names]
    # each enum column's members and values to their names, a column at a time
    for i, column in enumerate(columns):
        enum_class = getattr(column.type, "enum_class", None)
        if enum_class is not None:
            name_of = _enum_names(enum_class).__getitem__
            values[i] = [None if v is None else name_of(v) for v in values[i]]
    if conn.dialect.name == "postgresql":
        _copy_insert(conn, table.name, names, columns, values)
        analyze_if_never_analyzed(conn, table.name)
        return
    dialect = conn.dialect
    for i, column in enumerate(columns):
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            values[i] = [process(v) for v in values[i]]
    quoted = ", ".join(_ident(name) for name in names)
    marks = ", ".join("?" for _ in names)
    conn.exec_driver_sql(
        f"INSERT INTO {_ident(table.name)} ({quoted}) VALUES ({marks})",  # noqa: S608
        list(zip(*values, strict=True)),
    )


#: Joins the values of one staged row of :func:`bulk_insert_spread` (a value holding it
#: goes through :func:`bulk_insert` instead).
SPREAD_SEPARATOR = "\x1f"


def bulk_insert_spread(conn: Connection, table, key: str, column: str,
                       groups: list[tuple], tenant_id: int) -> int:
    """Insert into the tenant table ``table`` a row ``(tenant_id, key, column)`` for
    each value of each ``(key value, [values])`` of ``groups``; the number of rows.

    The rows many to a key (the search tokens: some twenty a case): on PostgreSQL one
    ``COPY`` row per key, its values joined by :data:`SPREAD_SEPARATOR`, into a temporary
    table ``ccas_spread_<table>``, then one ``INSERT … SELECT`` that splits them
    (``unnest(string_to_array(…))``, under the policy's ``WITH CHECK`` as in
    :func:`bulk_insert`): the client formats a row per key instead of a row per value.
    Elsewhere, or when a value holds the separator, the rows go through
    :func:`bulk_insert`. The same rows either way.
    """
    count = sum(len(values) for _key, values in groups)
    if not count:
        return 0
    if conn.dialect.name != "postgresql" or any(
            SPREAD_SEPARATOR in value for _key, values in groups for value in values):
        bulk_insert(conn, table, [{"tenant_id": tenant_id, key: k, column: value}
                                  for k, values in groups for value in values], tenant_id)
        return count
    target, stage = _ident(table.name), _ident(f"ccas_spread_{table.name}")
    key, column = _ident(key), _ident(column)
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "  # noqa: S608
        f"SELECT {key}, ''::text AS ccas_values FROM {target} WITH NO DATA")
    cursor = _copy_cursor(conn)
    try:
        with cursor.copy(f"COPY {stage} ({key}, ccas_values) FROM STDIN") as copy:  # noqa: S608
            write, join = copy.write_row, SPREAD_SEPARATOR.join
            for k, values in groups:
                write((k, join(values)))
    finally:
        cursor.close()
    conn.exec_driver_sql(
        f"INSERT INTO {target} (tenant_id, {key}, {column}) "  # noqa: S608
        f"SELECT {int(tenant_id)}, s.{key}, v.value FROM {stage} s "
        f"CROSS JOIN LATERAL unnest(string_to_array(s.ccas_values, "
        f"chr({ord(SPREAD_SEPARATOR)}))) AS v(value)")
    conn.exec_driver_sql(f"TRUNCATE {stage}")
    analyze_if_never_analyzed(conn, table.name)
    return count


class _EnumNames(dict):
    """``{member or value: member name}`` of an enum; an unknown value raises as the
    enum does (``ValueError``)."""

    def __init__(self, enum_class):
        super().__init__({**{m.value: m.name for m in enum_class},
                          **{m: m.name for m in enum_class}})
        self.enum_class = enum_class

    def __missing__(self, value):
        return self.enum_class(value).name


@functools.cache
def _enum_names(enum_class) -> _EnumNames:
    return _EnumNames(enum_class)


class _UUIDHexDumper(UUIDDumper):
    """A psycopg dumper writing a UUID in ``COPY`` text as its 32 hex digits (PostgreSQL
    reads them without the dashes): one formatting of the integer instead of psycopg's
    ``obj.hex.encode()``, for the millions of ids of a bulk load. The same value
    stored."""

    def dump(self, obj, _hex=b"%032x".__mod__):
        return _hex(obj.int)


def _copy_cursor(conn: Connection):
    """A psycopg cursor of ``conn`` for ``COPY … FROM STDIN``, UUIDs written by
    :class:`_UUIDHexDumper`."""
    cursor = conn.connection.driver_connection.cursor()
    cursor.adapters.register_dumper(uuid.UUID, _UUIDHexDumper)
    return cursor


def _copy_insert(conn: Connection, name: str, names: list[str], columns: list,
                 values: list[list]) -> None:
    """PostgreSQL: the rows of ``values`` (a list per column of ``names``, enums already
    names) into ``name`` through ``COPY`` to the temporary table ``ccas_bulk_<name>``
    (created on first use in the transaction, dropped at its end; no index, no foreign
    key, no WAL), then one ``INSERT … SELECT`` (policies, foreign keys and indexes checked
    there) and the temporary table emptied for the next call. The role needs the
    database's ``TEMPORARY`` privilege (PostgreSQL grants it to ``PUBLIC`` by default: a
    deployment that revokes it must grant it to the application role).

    The ``COPY`` text is built a column at a time and then in one pass over the rows: JSON
    values encoded compact and UUIDs written as their 32 hex digits a column at a time,
    then the rows formatted by psycopg's C row formatter into one buffer, sent by one
    ``write`` (psycopg cuts it into messages), no Python call per row."""
    target, stage = _ident(name), _ident(f"ccas_bulk_{name}")
    quoted = ", ".join(_ident(n) for n in names)
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} (LIKE {target}) ON COMMIT DROP")
    values = list(values)
    for i, column in enumerate(columns):
        if isinstance(column.type, JSON):
            values[i] = [None if v is None else _compact_json(v) for v in values[i]]
        elif isinstance(column.type, Uuid):
            values[i] = [_hex(v.int) if v.__class__ is _UUID else v for v in values[i]]
    cursor = _copy_cursor(conn)
    try:
        with cursor.copy(f"COPY {stage} ({quoted}) FROM STDIN") as copy:  # noqa: S608
            rows = zip(*values, strict=True)
            if _format_row_text is None:  # psycopg moved its formatter: a call per row
                collections.deque(map(copy.write_row, rows), 0)
            else:
                buffer = bytearray()
                transformer = Transformer.from_context(cursor)
                collections.deque(map(_format_row_text, rows, itertools.repeat(transformer),
                                      itertools.repeat(buffer)), 0)
                copy.write(buffer)
    finally:
        cursor.close()
    conn.exec_driver_sql(
        f"INSERT INTO {target} ({quoted}) SELECT {quoted} FROM {stage}")  # noqa: S608
    conn.exec_driver_sql(f"TRUNCATE {stage}")


#: A UUID's 32 hex digits (``COPY`` text: PostgreSQL reads them without the dashes).
_hex = "%032x".__mod__
_UUID = uuid.UUID


#: The plain indexes of the public schema: not unique, backing no constraint (so no
#: foreign key and no ``ON CONFLICT`` needs them), with their definitions.
_PLAIN_INDEXES = """
SELECT i.relname, pg_get_indexdef(x.indexrelid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND t.relkind = 'r' AND NOT x.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
ORDER BY t.relname, i.relname
"""


@contextlib.contextmanager
def plain_indexes_deferred(engine, maintenance_work_mem: str = "256MB",
                           lock_timeout_s: int = 60) -> Iterator[list]:
    """For a bulk load into an empty or small database (the benchmarks' generator, as
    the database's owner): drop the plain indexes (:data:`_PLAIN_INDEXES`: the search
    tokens' and the lists' orders, which each inserted row would otherwise update at a
    random place), let the load run, then build them again from their definitions, by
    sorting (``maintenance_work_mem`` for this session), whatever happened in between.
    Yields the ``(name, definition)`` of the indexes dropped. PostgreSQL only: elsewhere
    nothing is dropped. Primary keys, unique constraints and foreign keys are left as
    they are, so the rows are checked as in any load. The caller ends its transactions
    on these tables first (a failed load's too): building an index waits for them, here
    at most ``lock_timeout_s`` seconds, then fails with PostgreSQL's message."""
    if engine.dialect.name != "postgresql":
        yield []
        return
    with engine.connect() as conn:
        indexes = [tuple(row) for row in conn.execute(text(_PLAIN_INDEXES))]
        for name, _definition in indexes:
            conn.exec_driver_sql(f"DROP INDEX {_ident(name)}")
        conn.commit()
    try:
        yield indexes
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SET maintenance_work_mem = '{_memory(maintenance_work_mem)}'")
            conn.exec_driver_sql(f"SET lock_timeout = '{int(lock_timeout_s)}s'")
            for _name, definition in indexes:
                conn.exec_driver_sql(definition)
            conn.commit()


#: The primary keys and unique constraints of the public schema, with their tables and
#: definitions.
_UNIQUE_KEYS = """
SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
WHERE c.contype IN ('p', 'u') AND c.connamespace = 'public'::regnamespace
ORDER BY c.contype, t.relname, c.conname
"""


class _ConstraintsBroken(RuntimeError):
    """Constraints a bulk load deferred that its rows break (their names in ``names``,
    the database's errors in the message after :attr:`what`)."""

    what = ""

    def __init__(self, names: list[str], errors: list[str]):
        super().__init__(f"{self.what} after the load: " + "; ".join(errors))
        self.names = names


class UniqueKeysBroken(_ConstraintsBroken):
    """Rows written while the primary keys and unique constraints were deferred repeat a
    key: those constraints could not be built again."""

    what = "keys not unique"


@contextlib.contextmanager
def unique_keys_deferred(engine, maintenance_work_mem: str = "256MB",
                         lock_timeout_s: int = 60) -> Iterator[list]:
    """For a bulk load (the benchmarks' generator, as the database's owner), as
    ``pg_restore`` does: drop the primary keys and unique constraints, let the load run,
    then add them back from their definitions, whatever happened in between. Each is
    then built once by sorting its table (``maintenance_work_mem``) instead of an insert
    into its B-tree per row: at a million cases the keys, on random UUIDs, outgrow the
    server's buffers and every row's insert lands on a page to read and write back.
    Building a key checks it: a repeated key fails the build, and
    :class:`UniqueKeysBroken` names the keys that could not come back (the scratch
    database is then left without them). Row-level security is untouched (a key's build
    is no query: it sees every row). The foreign keys must be dropped first
    (:func:`foreign_keys_deferred`, around this): they hang on these keys.
    Yields the ``(table, name, definition)`` of the keys dropped. PostgreSQL only:
    elsewhere nothing is dropped. The caller ends its transactions on these tables
    first; adding a key waits for them at most ``lock_timeout_s`` seconds."""
    if engine.dialect.name != "postgresql":
        yield []
        return
    keys = _drop_constraints(engine, _UNIQUE_KEYS)
    try:
        yield keys
    finally:
        broken, errors = [], []
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SET maintenance_work_mem = '{_memory(maintenance_work_mem)}'")
            conn.exec_driver_sql(f"SET lock_timeout = '{int(lock_timeout_s)}s'")
            for table, name, definition in keys:
                try:
                    conn.exec_driver_sql(f"ALTER TABLE {_ident(table)} ADD CONSTRAINT "
                                         f"{_ident(name)} {definition}")
                    conn.commit()
                except DBAPIError as error:
                    conn.rollback()
                    broken.append(name)
                    errors.append(f"{name}: {str(error.orig).splitlines()[0]}")
        if broken:
            raise UniqueKeysBroken(broken, errors)


def _drop_constraints(engine, listing: str) -> list[tuple]:
    """Drop the constraints ``listing`` (a query of ``(table, name, definition)``)
    names, in one transaction; returns them, to be added back from their definitions."""
    with engine.connect() as conn:
        keys = [tuple(row) for row in conn.execute(text(listing))]
        for table, name, _definition in keys:
            conn.exec_driver_sql(f"ALTER TABLE {_ident(table)} DROP CONSTRAINT {_ident(name)}")
        conn.commit()
    return keys


#: The foreign keys of the public schema, with their tables and definitions.
_FOREIGN_KEYS = """
SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
ORDER BY t.relname, c.conname
"""


class ForeignKeysNotValid(_ConstraintsBroken):
    """Rows written while the foreign keys were deferred break some of them: the keys
    are back, marked ``NOT VALID``."""

    what = "foreign keys not valid"


@contextlib.contextmanager
def foreign_keys_deferred(engine, maintenance_work_mem: str = "256MB",
                          lock_timeout_s: int = 60) -> Iterator[list]:
    """For a bulk load (the benchmarks' generator, as the database's owner), as
    ``pg_restore`` does: drop the foreign keys, let the load run, then add them back
    from their definitions, ``NOT VALID`` first (no row read) and then ``VALIDATE
    CONSTRAINT`` one by one, whatever happened in between. Each validation is one
    set-based query (the child's keys without a parent) instead of the per-row trigger
    that checks each inserted row and each of its keys (``SELECT … FOR KEY SHARE`` on the
    parent): the rows are proved to hold to the same keys, once, after the load (the
    check's joins get ``maintenance_work_mem``, as PostgreSQL gives them; they see every
    tenant's rows through the owner's ``ccas.cross``).
    Yields the ``(table, name, definition)`` of the keys dropped. Raises
    :class:`ForeignKeysNotValid` when rows break a key (the key is back, ``NOT VALID``:
    the schema is the same, the violation visible in ``pg_constraint.convalidated``).
    PostgreSQL only: elsewhere nothing is dropped. The caller ends its transactions on
    these tables first; adding a key waits for them at most ``lock_timeout_s``
    seconds."""
    if engine.dialect.name != "postgresql":
        yield []
        return
    keys = _drop_constraints(engine, _FOREIGN_KEYS)
    try:
        yield keys
    finally:
        _add_foreign_keys(engine, keys, maintenance_work_mem, lock_timeout_s)


def _add_foreign_keys(engine, keys: list, maintenance_work_mem: str,
                      lock_timeout_s: int) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SET maintenance_work_mem = '{_memory(maintenance_work_mem)}'")
        conn.exec_driver_sql(f"SET lock_timeout = '{int(lock_timeout_s)}s'")
        for table, name, definition in keys:
            if definition.endswith(" NOT VALID"):  # it was so before the load
                definition = definition.removesuffix(" NOT VALID")
            conn.exec_driver_sql(f"ALTER TABLE {_ident(table)} ADD CONSTRAINT "
                                 f"{_ident(name)} {definition} NOT VALID")
        conn.commit()
        broken, errors = [], []
        for table, name, definition in keys:
            if definition.endswith(" NOT VALID"):
                continue
            try:
                # the check is a query of the owner, under the forced row-level security:
                # without the owner's escape hatch it would see no tenant's row at all
                set_tenant_guc(conn, "", "on", None)
                conn.exec_driver_sql(
                    f"ALTER TABLE {_ident(table)} VALIDATE CONSTRAINT {_ident(name)}")
                conn.commit()
            except DBAPIError as error:
                conn.rollback()
                broken.append(name)
                errors.append(f"{name}: {str(error.orig).splitlines()[0]}")
    if broken:
        raise ForeignKeysNotValid(broken, errors)


def _memory(value: str) -> str:
    if not re.fullmatch(r"[0-9]+[kMG]B", value):
        raise ValueError(f"not a memory size: {value!r}")
    return value


#: ``json.dumps(value, separators=(",", ":"))``, its encoder built once (``dumps`` builds
#: one per call when given an argument): the same text.
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


POLICY = "ccas_tenant_isolation"


def enable_rls(conn: Connection, table: str) -> None:
    """Row-level security on a tenant table: forced, even for the owner.

    A row is visible and writable only when its ``tenant_id`` equals
    ``ccas_current_tenant()``: the transaction's ``ccas.tenant_id`` if its signature
    ``ccas.tenant_sig`` holds, which SQL run as the application role cannot forge (the
    key is in a schema it cannot enter). ``ccas.cross = 'on'`` lifts the policy for the
    owner only (data migrations, ``ccas backup``); the application role may set it, in
    vain. See docs/security.md, "the database wall".
    """
    t = _ident(table)
    owner = conn.execute(text("SELECT quote_literal(current_user)")).scalar_one()
    condition = ("(tenant_id = (SELECT public.ccas_current_tenant()) "
                 f"OR (current_setting('ccas.cross', true) = 'on' AND current_user = {owner}))")
    conn.execute(text(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"))
    conn.execute(text(f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY"))
    conn.execute(text(f"DROP POLICY IF EXISTS {POLICY} ON {t}"))
    conn.execute(text(f"CREATE POLICY {POLICY} ON {t} USING {condition} WITH CHECK {condition}"))


def grant_app_role(conn: Connection, role: str) -> None:
    """Let the application role use every table and sequence, without owning them."""
    r = _ident(role)
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {r}"))
    conn.execute(
        text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}")
    )
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}"))
    # The application reads the migration state but never changes it.
    conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {r}"))
    # The audit trail is append-only for the application (core.audit refuses it too).
    conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {r}"))
    # The tenant wall's key: never readable by the application (core.rawsql.install_wall).
    conn.execute(text(f"REVOKE ALL ON SCHEMA ccas_wall FROM {r}"))
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA ccas_wall FROM {r}"))


def rls_status(conn: Connection) -> dict[str, tuple[bool, bool]]:
    """``{table: (rls_enabled, rls_forced)}`` for the tables of the current schema."""
    rows = conn.execute(
        text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        )
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def ping(conn: Connection) -> None:
    conn.execute(text("SELECT 1"))


def migration_revision(conn: Connection) -> set[str]:
    """Revisions recorded in ``alembic_version`` (empty if never migrated)."""
    try:
        return {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except Exception:  # noqa: BLE001 - a missing table means "not migrated"
        return set()


# -- provisioning (PostgreSQL): used by .ci/run, the test plugin and deployment docs -------


def ensure_role(conn: Connection, role: str) -> None:
    """Create a LOGIN role if missing (idempotent)."""
    r = _ident(role)
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": r}).first()
    if not exists:
        conn.execute(text(f"CREATE ROLE {r} LOGIN NOSUPERUSER NOBYPASSRLS"))


def create_database(conn: Connection, name: str, owner: str) -> None:
    """``conn`` must be in AUTOCOMMIT mode."""
    conn.execute(text(f"CREATE DATABASE {_ident(name)} OWNER {_ident(owner)}"))


def drop_database(conn: Connection, name: str) -> None:
    conn.execute(text(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)"))


def empty_tables(conn: Connection, tables: list[str]) -> None:
    """Remove every row of ``tables`` (tests). TRUNCATE is not subject to RLS."""
    if not tables:
        return
    if conn.dialect.name == "postgresql":
        names = ", ".join(_ident(t) for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        conn.execute(text("PRAGMA foreign_keys=OFF"))
        for t in tables:
            conn.execute(text(f"DELETE FROM {_ident(t)}"))  # noqa: S608 - checked identifier
        conn.execute(text("PRAGMA foreign_keys=ON"))


def rewrite_audit_details(conn: Connection, tenant_id: int, details: dict) -> int:
    """RGPD purge only (``core.privacy.purge``): replace the ``detail`` of audit rows of
    ``tenant_id`` (``{row id: new detail}``) whose values named a purged person.

    The application role may not UPDATE ``audit_events`` (append-only), so this runs on
    the owner's connection, in its own transaction; the row's who/what/when stay.
    """
    if not details:
        return 0
    if conn.dialect.name == "postgresql":  # the owner: its escape hatch, this transaction
        set_tenant_guc(conn, "", "on", None)
    table = AuditEvent.__table__
    for row_id, detail in details.items():
        conn.execute(
            update(table).where(table.c.tenant_id == tenant_id, table.c.id == row_id)
            .values(detail=detail)
        )
    return len(details)


def count_every_tenant(conn: Connection, table: str) -> int:
    """Rows of ``table`` in every tenant, on the owner's connection (tests, checks)."""
    with conn.begin():
        if conn.dialect.name == "postgresql":
            set_tenant_guc(conn, "", "on", None)
        return conn.execute(text(f"SELECT count(*) FROM {_ident(table)}")).scalar_one()  # noqa: S608 - checked identifier
