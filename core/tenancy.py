"""Tenant context and the ORM wall between tenants.

* The current tenant lives in a context variable, set once per request (from the URL or the
  API token) or per CLI command (``--tenant``), with :func:`tenant_scope`.
* Every ORM SELECT, UPDATE and DELETE touching a tenant-owned model (``TenantScoped``) gets
  ``tenant_id = <current>`` added through ``with_loader_criteria`` (also on joined,
  aliased and lazily loaded entities). With no tenant set, such a statement raises
  :class:`TenantNotSet` (as django-scopes does) instead of silently seeing every tenant.
* New rows are stamped with the current tenant at flush; writing a row of another tenant
  raises :class:`CrossTenantWrite`.
* On PostgreSQL each transaction also carries the tenant in ``ccas.tenant_id`` (set with
  ``set_config(..., true)``, so it dies with the transaction and never leaks through the
  pool) for the row-level-security policies: a second wall under the ORM.
* :func:`cross_tenant` is the one explicit escape hatch, for platform-operator work. Grep
  for it: every use must say why.
* The hot reads of a request may skip the ORM (its per-statement cost is several times
  the query's on a small read): :func:`scoped_select` builds, once, a Core ``SELECT`` of
  tenant tables (joins allowed) with ``tenant_id = :ccas_tenant`` on every one of them,
  :func:`scoped_rows` runs it on the session's connection with the current tenant bound
  (none set: ``TenantNotSet``),
  :func:`scoped_insert` writes an append-only row stamped with the current tenant,
  :func:`scoped_update` changes rows of the current tenant by their columns, and
  :func:`adopt` turns a row so read into a loaded mapped object (the request's user).
  They are the only Core reads and writes of tenant rows outside ``core.rawsql``.
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, has_app_context
from sqlalchemy import Table, and_, bindparam, event, insert, update
from sqlalchemy.orm import Session, with_loader_criteria
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql import functions, operators, visitors
from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    BooleanClauseList,
    ColumnClause,
    TextClause,
    quoted_name,
)
from sqlalchemy.sql.selectable import (
    Alias,
    Exists,
    FromClause,
    Join,
    ScalarSelect,
    Select,
    SelectBase,
)

from . import rawsql
from .models.base import TenantScoped, is_tenant_model

log = logging.getLogger(__name__)

_tenant: ContextVar[int | None] = ContextVar("ccas_tenant_id", default=None)
_cross: ContextVar[str | None] = ContextVar("ccas_cross_tenant", default=None)


class TenantNotSet(RuntimeError):
    """A query touched a tenant-owned model while no tenant was set."""


class CrossTenantRead(RuntimeError):
    """An object of another tenant, still in the session, was about to be reloaded."""


class CrossTenantWrite(RuntimeError):
    """A flush tried to write a row that belongs to another tenant."""


def current_tenant_id() -> int | None:
    return _tenant.get()


def require_tenant_id() -> int:
    tenant_id = _tenant.get()
    if tenant_id is None:
        raise TenantNotSet("no tenant is set for this request or command")
    return tenant_id


def in_cross_tenant() -> bool:
    return _cross.get() is not None


@contextmanager
def tenant_scope(tenant_id: int | None) -> Iterator[None]:
    """Run the block as ``tenant_id`` (``None``: no tenant, tenant models unreachable)."""
    token = _tenant.set(tenant_id)
    try:
        yield
    finally:
        _tenant.reset(token)


def set_request_tenant(tenant_id: int | None):
    """Set the tenant for the rest of a request; returns a token for :func:`reset`."""
    return _tenant.set(tenant_id)


def reset(token) -> None:
    _tenant.reset(token)


@contextmanager
def cross_tenant(reason: str) -> Iterator[None]:
    """ESCAPE HATCH: lift the tenant wall (ORM criteria and PostgreSQL RLS) for the block.

    Only for platform-operator work that must span tenants; ``reason`` is logged.
    """
    if not reason:
        raise ValueError("cross_tenant() needs a reason")
    log.info("cross-tenant block: %s", reason)
    token = _cross.set(reason)
    try:
        yield
    finally:
        _cross.reset(token)


# --------------------------------------------------------------------------------------
# Session events
# --------------------------------------------------------------------------------------


def wall_key() -> bytes | None:
    """The key signing the tenant setting (``CCAS_TENANT_WALL_KEY``), from the app."""
    if not has_app_context():
        return None
    return current_app.extensions.get("ccas_wall_key")


def _wanted_guc() -> tuple[str, str]:
    tenant_id = _tenant.get()
    return ("" if tenant_id is None else str(tenant_id), "on" if in_cross_tenant() else "")


def _sync_guc(session: Session, connection=None) -> None:
    """Make the PostgreSQL transaction carry the current tenant (no-op elsewhere)."""
    bind = connection if connection is not None else session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    wanted = _wanted_guc()
    if session.info.get("ccas_guc") == wanted and connection is None:
        return
    conn = connection if connection is not None else session.connection()
    if connection is None and session.info.get("ccas_guc") == wanted:
        return  # the transaction this connection() began has just set it (after_begin)
    rawsql.set_tenant_guc(conn, *wanted, wall_key())
    session.info["ccas_guc"] = wanted


def carry(session: Session) -> None:
    """Make the session's current transaction carry the current tenant now (PostgreSQL),
    before raw bulk writes on ``session.connection()`` (``core.rawsql.bulk_insert``)."""
    _sync_guc(session)


#: What a transaction carries before anything is set: every setting of the wall is
#: transaction-local (``set_config(..., true)``, the only way ``core.rawsql`` sets them),
#: so a new transaction starts with none, whatever the connection did before.
_UNSET = ("", "")


def _after_begin(session, transaction, connection) -> None:
    session.info.pop("ccas_guc", None)
    if _wanted_guc() == _UNSET and connection.dialect.name == "postgresql":
        # no tenant and no crossing wanted: nothing to clear in a fresh transaction (the
        # statement was one round trip per web request's session read and tenant lookup)
        session.info["ccas_guc"] = _UNSET
        return
    _sync_guc(session, connection)


def _refreshed_tenant(state) -> int | None:
    """The tenant of the object a column load refreshes, if it is a tenant row."""
    refresh_state = getattr(state.load_options, "_refresh_state", None)
    if refresh_state is None or not is_tenant_model(refresh_state.class_):
        return None
    identity = refresh_state.identity
    return identity[0] if identity else None


def _loaded_from_tenant(state) -> int | None:
    """The tenant of the object whose relationship a lazy load reads: a tenant row's
    identity leads with its tenant, a tenant's own row is keyed by its id; None for
    anything else."""
    parent = state.lazy_loaded_from
    if parent is None or not parent.identity:
        return None
    if is_tenant_model(parent.class_) or parent.class_.__table__.name == "tenants":
        return parent.identity[0]
    return None


def _do_orm_execute(state) -> None:
    # Every ORM statement, refreshes of expired objects included, runs with the
    # transaction's tenant setting in step with the current tenant (PostgreSQL RLS).
    if state.is_column_load:
        # Refreshing an object this session already loaded: with no tenant set, it is
        # reloaded in its own tenant (its identity says which), as SQLite would; with a
        # tenant set, only that tenant's rows are visible, as for any other statement.
        tenant_id = _tenant.get()
        owner = _refreshed_tenant(state) if tenant_id is None else None
        if owner is not None:
            with tenant_scope(owner):
                _sync_guc(state.session)
            _bind_tenant(state, owner)
            return
        _sync_guc(state.session)
        owner = _refreshed_tenant(state)
        if tenant_id is not None and owner is not None and owner != tenant_id \
                and not in_cross_tenant():
            raise CrossTenantRead(
                f"refreshing a row of tenant {owner} while tenant {tenant_id} is set"
            )
        _bind_tenant(state, owner if owner is not None else tenant_id)
        return
    _sync_guc(state.session)
    if not (state.is_select or state.is_update or state.is_delete):
        return
    tenant_id = _tenant.get()
    if in_cross_tenant():
        # no criteria added; a lazy load still carries those of the statement that
        # loaded its object (propagated): they read that object's tenant
        _bind_tenant(state, _loaded_from_tenant(state) if state.is_relationship_load
                     else tenant_id)
        return
    if tenant_id is None:
        touched = [m.class_.__name__ for m in state.all_mappers if is_tenant_model(m.class_)]
        if touched:
            raise TenantNotSet(
                "query on tenant-owned %s with no tenant set; use tenant_scope() "
                "(or cross_tenant() for operator work)" % ", ".join(touched)
            )
        # the fail-closed criteria: tenant models reached only through a join match
        # nothing
        state.statement = _scoped_statement(state.statement, _NO_TENANT_CRITERIA)
        return
    state.statement = _scoped_statement(state.statement, _TENANT_CRITERIA)
    if state.is_select or any(is_tenant_model(m.class_) for m in state.all_mappers):
        _bind_tenant(state, tenant_id)


def _bind_tenant(state, tenant_id: int | None) -> None:
    """Give the statement's tenant criteria their tenant (:data:`ORM_TENANT_PARAM`):
    in the parameters, not in the statement, so that one statement serves every tenant
    with one cache key. None known: not given, and a statement that carries the
    criteria fails (SQLAlchemy: a value is required for the parameter), never runs
    open."""
    if tenant_id is None:
        return
    params = state.parameters
    if isinstance(params, list | tuple):
        state.parameters = [{**p, ORM_TENANT_PARAM: tenant_id} for p in params]
    else:
        state.parameters = {**(params or {}), ORM_TENANT_PARAM: tenant_id}


#: The bound parameter of the ORM statements' tenant criteria. Named here and spelt out
#: in the criteria's lambda (a name read from a global there would be tracked by
#: SQLAlchemy as a value of the statement).
ORM_TENANT_PARAM = "ccas_orm_tenant"

#: The tenant criteria of every ORM statement, built once: ``tenant_id =
#: :ccas_orm_tenant``, its value given with each execution's parameters
#: (:func:`_bind_tenant`). The tenant's id is a parameter, not a value held by the
#: statement: a statement carrying a value in its criteria's closure cost SQLAlchemy
#: three SQL expressions built at every execution (the criteria's annotated copy of the
#: value's parameter matched against the original, ``SQLCompiler.construct_params``),
#: about 30 µs, the scoped read 1.45 times the same read filtered by hand; with a
#: parameter it costs what the hand-filtered read costs.
_TENANT_CRITERIA = with_loader_criteria(
    TenantScoped, lambda cls: cls.tenant_id == bindparam("ccas_orm_tenant"),
    include_aliases=True)

#: No tenant set, no tenant model selected: tenant rows reached through a join match
#: nothing (``tenant_id IS NULL``); a statement of global tables runs as it is.
_NO_TENANT_CRITERIA = with_loader_criteria(
    TenantScoped, lambda cls: cls.tenant_id.is_(None), include_aliases=True)


#: Each ORM statement's twin with the tenant criteria (and its twin with the fail-closed
#: ones), for as long as the statement lives (weak keys): a statement built once (a
#: module's constant) is executed as the same twin at every request, whatever the
#: tenant. ``options()`` makes a new statement, whose cache key SQLAlchemy computes
#: again by walking the whole of it (the largest part of a big statement's cost per
#: execution); the same twin keeps its key. A twin is exactly
#: ``statement.options(criteria)``; the tenant is the parameter :func:`_bind_tenant`
#: gives.
_TWINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _scoped_statement(statement, criteria):
    try:
        twins = _TWINS.get(statement)
    except TypeError:  # not weakly referenceable: built again, as before
        return statement.options(criteria)
    if twins is None:
        twins = _TWINS[statement] = {}
    twin = twins.get(criteria)
    if twin is None:
        twin = twins[criteria] = statement.options(criteria)
    return twin


def _before_flush(session, flush_context, instances) -> None:
    tenant_id = _tenant.get()
    crossing = in_cross_tenant()
    for obj in session.new:
        if not is_tenant_model(type(obj)):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantNotSet(f"cannot create {type(obj).__name__}: no tenant is set")
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id and not crossing:
            raise CrossTenantWrite(
                f"{type(obj).__name__} of tenant {obj.tenant_id} created in tenant {tenant_id}"
            )
    for obj in list(session.dirty) + list(session.deleted):
        if is_tenant_model(type(obj)) and obj.tenant_id != tenant_id and not crossing:
            raise CrossTenantWrite(
                f"{type(obj).__name__} of tenant {obj.tenant_id} changed in tenant {tenant_id}"
            )
    if session.new or session.dirty or session.deleted:
        _sync_guc(session)


def install(session_class: type[Session]) -> None:
    """Attach the tenant wall to a Session class (idempotent)."""
    if getattr(session_class, "_ccas_tenancy_installed", False):
        return
    event.listen(session_class, "do_orm_execute", _do_orm_execute)
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "after_begin", _after_begin)
    session_class._ccas_tenancy_installed = True


# --------------------------------------------------------------------------------------
# Core reads and writes of tenant rows (the hot paths)
# --------------------------------------------------------------------------------------

TENANT_PARAM = "ccas_tenant"


def scoped_select(stmt):
    """``stmt`` (a Core ``SELECT`` of tenant tables, joined or not) with ``tenant_id =
    :ccas_tenant`` added for every tenant table of its ``FROM``: built once at import, run
    by :func:`scoped_rows`. An alias of a table is read as a table, with its own criterion.
    The table an outer join may leave out carries the criterion in its ``ON`` clause
    instead (:func:`outer_join` writes it there; in the ``WHERE`` it would drop the rows
    without a match). A statement that would read a tenant table any other way (in a
    subquery, in a scalar select of its columns or its ``WHERE``, in SQL text, on the
    right of an outer join without its criterion) is refused, and so is one that reads no
    tenant table: a tenant table can never be read without its criterion. SQL written
    outside the expression language is refused too: prefixes, suffixes and hints, custom
    operators, names rendered unquoted. Global tables (no ``tenant_id``) joined to tenant
    tables are read whole, as any query reads them: the wall is about tenant rows.

    SQL functions: only those of :data:`SCOPED_FUNCTIONS` (``count``, ``sum``, ``min``,
    ``max``, ``coalesce``), and only as SQLAlchemy builds them (``func.count(...)``: the
    exact class, its own name as a plain string, no package prefix), ``count()``'s ``*``
    included. They are safe because they read nothing of their own: an aggregate or a
    scalar function computes over the rows and columns the ``FROM`` and ``WHERE`` already
    hold (each tenant table with its criterion), and its arguments are checked as any
    other expression (a subquery or SQL text in them is refused). Every other function is
    refused: one that reads by itself (a table-valued function in the ``FROM``,
    ``set_config``, ``current_setting``, ``pg_read_file``, ``dblink``, a user-defined
    function), one under a package name (``func.pkg.count``), one whose name is changed
    or quoted (the compiler would write it as given), a function column
    (``scalar_table_valued``)."""
    if not isinstance(stmt, Select):
        raise TypeError(f"scoped_select() takes a SELECT, not {type(stmt).__name__}")
    if stmt._prefixes or stmt._suffixes or stmt._hints or stmt._statement_hints:
        raise TypeError("scoped_select(): no prefix, suffix or hint (SQL text)")
    leaves: list[Table] = []
    in_where = _from_tables(stmt.get_final_froms(), leaves)
    if not any(_is_tenant_table(t) for t in leaves):
        raise TypeError("scoped_select() reads tenant tables (none in this statement)")
    aliased_tables = [t.element for t in leaves if isinstance(t, Alias)]
    for element in _elements(stmt):
        if isinstance(element, functions.FunctionElement | functions.ScalarFunctionColumn):
            if not _allowed_function(element):
                raise TypeError("scoped_select(): no SQL function but "
                                f"{', '.join(SCOPED_FUNCTIONS.values())} (as func builds "
                                f"them), not {getattr(element, 'name', element)!r}")
            continue
        if element is not stmt and isinstance(element, SelectBase | ScalarSelect | Exists):
            raise TypeError("scoped_select(): no subquery (its tables would have no "
                            "criterion)")
        if isinstance(element, FromClause) and not isinstance(element, Table | Join) \
                and not _is_table_alias(element):
            raise TypeError("scoped_select() takes tables and joins of tables, "
                            f"not {type(element).__name__}")
        if _is_table_alias(element) and element not in leaves:
            raise TypeError(f"scoped_select(): {element.name} is read outside the FROM")
        if isinstance(element, Table) and element not in leaves \
                and not any(element is t for t in aliased_tables):
            raise TypeError(f"scoped_select(): {element.name} is read outside the FROM")
        if isinstance(element, TextClause) or getattr(element, "is_literal", False) \
                or _unquoted(getattr(element, "name", None)) \
                or isinstance(getattr(element, "operator", None), operators.custom_op):
            raise TypeError("scoped_select(): no SQL text (it could read any table)")
    return stmt.where(*(_criterion(t) for t in in_where))


#: The SQL functions :func:`scoped_select` accepts, by their exact SQLAlchemy class (what
#: ``func.count`` and the others build) and the name the compiler writes for them: each
#: computes over the rows of the statement's ``FROM``, none reads a table of its own.
SCOPED_FUNCTIONS = {functions.count: "count", functions.sum: "sum", functions.min: "min",
                    functions.max: "max", functions.coalesce: "coalesce"}


def _allowed_function(element) -> bool:
    """One of :data:`SCOPED_FUNCTIONS` as ``func`` builds it: the exact class (no
    subclass, no generic ``Function`` of the same name), its own name as a plain string
    (a ``quoted_name`` or another name would be written as given), no package name."""
    name = getattr(element, "name", None)
    return (SCOPED_FUNCTIONS.get(type(element)) == name and type(name) is str
            and not element.packagenames)


def _is_star(clause) -> bool:
    """``*``, as ``func.count()`` writes its argument (``literal_column("*")``)."""
    return type(clause) is ColumnClause and clause.is_literal and clause.table is None \
        and type(clause.name) is str and clause.name == "*"


def _counts_rows(element) -> bool:
    """``count(*)``: the one literal :func:`scoped_select` lets through."""
    args = element.clauses.clauses if isinstance(element, functions.count) else ()
    return _allowed_function(element) and len(args) == 1 and _is_star(args[0])


def _elements(stmt) -> Iterator:
    """Every element of ``stmt``, breadth first (as ``visitors.iterate``), but for the
    inside of a ``count(*)``: its ``*`` is the only SQL literal :func:`scoped_select`
    accepts, and only there."""
    yield stmt
    pending = deque([stmt.get_children()])
    while pending:
        for element in pending.popleft():
            yield element
            if not _counts_rows(element):
                pending.append(element.get_children())


def _unquoted(name) -> bool:
    """A name the compiler writes as it is, unquoted (``quoted_name(..., quote=False)``)."""
    return isinstance(name, quoted_name) and name.quote is False


def _is_table_alias(clause) -> bool:
    """An alias of a table (``table.alias()``): read like the table, under its name."""
    return isinstance(clause, Alias) and isinstance(clause.element, Table)


def outer_join(left, right: Table, onclause):
    """``left LEFT OUTER JOIN right ON onclause AND right.tenant_id = :ccas_tenant``: the
    outer join :func:`scoped_select` accepts."""
    return left.outerjoin(right, and_(onclause, _criterion(right)))


def _criterion(table: Table):
    return table.c.tenant_id == bindparam(TENANT_PARAM)


def _from_tables(froms, leaves: list[Table]) -> list[Table]:
    """Collect the tables of a statement's ``FROM`` (joins opened) into ``leaves``;
    return the tenant tables whose criterion goes in the ``WHERE`` (the right side of
    an outer join must carry its own in the ``ON``). Anything else is refused."""
    in_where: list[Table] = []
    for clause in froms:
        if isinstance(clause, Join):
            if clause.full:
                raise TypeError("scoped_select(): no full outer join")
            in_where += _from_tables([clause.left], leaves)
            if clause.isouter:
                right = clause.right
                if not isinstance(right, Table) and not _is_table_alias(right):
                    raise TypeError("scoped_select(): the right side of an outer join is "
                                    "one table")
                leaves.append(right)
                if _is_tenant_table(right) and not _has_criterion(clause.onclause, right):
                    raise TypeError(f"scoped_select(): the outer join of {right.name} "
                                    "needs its tenant criterion in ON (outer_join())")
            else:
                in_where += _from_tables([clause.right], leaves)
        elif isinstance(clause, Table) or _is_table_alias(clause):
            leaves.append(clause)
            if _is_tenant_table(clause):
                in_where.append(clause)
        else:
            raise TypeError("scoped_select() takes tables and joins of tables, "
                            f"not {type(clause).__name__}")
    return in_where


def _has_criterion(onclause, table: Table) -> bool:
    """Whether ``table.tenant_id = :ccas_tenant`` is one of the ``AND``-ed terms of
    ``onclause`` (inside an ``OR`` it would not hold)."""
    terms = onclause.clauses if isinstance(onclause, BooleanClauseList) \
        and onclause.operator is operators.and_ else [onclause]
    return any(isinstance(term, BinaryExpression) and term.operator is operators.eq
               and term.left is table.c.tenant_id and isinstance(term.right, BindParameter)
               and term.right.key == TENANT_PARAM for term in terms)


def _is_tenant_table(table) -> bool:
    return "tenant_id" in table.c


def adopt(session: Session, model, values):
    """The mapped ``model`` object of a row read by :func:`scoped_rows` (``values``: its
    column values by attribute name, every column; a many-to-one relationship may be
    given too, as an object adopted before it), made persistent in ``session``
    without a query, as if the session had loaded it: later reads, lazy loads and
    changes work as on any loaded object. The object the session already holds under
    that identity is returned instead when there is one. A tenant row must belong to
    the current tenant (:class:`CrossTenantRead` otherwise)."""
    if is_tenant_model(model):
        tenant_id = require_tenant_id()
        if values["tenant_id"] != tenant_id and not in_cross_tenant():
            raise CrossTenantRead(f"{model.__name__} of tenant {values['tenant_id']} "
                                  f"adopted in tenant {tenant_id}")
    mapper = model.__mapper__
    key = mapper.identity_key_from_primary_key(
        [values[mapper.get_property_by_column(c).key] for c in mapper.primary_key])
    held = session.identity_map.get(key)
    if held is not None:
        return held
    # the instance without the mapped constructor's attribute events, its dictionary the
    # row, put in the identity map as the ORM's loading puts a row it loads
    # (``sqlalchemy.orm.loading._instance``: no history, nothing pending): what
    # ``make_transient_to_detached`` then ``session.add`` left, without the cascade walk
    # and the attach bookkeeping of an object coming from elsewhere (a third of a case
    # read's adoptions). The attributes not given (relationships) are expired, as
    # ``make_transient_to_detached`` left them: read, they load.
    obj = mapper.class_manager.new_instance()
    state = instance_state(obj)
    state.dict.update(values)
    state._expire_attributes(state.dict, state.unloaded)
    state.key, state.identity_token = key, key[2]
    state.session_id = session.hash_key
    session.identity_map._add_unpresent(state, key)
    dispatch = session.dispatch
    if dispatch.after_attach:  # the events session.add() gave, when someone listens
        dispatch.after_attach(session, obj)
    if dispatch.detached_to_persistent:
        dispatch.detached_to_persistent(session, state)
    return obj


def scoped_rows(session: Session, stmt, params: dict | None = None) -> list:
    """The rows of ``stmt`` (built by :func:`scoped_select`) for the current tenant, on
    the session's connection and in its transaction (PostgreSQL: carrying the tenant),
    after the session's pending changes (:func:`autoflush`)."""
    tenant_id = require_tenant_id()
    autoflush(session)
    return _tenant_connection(session).execute(
        stmt, {**(params or {}), TENANT_PARAM: tenant_id}).all()


