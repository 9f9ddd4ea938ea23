"""The ORM wall between tenants (both databases) and the RLS wall (PostgreSQL)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import (
    bindparam,
    delete,
    event,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    union,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy.orm import aliased
from sqlalchemy.sql import functions as sql_functions
from sqlalchemy.sql.elements import quoted_name

from core import rawsql, tenancy
from core.models import ApiToken, Organisation, Tenant, User, tenant_tables


@pytest.fixture
def two(tenant, other_tenant, make_user):
    a = make_user(tenant, "manager", email="same@city.test")
    b = make_user(other_tenant, "manager", email="same@city.test")
    return tenant, other_tenant, a, b


def test_query_on_tenant_model_without_tenant_raises(session, two):
    with pytest.raises(tenancy.TenantNotSet):
        session.scalars(select(User)).all()


def test_global_tables_need_no_tenant(session, two):
    assert {t.slug for t in session.scalars(select(Tenant))} == {"alpha", "beta"}


def test_select_sees_only_the_current_tenant(session, two, in_tenant):
    a, b = two[0], two[1]
    with in_tenant(a):
        emails = session.scalars(select(User.email, )).all()
        orgs = session.scalars(select(Organisation.name)).all()
        assert emails == ["same@city.test"]
        assert orgs == ["CCAS de Alpha"]
        assert {u.tenant_id for u in session.scalars(select(User))} == {a.id}
    with in_tenant(b):
        assert {u.tenant_id for u in session.scalars(select(User))} == {b.id}


def test_same_email_allowed_in_two_tenants_unique_within_one(session, two, in_tenant):
    from core import accounts
    from core.errors import UserError

    with in_tenant(two[0]), pytest.raises(UserError) as err:
        accounts.create_user(session, "same@city.test", "secretary", "CCAS de Alpha",
                             "Long-enough-pass-1")
    assert err.value.status == 409


def test_joins_and_aliases_are_scoped(session, two, in_tenant):
    org = aliased(Organisation)
    with in_tenant(two[0]):
        rows = session.execute(
            select(User.email, org.name).join(org, org.id == User.organisation_id)
        ).all()
        assert rows == [("same@city.test", "CCAS de Alpha")]
        # A select on a global table joined to a tenant table is still filtered.
        rows = session.execute(select(Tenant.slug).join(User, User.tenant_id == Tenant.id)).all()
        assert rows == [("alpha",)]


def test_relationship_lazy_load_is_scoped(session, two, in_tenant):
    with in_tenant(two[0]):
        user = session.scalars(select(User)).one()
        assert user.organisation.name == "CCAS de Alpha"


def test_bulk_update_and_delete_touch_only_the_current_tenant(session, two, in_tenant):
    a, b = two[0], two[1]
    with in_tenant(a):
        session.execute(update(User).values(full_name="changed"))
        session.execute(delete(ApiToken))
        session.commit()
    with in_tenant(b):
        assert session.scalars(select(User.full_name)).one() != "changed"
    with in_tenant(a):
        assert session.scalars(select(User.full_name)).one() == "changed"


def test_new_rows_are_stamped_with_the_current_tenant(session, two, in_tenant):
    with in_tenant(two[1]):
        org = Organisation(name="Nouvelle", kind="association")
        session.add(org)
        session.commit()
        assert org.tenant_id == two[1].id


def test_creating_a_row_for_another_tenant_is_refused(session, two, in_tenant):
    with in_tenant(two[0]):
        session.add(Organisation(name="Intrus", kind="other", tenant_id=two[1].id))
        with pytest.raises(tenancy.CrossTenantWrite):
            session.flush()
        session.rollback()


def test_changing_a_row_of_another_tenant_is_refused(session, two, in_tenant):
    with in_tenant(two[1]):
        user_b = session.scalars(select(User)).one()
    with in_tenant(two[0]):
        user_b.full_name = "hijack"
        with pytest.raises(tenancy.CrossTenantWrite):
            session.flush()
        session.rollback()


def test_creating_a_tenant_row_without_tenant_is_refused(session, two):
    session.add(Organisation(name="Orpheline", kind="other"))
    with pytest.raises(tenancy.TenantNotSet):
        session.flush()
    session.rollback()


def test_cross_tenant_escape_hatch_sees_all_tenants_from_the_owner_side(session, two,
                                                                        ccas_database):
    """On PostgreSQL the hatch works for the owner only (backups, data migrations): through
    the application role the database wall shows nothing (tests/test_tenant_wall.py)."""
    from sqlalchemy import create_engine

    from core.db import CcasSession

    engine = create_engine(ccas_database.owner_url)
    try:
        with CcasSession(bind=engine) as owner, tenancy.cross_tenant("test: statistics"):
            assert len(owner.scalars(select(User)).all()) == 2
        with tenancy.cross_tenant("test: through the app role"):
            seen = len(session.scalars(select(User)).all())
        assert seen == (0 if ccas_database.dialect == "postgresql" else 2)
    finally:
        engine.dispose()


def test_cross_tenant_requires_a_reason():
    with pytest.raises(ValueError), tenancy.cross_tenant(""):
        pass


def test_every_tenant_table_has_tenant_id_first_in_primary_key():
    from core.models import Base

    for name in tenant_tables():
        pk = [c.name for c in Base.metadata.tables[name].primary_key.columns]
        assert pk[0] == "tenant_id", name


def test_every_unique_constraint_of_a_tenant_table_includes_tenant_id():
    from sqlalchemy import UniqueConstraint

    from core.models import Base

    for name in tenant_tables():
        table = Base.metadata.tables[name]
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                assert "tenant_id" in constraint.columns, (name, constraint.name)
        for column in table.columns:
            assert not (column.unique and column.name != "tenant_id"), (name, column.name)


def _migrated_schema(ccas_database):
    """(table, indexes, foreign keys) of every tenant table of the migrated database (what
    the migrations built, beside what the models declare)."""
    from sqlalchemy import inspect

    with ccas_database.owner_connection() as conn:
        inspector = inspect(conn)
        names = set(inspector.get_table_names())
        return [(name, inspector.get_indexes(name), inspector.get_foreign_keys(name))
                for name in tenant_tables() if name in names]


def test_every_unique_index_of_a_tenant_table_includes_tenant_id(ccas_database):
    """Citus (distribution by tenant_id) and the no-leak rule: a unique index without
    tenant_id would make one tenant's value unique across all tenants."""
    from core.models import Base

    for name in tenant_tables():
        for index in Base.metadata.tables[name].indexes:
            if index.unique:
                assert "tenant_id" in [c.name for c in index.columns], (name, index.name)
    for name, indexes, _fks in _migrated_schema(ccas_database):
        for index in indexes:
            if index.get("unique"):
                assert "tenant_id" in index["column_names"], (name, index["name"])


