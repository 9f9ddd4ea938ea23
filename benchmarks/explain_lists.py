"""EXPLAIN ANALYZE of the list queries as the application role, under row-level security,
on a database kept by ``benchmarks/request_speed.py --keep-db`` (PostgreSQL).

Usage::

    .venv/bin/python benchmarks/explain_lists.py ccas_test_1234_abcdef [--plans] [--tenant 1]

The queries are the hand-written equivalent's (``benchmarks/request_speed.py``: the same shapes
as the application's, bound parameters included), plus a search for a name nobody has
(the worst case of ``LIKE '%word%'``), and the application's search by tokens
(``core.case_search``: ``TOKEN_SEARCH``, the condition it adds to the list) for the same
two words. Prints, per query, the server's execution time and
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


#: The application's name search (``core.case_search.case_matches``), one word.
TOKEN_SEARCH = """AND EXISTS (SELECT 1 FROM case_search_tokens t WHERE t.tenant_id = c.tenant_id
     AND t.case_id = c.id AND t.token >= :word AND t.token < :word_end)"""


def _word(word: str) -> dict:
    from core.case_search import TOP, normalise

    return {"word": normalise(word), "word_end": normalise(word) + TOP}


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
        "token_search": (bench.LIST_SQL.format(state=TOKEN_SEARCH), {**page, **_word("martin")}),
        "token_search_nobody": (bench.LIST_SQL.format(state=TOKEN_SEARCH),
                                {**page, **_word("zzyx")}),
        "referral_list": (bench.REFERRALS_SQL.format(order="r.updated_at, r.id"),
                          {"limit": 51}),
        "portal_list": (bench.REFERRALS_SQL.format(order="r.updated_at DESC"),
                        {"limit": 500}),
    }


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
        conn.rollback()
    engine.dispose()


if __name__ == "__main__":
    main()