def autoflush(session: Session) -> None:
    """Flush the session's pending changes before a Core read, as the ORM's autoflush does
    before its own reads (not inside ``session.no_autoflush``): the read sees what the
    request wrote so far, and an object deleted in the session is not found again."""
    if session.autoflush:
        # ``flush`` returns at once when nothing is new, changed or deleted: the same test
        # as ``session.new or session.dirty or session.deleted``, without building the
        # three sets (a case page reads 17 times)
        session.flush()


def _tenant_connection(session: Session):
    """The session's connection, its transaction carrying the current tenant (PostgreSQL):
    :func:`_sync_guc` with the connection asked of the session once."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        wanted = _wanted_guc()
        if session.info.get("ccas_guc") != wanted:  # else set already (``after_begin``)
            rawsql.set_tenant_guc(conn, *wanted, wall_key())
            session.info["ccas_guc"] = wanted
    return conn


@functools.cache
def _insert_of(table: Table):
    return insert(table)


def scoped_insert(session: Session, table: Table, values: dict | list[dict]) -> None:
    """Insert one row (``values``) or several (a list of them, one ``executemany``) of
    the tenant table ``table`` for the current tenant (stamped here; another tenant's id
    is refused), at once, in the session's transaction: for append-only rows of the hot
    paths (the audit of a read), where the unit of work's bookkeeping for one row cost
    more than the row. The columns' defaults apply."""
    tenant_id = require_tenant_id()
    rows = [values] if isinstance(values, dict) else list(values)
    for row in rows:
        if row.get("tenant_id", tenant_id) != tenant_id and not in_cross_tenant():
            raise CrossTenantWrite(f"{table.name} of tenant {row['tenant_id']} "
                                   f"written in tenant {tenant_id}")
    if not rows:
        return
    _tenant_connection(session).execute(_insert_of(table),
                                 [{"tenant_id": tenant_id, **row} for row in rows])