def test_every_foreign_key_between_tenant_tables_leads_with_tenant_id(ccas_database):
    """A reference from a tenant row to another tenant row is ``(tenant_id, x_id)`` ->
    ``(tenant_id, id)`` (``tenant_fk``): it cannot point into another tenant, and both
    rows live on the same Citus shard. Tenant tables refer to no global table but
    ``tenants``."""
    from sqlalchemy import ForeignKeyConstraint

    from core.models import Base

    tenant = set(tenant_tables())

    def check(name, target, columns, referred):
        if target == "tenants":
            assert columns == ["tenant_id"], (name, columns)
            return
        assert target in tenant, (name, columns, target)
        assert columns[0] == "tenant_id" and referred[0] == "tenant_id", (name, columns)

    for name in tenant:
        for constraint in Base.metadata.tables[name].constraints:
            if isinstance(constraint, ForeignKeyConstraint):
                check(name, constraint.referred_table.name,
                      [c.name for c in constraint.columns],
                      [e.column.name for e in constraint.elements])
    for name, _indexes, fks in _migrated_schema(ccas_database):
        for fk in fks:
            check(name, fk["referred_table"], fk["constrained_columns"],
                  fk["referred_columns"])


# -- PostgreSQL row-level security --------------------------------------------------------


@pytest.mark.postgres_only
def test_rls_hides_other_tenants_rows_from_raw_sql(app, session, two):
    """Bypass the ORM entirely: raw SQL on the app's connection still sees one tenant."""
    from core.db import db

    a, b = two[0], two[1]
    with db.engine.connect() as conn:
        # No tenant set: nothing at all.
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0
        conn.rollback()
        with conn.begin():
            # the tenant with this transaction's signature (core.tenancy does the same)
            rawsql.set_tenant_guc(conn, str(a.id), "", tenancy.wall_key())
            rows = conn.execute(text("SELECT tenant_id FROM users")).all()
            assert {r[0] for r in rows} == {a.id}
            # Asking explicitly for tenant B's rows returns nothing.
            assert conn.execute(
                text("SELECT count(*) FROM users WHERE tenant_id = :b"), {"b": b.id}
            ).scalar() == 0
        # The setting was transaction-local: the pooled connection does not keep it.
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0


