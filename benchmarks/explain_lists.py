"""EXPLAIN ANALYZE of the list queries as the application role, under row-level security,
on a database kept by ``benchmarks/request_speed.py --keep-db`` (PostgreSQL).

Usage::

    .venv/bin/python benchmarks/explain_lists.py ccas_test_1234_abcdef [--plans] [--tenant 1]

The queries are the hand-written equivalent's (``benchmarks/request_speed.py``: the same shapes
as the application's, bound parameters included), plus a search for a name nobody has
(the worst case of ``LIKE '%word%'``); then the application's own statements for the
same two words (``core.case_search``: the count of the words' tokens, then the page),
captured from ``core.cases.list_cases`` run on the same database and explained the same
way (``app_search …``). Prints, per query, the server's execution time and
the plan's scan nodes (``--plans``: the whole plan). The tenant's transaction is signed as
the application's are (the test wall key of the scratch database).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _bench():
    import request_speed

    return request_speed


def _hand_pages():
    import hand_pages

    return hand_pages


def queries(bench) -> dict[str, tuple[str, dict]]:
    """name -> (SQL, extra parameters); ``:tenant_id`` and ``:org_id`` added by the caller."""
    page = {"limit": 21, "offset": 0}
    return {
        "case_list": (bench.LIST_SQL.format(state=""), page),
        "case_list_state": (bench.LIST_SQL.format(state="AND c.state = :state"),
                            {**page, "state": "evaluation"}),
        "case_search": (bench.LIST_SQL.format(state=bench.SEARCH),
                        {**page, "like": "%martin%"}),
        "case_search_nobody": (bench.LIST_SQL.format(state=bench.SEARCH),
                               {**page, "like": "%zzyx%"}),
        "referral_list": (bench.REFERRALS_SQL.format(order="r.updated_at, r.id"),
                          {"limit": 51}),
        # the portal's page as the application orders it (last change of status first;
        # benchmarks/hand_pages.py, the faithful hand-written page)
        "portal_list": (_hand_pages().PORTAL_SQL.format(awaiting=""),
                        {"limit": _hand_pages().PORTAL_CAP + 1}),
    }


#: The words of the application's searches explained (a common name, a name nobody has).
SEARCH_WORDS = ("martin", "zzyx")


def app_search_statements(database: str, host: str, tenant_id: int, word: str) -> list:
    """``[(sql, parameters)]`` the application sends for the case list searched for
    ``word`` (the API's page of 20, no count), captured from a run on ``database``."""
    from flask import g
    from sqlalchemy import event

    from core import cases, tenancy
    from core.app import create_app
    from core.db import db
    from core.models import Tenant
    from core.testing.pytest_plugin import APP_ROLE, OWNER_ROLE, TEST_WALL_KEY

    app = create_app({
        "CCAS_ENV": "test", "SECRET_KEY": "explain", "CCAS_LOG_LEVEL": "WARNING",
        "CCAS_TENANT_WALL_KEY": TEST_WALL_KEY,
        "CCAS_DATABASE_URL": f"postgresql+psycopg://{APP_ROLE}@{host}/{database}",
        "CCAS_DATABASE_OWNER_URL": f"postgresql+psycopg://{OWNER_ROLE}@{host}/{database}"})
    seen = []

    def capture(_conn, _cursor, statement, parameters, *_args):
        if "case_search_tokens" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        with tenancy.tenant_scope(tenant_id):
            g.tenant = tenant
            event.listen(db.engine, "before_cursor_execute", capture)
            try:
                cases.list_cases(db.session, "social_worker", cases.CaseFilters(q=word),
                                 per_page=21, count=False)
            finally:
                event.remove(db.engine, "before_cursor_execute", capture)
            db.session.rollback()
        db.engine.dispose()
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    parser.add_argument("--tenant", type=int, default=1)
    parser.add_argument("--host", default="127.0.0.1:5432")
    parser.add_argument("--plans", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import create_engine, text

    from core import rawsql
    from core.config import wall_key
    from core.testing.pytest_plugin import APP_ROLE, TEST_WALL_KEY

    bench = _bench()
    engine = create_engine(f"postgresql+psycopg://{APP_ROLE}@{args.host}/{args.database}")
    key = wall_key({"CCAS_TENANT_WALL_KEY": TEST_WALL_KEY})
    with engine.connect() as conn:
        conn.begin()
        rawsql.set_tenant_guc(conn, str(args.tenant), "", key)
        org = conn.execute(text("SELECT id FROM organisations WHERE name LIKE 'CAF%'")).scalar()
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar()
        print(f"tenant {args.tenant}: {cases:,} cases (as {APP_ROLE}, row-level security)")
        for name, (sql, params) in queries(bench).items():
            plan = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql),
                                {"tenant_id": args.tenant, "org_id": org, **params}
                                ).scalars().all()
            took = next((line for line in plan if line.startswith("Execution Time")), "")
            scans = [re.sub(r"\s+\(cost.*", "", line).strip(" ->") for line in plan
                     if re.search(r"Scan|Sort |Hash Join|Nested Loop", line)]
            print(f"{name:20} {took.removeprefix('Execution Time: '):>12}  "
                  + "; ".join(scans[:4]))
            if args.plans:
                print("\n".join("    " + line for line in plan))
        for word in SEARCH_WORDS:
            statements = app_search_statements(args.database, args.host, args.tenant, word)
            for step, (sql, params) in enumerate(statements, start=1):
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql,
                                            params).scalars().all()
                took = next((line for line in plan if line.startswith("Execution Time")), "")
                scans = [re.sub(r"\s+\(cost.*", "", line).strip(" ->") for line in plan
                         if re.search(r"Scan|Sort |Hash Join|Nested Loop|SubPlan", line)]
                name = f"app_search {word} {step}/{len(statements)}"
                print(f"{name:20} {took.removeprefix('Execution Time: '):>12}  "
                      + "; ".join(scans[:4]))
                if args.plans:
                    print("\n".join("    " + line for line in plan))
        conn.rollback()
    engine.dispose()


if __name__ == "__main__":
    main()