@functools.lru_cache(maxsize=256)
def _update_of(table: Table, where: tuple[str, ...], values: tuple[str, ...]):
    return (update(table)
            .where(*(table.c[name] == bindparam(f"where_{name}") for name in where),
                   _criterion(table))
            .values({name: bindparam(f"value_{name}") for name in values}))


def scoped_update(session: Session, table: Table, where: dict, values: dict) -> int:
    """``UPDATE table SET values WHERE`` each column of ``where`` equals its value, in the
    current tenant's rows only, at once in the session's transaction (the statement built
    once per shape): for a row the hot path wrote and does not hold as an object. Returns
    the number of rows changed. ``tenant_id`` can be neither a condition nor a value."""
    if "tenant_id" in where or "tenant_id" in values or not where:
        raise TypeError("scoped_update() sets the tenant itself and needs a condition")
    tenant_id = require_tenant_id()
    stmt = _update_of(table, tuple(sorted(where)), tuple(sorted(values)))
    result = _tenant_connection(session).execute(stmt, {
        TENANT_PARAM: tenant_id, **{f"where_{k}": v for k, v in where.items()},
        **{f"value_{k}": v for k, v in values.items()}})
    return result.rowcount


def global_select(stmt):
    """``stmt``, a Core ``SELECT`` of global tables only (``tenants``: a page resolving its
    tenant from the URL), checked once at build: one reading a tenant table is refused
    (those go through :func:`scoped_select`). Run by :func:`global_rows`."""
    if any(isinstance(e, Table) and _is_tenant_table(e) for e in visitors.iterate(stmt)):
        raise TypeError("global_select() reads global tables only")
    return stmt


def global_rows(session: Session, stmt, params: dict | None = None) -> list:
    """The rows of ``stmt`` (built by :func:`global_select`) on the session's connection."""
    return session.connection().execute(stmt, params or {}).all()