@pytest.mark.postgres_only
def test_rls_refuses_writing_another_tenants_row(app, two):
    from sqlalchemy.exc import DBAPIError

    from core.db import db

    a, b = two[0], two[1]
    with db.engine.connect() as conn:
        trans = conn.begin()
        rawsql.set_tenant_guc(conn, str(a.id), "", tenancy.wall_key())
        with pytest.raises(DBAPIError):
            conn.execute(
                text(
                    "INSERT INTO organisations (tenant_id, id, name, kind) "
                    "VALUES (:b, gen_random_uuid(), 'x', 'other')"
                ),
                {"b": b.id},
            )
        trans.rollback()
        with conn.begin():
            rawsql.set_tenant_guc(conn, str(a.id), "", tenancy.wall_key())
            changed = conn.execute(text("UPDATE users SET full_name = 'x' WHERE tenant_id = :b"),
                                   {"b": b.id}).rowcount
            assert changed == 0


@pytest.mark.postgres_only
def test_every_tenant_table_has_forced_rls(app, ccas_database):
    from core import rawsql

    with ccas_database.owner_connection() as conn:
        status = rawsql.rls_status(conn)
    for table in tenant_tables():
        assert status[table] == (True, True), table


@pytest.mark.postgres_only
def test_app_role_is_not_the_owner_and_cannot_bypass_rls(app):
    from core.db import db

    with db.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT r.rolsuper, r.rolbypassrls, "
                "(SELECT tableowner FROM pg_tables WHERE tablename = 'users') = current_user "
                "FROM pg_roles r WHERE r.rolname = current_user"
            )
        ).one()
    assert tuple(row) == (False, False, False)


@pytest.mark.postgres_only
def test_every_tenant_table_has_the_tenant_policy_for_all_commands(app, ccas_database):
    """pg_policies shows, for each tenant table, one policy for ALL commands whose USING and
    WITH CHECK both compare tenant_id with the transaction's signed tenant, the cross-tenant
    setting being honoured for the owner only (tests/test_tenant_wall.py)."""
    with ccas_database.owner_connection() as conn:
        rows = conn.execute(
            text("SELECT tablename, cmd, qual, with_check FROM pg_policies "
                 "WHERE policyname = 'ccas_tenant_isolation'")
        ).all()
    policies = {r[0]: r for r in rows}
    for table in tenant_tables():
        assert table in policies, table
        _name, cmd, qual, with_check = policies[table]
        assert cmd == "ALL", table
        for expr in (qual, with_check):
            assert "ccas_current_tenant()" in expr and "tenant_id =" in expr, table
            assert "CURRENT_USER = 'ccas_owner'" in expr, table


def test_refreshing_an_expired_object_uses_the_current_tenant(session, two, in_tenant):
    """A refresh (column load) inside a tenant scope, in a transaction that last ran
    without a tenant, still sees the row (the PostgreSQL setting follows the scope)."""
    a = two[0]
    with in_tenant(a):
        user = session.scalars(select(User)).one()
    session.expire_all()
    session.scalars(select(Tenant)).all()  # a statement with no tenant in between
    with in_tenant(a):
        assert user.email == "same@city.test"


def test_an_expired_object_reloads_in_its_own_tenant_when_none_is_set(session, two,
                                                                      in_tenant):
    with in_tenant(two[0]):
        a_user = session.scalars(select(User).where(User.tenant_id == two[0].id)).one()
    session.expire_all()
    assert a_user.email == "same@city.test"


def test_an_expired_object_of_another_tenant_does_not_reload(session, two, in_tenant):
    with in_tenant(two[1]):
        b_user = session.scalars(select(User)).one()
    session.expire_all()
    with in_tenant(two[0]), pytest.raises(tenancy.CrossTenantRead):
        _ = b_user.email


