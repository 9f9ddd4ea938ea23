"""What each sort of the case list costs, against its default order (newest intake first).

Usage::

    .venv/bin/python benchmarks/case_list_sort.py                     # SQLite file
    .venv/bin/python benchmarks/case_list_sort.py \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/test         # PostgreSQL, app role

Generates tenants × cases with ``benchmarks/request_speed.py``'s generator, then times one page
of 25 cases (``core.cases.list_cases``, no count: what the page reads after its count)
for each sortable column, both directions, and prints p50 (ms) and the ratio to the
default sort. On PostgreSQL it also prints whether the plan reads an index in order or
sorts the tenant's matching cases (``EXPLAIN``). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _requests_benchmark():
    """``benchmarks/request_speed.py`` (its data generator)."""
    import request_speed

    return request_speed


def _plan(db, read, dialect) -> list[str]:
    """The plan of the statement ``read`` runs (as executed: with the ORM's tenant
    criteria and its bound parameters), from EXPLAIN (QUERY PLAN on SQLite)."""
    from sqlalchemy import event

    engine = db.engine  # (the request session binds to a connection it holds)
    seen: list = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM cases" in statement and "ORDER BY" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = seen[-1]
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    cursor = db.session.connection().connection.cursor()
    cursor.execute(prefix + statement, parameters)
    rows = cursor.fetchall()
    return [str(r[-1]) if dialect == "sqlite" else str(r[0]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--plan", default="", help="print the full plan of this column (PG)")
    args = parser.parse_args()
    if args.db.startswith("postgresql"):
        os.environ["CCAS_TEST_POSTGRES_URL"] = args.db
    else:
        os.environ.pop("CCAS_TEST_POSTGRES_URL", None)
    from core.testing.pytest_plugin import TEST_WALL_KEY, TestDatabase

    with tempfile.TemporaryDirectory(prefix="ccas-sort-") as tmp:
        database = TestDatabase(Path(tmp))
        try:
            run(database, args, TEST_WALL_KEY)
        finally:
            database.drop()


def run(database, args, wall_key) -> None:
    from flask import g
    from sqlalchemy import select, text

    from core import cases, sorting, tenancy
    from core.app import create_app
    from core.db import db
    from core.models import Tenant

    app = create_app({"CCAS_ENV": "test", "CCAS_DATABASE_URL": database.app_url,
                      "CCAS_DATABASE_OWNER_URL": database.owner_url, "SECRET_KEY": "bench",
                      "CCAS_TENANT_WALL_KEY": wall_key, "CCAS_LOG_LEVEL": "WARNING",
                      "RATELIMIT_ENABLED": False})
    ctx = _requests_benchmark().generate(app, args.tenants, args.cases, 19)
    if database.dialect == "postgresql":
        with database.owner_connection() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    with app.test_request_context("/"), tenancy.tenant_scope(ctx["tenant_id"]):
        g.tenant = db.session.scalar(select(Tenant).where(Tenant.id == ctx["tenant_id"]))
        spec = cases.case_sort_spec()
        filters = cases.CaseFilters()
        results = []
        for key in spec.columns:
            for direction in ("asc", "desc"):
                sort = sorting.sort_from({"sort": key, "dir": direction}, spec)
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    cases.list_cases(db.session, "manager", filters, 3, 25, count=False,
                                     sort=sort)
                    times.append(time.perf_counter() - started)
                    db.session.rollback()
                plan = _plan(db, lambda sort=sort: cases.list_cases(
                    db.session, "manager", filters, 3, 25, count=False, sort=sort),
                    database.dialect)
                db.session.rollback()
                if key == args.plan:
                    print(f"-- {key} {direction}", *plan, sep="\n")
                plan = ("index order" if not any(
                    line.lstrip(" ->").startswith(("Sort", "Incremental Sort", "USE TEMP B-TREE"))
                    for line in plan) else "sort")
                results.append((key, direction, statistics.median(times) * 1000, plan))
    base = next(ms for key, d, ms, _p in results if key == "intake_date" and d == "desc")
    print(f"\n{database.dialect}, {args.tenants} tenants x {args.cases:,} cases, page 3 of 25, "
          f"p50 of {args.runs} runs")
    print(f"{'column':<12} {'dir':<5} {'p50 ms':>8} {'ratio':>6}  plan")
    for key, direction, ms, plan in results:
        print(f"{key:<12} {direction:<5} {ms:8.2f} {ms / base:6.2f}  {plan}")


if __name__ == "__main__":
    main()