def test_a_statement_built_once_runs_as_one_twin_with_the_tenant_as_a_parameter(
        session, two, in_tenant):
    """An ORM statement executed again is executed as the same twin (its cache key kept)
    whatever the tenant: the criteria's tenant is a parameter of each execution, never a
    value held by the statement; no twin is kept once the statement is gone."""
    import gc

    a, b = two[0], two[1]
    stmt = select(User.tenant_id, User.email)
    for current in (a, b, a, b):
        with in_tenant(current):
            assert [tuple(r) for r in session.execute(stmt)] == [
                (current.id, "same@city.test")]
    twins = tenancy._TWINS[stmt]
    assert list(twins) == [tenancy._TENANT_CRITERIA]
    twin = twins[tenancy._TENANT_CRITERIA]
    sql = str(twin.compile(session.get_bind()))
    assert tenancy.ORM_TENANT_PARAM in sql or "?" in sql
    assert str(a.id) not in sql.split("FROM", 1)[1]  # the tenant is not in the SQL
    with in_tenant(b):
        session.execute(stmt).all()
    assert tenancy._TWINS[stmt][tenancy._TENANT_CRITERIA] is twin
    before = len(tenancy._TWINS)
    del stmt, twins, twin
    gc.collect()
    assert len(tenancy._TWINS) == before - 1


def test_a_statement_run_by_one_tenant_then_another_never_answers_the_first(
        session, two, in_tenant):
    """The same statement object, run for A then B with the same parameters: each sees
    only its own rows (the compiled statement is shared, the tenant is not)."""
    a, b = two[0], two[1]
    stmt = select(User).where(User.email == bindparam("email"))
    with in_tenant(a):
        assert [u.tenant_id for u in session.scalars(stmt, {"email": "same@city.test"})] \
            == [a.id]
    with in_tenant(b):
        assert [u.tenant_id for u in session.scalars(stmt, {"email": "same@city.test"})] \
            == [b.id]
        # a parameter of the caller's named like the wall's is overridden, not obeyed
        assert [u.tenant_id for u in session.scalars(
            stmt, {"email": "same@city.test", tenancy.ORM_TENANT_PARAM: a.id})] == [b.id]


def _forget_organisations(session, user) -> None:
    """The user's organisation read again from the database on its next access (a lazy
    load), not from the identity map."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Organisation):
            session.expunge(obj)
    session.expire(user, ["organisation"])


def test_a_lazy_load_in_another_tenant_sees_nothing_of_the_first(session, two, in_tenant):
    """An object of A kept by the session, its relationship first read while B is set:
    B's criteria apply (the relationship is empty), not A's."""
    a, b = two[0], two[1]
    with in_tenant(a):
        user_a = session.scalars(select(User)).one()
    _forget_organisations(session, user_a)
    with in_tenant(b):
        assert user_a.organisation is None


def test_a_lazy_load_in_a_cross_tenant_block_reads_its_objects_tenant(session, two,
                                                                       in_tenant):
    """Operator work: an object loaded in A's scope, its relationship read inside a
    ``cross_tenant`` block: the hatch adds no criteria, and whatever criteria the load
    carries from the object's first load read the object's own tenant (never a missing
    parameter)."""
    a = two[0]
    with in_tenant(a):
        user_a = session.scalars(select(User)).one()
    _forget_organisations(session, user_a)
    with tenancy.cross_tenant("test: a lazy load across the hatch"):
        organisation = user_a.organisation
    if organisation is not None:  # PostgreSQL's row-level security shows nothing here
        assert organisation.tenant_id == a.id and organisation.name == "CCAS de Alpha"


def test_an_orm_update_of_a_global_table_runs_in_a_tenant_scope(session, two, in_tenant):
    """The wall's parameter is given only where a tenant model is touched: an UPDATE of
    a global table is not refused for a parameter it does not use."""
    a = two[0]
    with in_tenant(a):
        session.execute(update(Tenant).where(Tenant.id == a.id).values(name="Alpha bis"))
        session.flush()
        assert session.scalars(select(Tenant.name).where(Tenant.id == a.id)).one() \
            == "Alpha bis"
    session.rollback()


# -- the Core path of the hot reads (core.tenancy.scoped_select / scoped_rows) ------------

_USER_EMAILS = tenancy.scoped_select(select(User.__table__.c.email))


def test_a_scoped_core_read_sees_only_the_current_tenant(session, two, in_tenant):
    a, b = two[0], two[1]
    with in_tenant(a):
        rows = tenancy.scoped_rows(session, _USER_EMAILS)
        assert [r.email for r in rows] == ["same@city.test"]
        ids = tenancy.scoped_rows(session, tenancy.scoped_select(
            select(User.__table__.c.tenant_id)))
        assert {r.tenant_id for r in ids} == {a.id}
    with in_tenant(b):
        ids = tenancy.scoped_rows(session, tenancy.scoped_select(
            select(User.__table__.c.tenant_id)))
        assert {r.tenant_id for r in ids} == {b.id}


def test_a_scoped_core_read_without_a_tenant_raises(session, two):
    with pytest.raises(tenancy.TenantNotSet):
        tenancy.scoped_rows(session, _USER_EMAILS)


def test_a_scoped_core_join_filters_every_tenant_table_of_its_from(session, two, in_tenant):
    users, orgs = User.__table__, Organisation.__table__
    # joined on the organisation's id alone, and as a cartesian product: only the current
    # tenant's rows of each table take part
    joined = tenancy.scoped_select(select(users.c.tenant_id, orgs.c.tenant_id.label("o"))
                                   .join_from(users, orgs, orgs.c.id == users.c.organisation_id))
    product = tenancy.scoped_select(select(users.c.tenant_id, orgs.c.tenant_id.label("o"))
                                    .join_from(users, orgs, true()))
    with_tenants = tenancy.scoped_select(
        select(users.c.tenant_id, Tenant.__table__.c.slug)
        .join_from(users, Tenant.__table__, Tenant.__table__.c.id == users.c.tenant_id))
    for current in two[:2]:
        with in_tenant(current):
            for stmt in (joined, product):
                rows = tenancy.scoped_rows(session, stmt)
                assert rows and {(r[0], r[1]) for r in rows} == {(current.id, current.id)}
            assert [tuple(r) for r in tenancy.scoped_rows(session, with_tenants)] == [
                (current.id, current.slug)]


def test_a_scoped_core_outer_join_keeps_rows_without_a_match_and_sees_one_tenant(
        session, two, in_tenant):
    users, orgs = User.__table__, Organisation.__table__

    def joined_on(condition):
        return tenancy.scoped_select(select(users.c.email, orgs.c.tenant_id).select_from(
            tenancy.outer_join(users, orgs, condition)))

    every, none = joined_on(orgs.c.id.is_not(None)), joined_on(orgs.c.id.is_(None))
    for current in two[:2]:
        with in_tenant(current):
            # joined to every organisation: only the current tenant's take part
            assert [tuple(r) for r in tenancy.scoped_rows(session, every)] == [
                ("same@city.test", current.id)]
            # no match: the user's row stays, without an organisation
            assert [tuple(r) for r in tenancy.scoped_rows(session, none)] == [
                ("same@city.test", None)]


def test_a_scoped_core_read_of_an_alias_filters_it_as_its_table(session, two, in_tenant):
    users, orgs = User.__table__, Organisation.__table__
    first, second = orgs.alias("first"), orgs.alias("second")
    stmt = tenancy.scoped_select(
        select(users.c.tenant_id, first.c.tenant_id.label("f"), second.c.tenant_id.label("s"))
        .select_from(users.join(first, true()).join(second, true())))
    for current in two[:2]:
        with in_tenant(current):
            rows = tenancy.scoped_rows(session, stmt)
            assert [tuple(r) for r in rows] == [(current.id,) * 3]


def test_a_scoped_core_read_refuses_a_tenant_table_read_without_its_criterion():
    users, orgs = User.__table__, Organisation.__table__
    refused = [
        select(Tenant.__table__.c.slug),  # no tenant table
        select(users.c.email).where(users.c.organisation_id.in_(select(orgs.c.id))),
        select(users.c.email, select(orgs.c.name).where(orgs.c.id == users.c.organisation_id)
               .scalar_subquery()),
        select(users.c.email).where(exists(select(orgs.c.id))),
        select(users.c.email).select_from(select(users).subquery()),
        select(users.c.email).where(text("1 = 1")),
        select(users.c.email, literal_column("(select count(*) from organisations)")),
        select(users.c.email).select_from(  # an outer join without the criterion in ON
            users.outerjoin(orgs, orgs.c.id == users.c.organisation_id)),
        select(users.c.email).select_from(users.outerjoin(  # the criterion inside an OR
            orgs, or_(orgs.c.id == users.c.organisation_id,
                      orgs.c.tenant_id == bindparam(tenancy.TENANT_PARAM)))),
        select(users.c.email).select_from(users.join(orgs, true(), full=True)),
        # SQL text by other doors: suffixes, prefixes, hints, custom operators, raw names
        select(users.c.tenant_id).suffix_with("UNION SELECT tenant_id FROM users"),
        select(users.c.tenant_id).prefix_with("/* any */"),
        select(users.c.tenant_id).with_hint(users, "INDEXED BY x"),
        select(users.c.tenant_id).with_statement_hint("anything"),
        select(users.c.tenant_id).where(users.c.email.op("IS NULL) OR 1=1 OR (1 =")(
            users.c.email)),
        select(users.c.tenant_id, sql_column(quoted_name("(SELECT 1 FROM users)", False))),
        select(users.c.email.label(quoted_name("x FROM users --", False))),
        union(select(users.c.email), select(users.c.email)),
        # the table of an alias read raw in a subquery
        select(users.c.email).select_from(users.join(orgs.alias("o"), true()))
        .where(users.c.organisation_id.in_(select(orgs.c.id))),
    ]
    for stmt in refused:
        with pytest.raises(TypeError):
            tenancy.scoped_select(stmt)


def test_a_scoped_core_read_counts_and_sums_only_the_current_tenants_rows(
        session, two, in_tenant, make_user):
    """The allowed SQL functions (count, sum, min, max, coalesce) compute over the rows
    the criteria leave: another tenant's rows are never counted, alone or joined."""
    users, orgs = User.__table__, Organisation.__table__
    a, b = two[0], two[1]
    make_user(a, "social_worker", email="second@city.test")
    make_user(a, "secretary", email="third@city.test")
    per_role = tenancy.scoped_select(
        select(users.c.role, func.count()).group_by(users.c.role))
    figures = tenancy.scoped_select(select(
        func.count(users.c.id), func.sum(users.c.session_version),
        func.min(users.c.tenant_id), func.max(users.c.tenant_id),
        func.coalesce(func.max(users.c.full_name), "none")))
    per_organisation = tenancy.scoped_select(  # joined, and as a cartesian product
        select(orgs.c.tenant_id, func.count(users.c.id))
        .join_from(users, orgs, orgs.c.id == users.c.organisation_id)
        .group_by(orgs.c.tenant_id))
    product = tenancy.scoped_select(
        select(func.count()).select_from(users.join(orgs, true())))
    with in_tenant(a):
        assert "tenant_id = :ccas_tenant" in str(figures)
        assert dict(tuple(r) for r in tenancy.scoped_rows(session, per_role)) == {
            "manager": 1, "social_worker": 1, "secretary": 1}
        n, versions, low, high, _name = tenancy.scoped_rows(session, figures)[0]
        assert (n, low, high) == (3, a.id, a.id)
        assert versions == session.scalar(select(func.sum(User.session_version)))
        assert [tuple(r) for r in tenancy.scoped_rows(session, per_organisation)] == [
            (a.id, 3)]
        organisations = session.scalar(select(func.count()).select_from(Organisation))
        assert tenancy.scoped_rows(session, product)[0][0] == 3 * organisations
    with in_tenant(b):
        assert dict(tuple(r) for r in tenancy.scoped_rows(session, per_role)) == {
            "manager": 1}
        n, _versions, low, high, _name = tenancy.scoped_rows(session, figures)[0]
        assert (n, low, high) == (1, b.id, b.id)
        assert [tuple(r) for r in tenancy.scoped_rows(session, per_organisation)] == [
            (b.id, 1)]


def _renamed(function, name):
    function.name = name
    return function


def test_a_scoped_core_read_refuses_every_other_sql_function():
    """Only count, sum, min, max and coalesce as ``func`` builds them: no function that
    reads by itself, none renamed, quoted or under a package, no function in the FROM."""
    users, orgs = User.__table__, Organisation.__table__
    refused = [
        select(users.c.email, func.set_config("ccas.tenant_id", "2", True)),
        select(users.c.email, func.current_setting("ccas.tenant_id")),
        select(func.avg(users.c.session_version)),  # harmless, but not on the list
        select(func.pg_catalog.count(users.c.id)),  # a package name
        select(sql_functions.Function("count", users.c.id)),  # a generic function
        select(_renamed(func.count(users.c.id),
                        quoted_name("count(*) FROM organisations --", False))),
        select(_renamed(func.count(users.c.id), quoted_name("count", True))),
        select(_renamed(func.count(users.c.id), "avg")),
        select(_renamed(func.count(), quoted_name("count", False))).select_from(users),
        # an allowed function over a subquery, or over SQL text
        select(func.count(select(orgs.c.id).scalar_subquery())).select_from(users),
        select(func.max(select(orgs.c.name).where(orgs.c.id == users.c.organisation_id)
                        .scalar_subquery())).select_from(users),
        select(func.count(literal_column("(SELECT count(*) FROM organisations)")))
        .select_from(users),
        select(func.sum(literal_column("*"))).select_from(users),  # * outside count
        select(literal_column("*"), func.count()).select_from(users),
        # table-valued functions, and a function's column
        select(users.c.email).select_from(
            users.join(func.json_each(users.c.email).table_valued("value"), true())),
        select(users.c.email, func.json_each(users.c.email).table_valued("value").c.value),
        select(func.count(users.c.id).table_valued("x").c.x).select_from(users),
        select(users.c.email, func.count(users.c.id).scalar_table_valued("x")),
        select(users.c.email).select_from(func.count(users.c.id)),
    ]
    for stmt in refused:
        with pytest.raises(TypeError):
            tenancy.scoped_select(stmt)


def test_a_scoped_core_read_flushes_pending_changes_first(session, two, in_tenant):
    """As the ORM's autoflush: a row deleted in the session is not found again, a change
    not yet flushed is read; not inside ``no_autoflush``."""
    users = User.__table__
    stmt = tenancy.scoped_select(select(users.c.full_name))
    a_user = two[2]
    with in_tenant(two[0]):
        a_user.full_name = "Pending"
        with session.no_autoflush:
            assert [r.full_name for r in tenancy.scoped_rows(session, stmt)] != ["Pending"]
        assert [r.full_name for r in tenancy.scoped_rows(session, stmt)] == ["Pending"]
        session.delete(a_user)
        assert tenancy.scoped_rows(session, stmt) == []
        session.rollback()


def test_a_global_core_read_refuses_tenant_tables():
    assert tenancy.global_select(select(Tenant.__table__.c.slug)) is not None
    with pytest.raises(TypeError):
        tenancy.global_select(select(Tenant.__table__.c.slug, User.__table__.c.email))


@contextmanager
def _statements(session):
    seen: list[str] = []

    def record(conn, cursor, statement, *_args):
        seen.append(statement)

    engine = session.get_bind().engine  # the engine: the request session binds to a connection
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_adopt_makes_a_scoped_row_a_loaded_object_without_a_query(session, two, in_tenant):
    a, b = two[0], two[1]
    users = User.__table__
    stmt = tenancy.scoped_select(select(users))
    with in_tenant(a):
        row = tenancy.scoped_rows(session, stmt)[0]
        session.expunge_all()
        values = {User.__mapper__.get_property_by_column(c).key: row._mapping[c]
                  for c in users.c}
        with _statements(session) as statements:
            user = tenancy.adopt(session, User, values)
            assert (user.email, user.tenant_id, user.role) == ("same@city.test", a.id, "manager")
        assert statements == []
        assert user in session and not session.dirty
        assert tenancy.adopt(session, User, values) is user  # the identity map's object
        assert user.organisation.name == "CCAS de Alpha"  # lazy loads work
        user.full_name = "Changed"
        session.flush()
        assert session.scalar(select(User.full_name).where(User.id == user.id)) == "Changed"
    with in_tenant(b), pytest.raises(tenancy.CrossTenantRead):
        tenancy.adopt(session, User, values)


def test_an_inserted_row_is_one_insert_and_a_loaded_object_like_a_flushed_one(
        session, two, in_tenant):
    from core import adopted_rows
    from core.models import OrganisationKind

    a, b = two[0], two[1]
    with in_tenant(a):
        with _statements(session) as statements:
            org = adopted_rows.inserted(session, Organisation, {
                "name": "Épicerie solidaire", "kind": OrganisationKind.association})
        # one INSERT, nothing read back (PostgreSQL also opens the transaction with the
        # tenant's setting)
        assert [s.split()[0].upper() for s in statements if "organisations" in s] == ["INSERT"]
        # the Python defaults applied as a flush would (the id), the tenant stamped
        assert org.id is not None and org.tenant_id == a.id and org.email is None
        assert org in session and not session.dirty and not session.new
        org.email = "contact@epicerie.test"  # changed and flushed like any loaded object
        session.flush()
        session.expire_all()
        stored = session.get(Organisation, (a.id, org.id))
        assert (stored.name, stored.email) == ("Épicerie solidaire", "contact@epicerie.test")
        with pytest.raises(tenancy.CrossTenantWrite):
            adopted_rows.inserted(session, Organisation, {
                "tenant_id": b.id, "name": "Ailleurs", "kind": OrganisationKind.association})
        session.rollback()
    with in_tenant(b):
        assert session.scalars(select(Organisation.name).where(
            Organisation.name.in_(["Épicerie solidaire", "Ailleurs"]))).all() == []
    # several rows in one statement, without objects; the tenant checked on each
    with in_tenant(a):
        held = len(session.identity_map)
        with _statements(session) as statements:
            rows = adopted_rows.insert_rows(session, Organisation, [
                {"name": "Banque alimentaire", "kind": OrganisationKind.association},
                {"name": "Restos du cœur", "kind": OrganisationKind.association}])
        assert [s.split()[0].upper() for s in statements if "organisations" in s] == ["INSERT"]
        assert {r["tenant_id"] for r in rows} == {a.id} and rows[0]["id"] != rows[1]["id"]
        assert not session.new and len(session.identity_map) == held  # no object made
        with pytest.raises(tenancy.CrossTenantWrite):
            adopted_rows.insert_rows(session, Organisation, [
                {"name": "Ici", "kind": OrganisationKind.association},
                {"tenant_id": b.id, "name": "Ailleurs", "kind": OrganisationKind.association}])
        assert sorted(session.scalars(select(Organisation.name).where(
            Organisation.name.in_(["Banque alimentaire", "Restos du cœur", "Ici"])))) == [
            "Banque alimentaire", "Restos du cœur"]
        session.rollback()
    # a column with a server default would leave the object without its value: refused
    from sqlalchemy import Column, Integer, MetaData, Table
    from sqlalchemy import text as sql_text
    from sqlalchemy.orm import registry

    probe = Table("probe_server_default", MetaData(),
                  Column("tenant_id", Integer, primary_key=True),
                  Column("n", Integer, server_default=sql_text("1")))

    class Probe:
        pass

    registry().map_imperatively(Probe, probe)
    with pytest.raises(TypeError, match="server default"):
        adopted_rows.inserted(session, Probe, {"tenant_id": a.id})


def test_a_scoped_core_insert_stamps_the_current_tenant_and_refuses_another(
        session, two, in_tenant):
    from core.models import AuditEvent

    a, b = two[0], two[1]
    with in_tenant(a):
        tenancy.scoped_insert(session, AuditEvent.__table__,
                              {"actor": "test", "action": "probe.core", "detail": {}})
        with pytest.raises(tenancy.CrossTenantWrite):
            tenancy.scoped_insert(session, AuditEvent.__table__, {
                "tenant_id": b.id, "actor": "test", "action": "probe.other", "detail": {}})
        session.commit()
        assert session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("probe.%"))).all() == ["probe.core"]
    with in_tenant(b):
        assert session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("probe.%"))).all() == []


def test_a_scoped_core_update_changes_only_the_current_tenants_rows(session, two, in_tenant):
    users = User.__table__
    a, b = two[0], two[1]
    with in_tenant(a):
        changed = tenancy.scoped_update(session, users, {"email": "same@city.test"},
                                        {"full_name": "Changed in A"})
        assert changed == 1
        with pytest.raises(TypeError):
            tenancy.scoped_update(session, users, {"tenant_id": b.id}, {"full_name": "x"})
        with pytest.raises(TypeError):
            tenancy.scoped_update(session, users, {"email": "same@city.test"},
                                  {"tenant_id": b.id})
        with pytest.raises(TypeError):
            tenancy.scoped_update(session, users, {}, {"full_name": "everyone"})
        session.commit()
    with in_tenant(b):
        assert session.scalar(select(User.full_name)) != "Changed in A"
    with in_tenant(a):
        assert session.scalar(select(User.full_name)) == "Changed in A"
    with pytest.raises(tenancy.TenantNotSet):
        tenancy.scoped_update(session, users, {"email": "same@city.test"}, {"full_name": "x"})
