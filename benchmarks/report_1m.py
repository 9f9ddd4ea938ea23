"""The yearly review over a tenant of one million cases, against hand-written SQL.

Usage: python benchmarks/report_1m.py [--admin-url URL] [--cases N] [--year Y] [--keep]

``--admin-url`` (default: ``$CCAS_BENCH_POSTGRES_URL`` or ``$CCAS_TEST_POSTGRES_URL``) is
a PostgreSQL superuser URL such as ``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
The script creates a scratch database (the test fixtures' roles: an owner for migrations,
a non-owner app role so that row-level security applies), migrates it, generates N cases
(default 1,000,000) spread over 2015-2024 with their persons and about three million
transitions (set-based ``INSERT … SELECT generate_series``, as the superuser), then times:

* ``core.reports.build_report`` for one year (the app role, through the ORM and the
  tenant wall, as in production), best of 3;
* hand-written SQL computing the same figures (same role, same RLS), best of 3;

checks that both give the same figures and prints the ratio (target <= 1.5). The scratch
database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

PURPOSES = """CASE
    WHEN r1 < 0.570 THEN 'mobility' WHEN r1 < 0.755 THEN 'housing'
    WHEN r1 < 0.871 THEN 'debts' WHEN r1 < 0.916 THEN 'training'
    WHEN r1 < 0.946 THEN 'household_equipment' WHEN r1 < 0.966 THEN 'health'
    WHEN r1 < 0.980 THEN 'employment' ELSE 'other' END"""

GENERATE = [
    "SELECT setseed(0.42)",
    """CREATE UNLOGGED TABLE bench_plan AS
       SELECT i, md5('c' || i)::uuid AS case_id, md5('p' || i)::uuid AS person_id,
              date '2015-01-01' + (i % 3652) AS intake, random() AS r1, random() AS r2,
              random() AS r3
       FROM generate_series(1, :n) AS i""",
    """INSERT INTO persons (tenant_id, id, first_name, last_name, birth_date, employment,
                            adults, children_ages, created_at, last_contact_at)
       SELECT :t, person_id, 'P', 'N' || i,
              CASE WHEN r3 < 0.05 THEN NULL ELSE date '1945-01-01' + (r3 * 22000)::int END,
              (ARRAY['cdi','cdd','interim','part_time','unemployed','minimum_benefits',
                     'retired','student','self_employed','other'])[1 + (i % 10)],
              1, '[]', now(), now()
       FROM bench_plan""",
    f"""INSERT INTO cases (tenant_id, id, reference, person_id, purpose, amount_requested,
                          project, source, referring_organisation_id, state, intake_date,
                          state_changed_at, created_at, reoriented_to, version)
       SELECT :t, case_id, 'B-' || i, person_id, {PURPOSES}, 300 + (i % 28) * 100, '',
              CASE WHEN r3 < 0.05 THEN 'referral' ELSE 'phone' END,
              CASE WHEN r3 < 0.05 THEN (SELECT id FROM organisations o
                   WHERE o.tenant_id = :t AND o.name = 'Partenaire ' || (i % 5)) END,
              CASE WHEN r2 < 0.12 THEN 'granted' WHEN r2 < 0.30 THEN 'refused'
                   WHEN r2 < 0.40 THEN 'submitted_to_lender' WHEN r2 < 0.45 THEN 'evaluation'
                   WHEN r2 < 0.55 THEN 'reoriented' ELSE 'intake' END,
              intake, now(), now(),
              CASE WHEN r2 >= 0.45 AND r2 < 0.55
                   THEN (ARRAY['aide_legale','point_conseil_budget','caf'])[1 + (i % 3)] END,
              1
       FROM bench_plan""",
    """INSERT INTO case_transitions (tenant_id, id, case_id, from_state, to_state, at,
                                     actor_label, reason_text, data)
       SELECT :t, gen_random_uuid(), case_id, f, s, intake + make_interval(hours => 11)
                  + make_interval(days => d), 'bench', '', dt::json
       FROM bench_plan
       CROSS JOIN LATERAL (VALUES
           (NULL, 'intake', 0, '{}', true),
           ('ficp_pending', 'documents_requested', 2, '{}', r2 < 0.45),
           ('documents_requested', 'evaluation', 9, '{}', r2 < 0.45),
           ('evaluation', 'instruction', 20, '{}', r2 < 0.40),
           ('instruction', 'submitted_to_lender', 25, '{}', r2 < 0.40),
           ('submitted_to_lender', 'granted', 35,
            '{"amount_granted": "' || (300 + (i % 28) * 100) || '.00", "months": '
            || (6 + (i % 31)) || '}', r2 < 0.12),
           ('submitted_to_lender', 'refused', 35, '{}', r2 >= 0.12 AND r2 < 0.30),
           ('intake', 'reoriented', 3, '{}', r2 >= 0.45 AND r2 < 0.55)
       ) AS steps(f, s, d, dt, keep)
       WHERE keep""",
    "DROP TABLE bench_plan",
    "ANALYZE persons", "ANALYZE cases", "ANALYZE case_transitions",
]

#: The same figures, written by hand for PostgreSQL (what a DBA would write).
HAND_SQL = {
    "headline": """
        SELECT (SELECT count(*) FROM cases WHERE intake_date BETWEEN :d0 AND :d1),
               count(DISTINCT case_id) FILTER (WHERE to_state = 'instruction'),
               count(DISTINCT case_id) FILTER (WHERE to_state = 'granted')
        FROM case_transitions
        WHERE to_state IN ('instruction', 'granted') AND at >= :t0 AND at < :t1""",
    "purposes": """SELECT purpose, count(*) FROM cases
                   WHERE intake_date BETWEEN :d0 AND :d1 GROUP BY purpose""",
    "monthly": """SELECT extract(month FROM intake_date)::int, count(*) FROM cases
                  WHERE intake_date BETWEEN :d0 AND :d1 GROUP BY 1""",
    "ages": """
        SELECT CASE WHEN p.birth_date IS NULL THEN 'unknown'
                    WHEN extract(year FROM age(c.intake_date, p.birth_date)) < 25 THEN 'under_25'
                    WHEN extract(year FROM age(c.intake_date, p.birth_date)) < 35 THEN '25_34'
                    WHEN extract(year FROM age(c.intake_date, p.birth_date)) < 45 THEN '35_44'
                    WHEN extract(year FROM age(c.intake_date, p.birth_date)) < 55 THEN '45_54'
                    WHEN extract(year FROM age(c.intake_date, p.birth_date)) < 65 THEN '55_64'
                    ELSE '65_and_over' END AS band, count(*)
        FROM cases c JOIN persons p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
        WHERE c.intake_date BETWEEN :d0 AND :d1 GROUP BY band""",
    "employment": """
        SELECT coalesce(p.employment, 'unknown'), count(*)
        FROM cases c JOIN persons p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
        WHERE c.intake_date BETWEEN :d0 AND :d1 GROUP BY 1""",
    "delays": """
        WITH m AS (
          SELECT case_id,
                 min(at) FILTER (WHERE to_state = 'intake') AS intake,
                 min(at) FILTER (WHERE from_state = 'ficp_pending') AS ficp_result,
                 min(at) FILTER (WHERE to_state = 'evaluation') AS evaluation,
                 min(at) FILTER (WHERE to_state = 'instruction') AS instruction,
                 min(at) FILTER (WHERE to_state = 'submitted_to_lender') AS submission,
                 min(at) FILTER (WHERE to_state IN ('granted', 'refused', 'adjourned'))
                   AS decision
          FROM case_transitions WHERE at < :t1 GROUP BY case_id HAVING max(at) >= :t0
        ), pairs AS (
          SELECT 'intake_to_ficp_result' AS k, intake AS a, ficp_result AS b FROM m
          UNION ALL SELECT 'ficp_result_to_evaluation', ficp_result, evaluation FROM m
          UNION ALL SELECT 'evaluation_to_instruction', evaluation, instruction FROM m
          UNION ALL SELECT 'instruction_to_submission', instruction, submission FROM m
          UNION ALL SELECT 'submission_to_decision', submission, decision FROM m
          UNION ALL SELECT 'intake_to_decision', intake, decision FROM m
        )
        SELECT k, count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY days),
               percentile_disc(0.9) WITHIN GROUP (ORDER BY days)
        FROM (SELECT k, floor(extract(epoch FROM b - a) / 86400 + 0.5)::int AS days
              FROM pairs WHERE a IS NOT NULL AND b >= :t0 AND b < :t1) x
        GROUP BY k""",
    "reorientations": """
        SELECT coalesce(c.reoriented_to, 'unknown'), count(DISTINCT t.case_id)
        FROM case_transitions t JOIN cases c ON c.tenant_id = t.tenant_id AND c.id = t.case_id
        WHERE t.to_state = 'reoriented' AND t.at >= :t0 AND t.at < :t1 GROUP BY 1""",
    "partners": """
        SELECT o.name, c.state, count(*)
        FROM cases c LEFT JOIN organisations o
          ON o.tenant_id = c.tenant_id AND o.id = c.referring_organisation_id
        WHERE c.intake_date BETWEEN :d0 AND :d1 AND c.source = 'referral'
        GROUP BY o.name, c.state""",
    "loans": """
        SELECT count((data->>'amount_granted')::numeric), sum((data->>'amount_granted')::numeric),
               avg((data->>'months')::int)
        FROM case_transitions
        WHERE to_state = 'granted' AND at >= :t0 AND at < :t1""",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get(
        "CCAS_BENCH_POSTGRES_URL", os.environ.get("CCAS_TEST_POSTGRES_URL")))
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--year", type=int, default=2018)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    args = parser.parse_args()
    if not args.admin_url:
        sys.exit("PostgreSQL needed: --admin-url or CCAS_BENCH_POSTGRES_URL")
    os.environ["CCAS_TEST_POSTGRES_URL"] = args.admin_url

    from core.testing.pytest_plugin import TestDatabase

    with tempfile.TemporaryDirectory() as tmp:
        database = TestDatabase(Path(tmp))
        try:
            run(database, args)
        finally:
            if args.keep:
                print(f"scratch database kept: {database.name}")
            else:
                database.drop()


def run(database, args) -> None:
    from core import accounts, rawsql, tenancy
    from core.app import create_app
    from core.db import db
    from core.reports import build_report
    from core.reports.queries import Period

    app = create_app(database.app_config())
    with app.app_context():
        session = db.session
        tenant = accounts.create_tenant(session, "bench", "CCAS Bench", "Bench")
        with tenancy.tenant_scope(tenant.id):
            for i in range(5):
                accounts.create_organisation(session, f"Partenaire {i}", "association")
            session.commit()
        tenant_id = tenant.id

    superuser = create_engine(
        make_url(database.admin_url).set(database=database.name), isolation_level="AUTOCOMMIT"
    )
    started = time.perf_counter()
    with superuser.connect() as conn:
        for statement in GENERATE:
            conn.execute(text(statement), {"n": args.cases, "t": tenant_id})
        counts = conn.execute(text(
            "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_transitions)"
        )).one()
    superuser.dispose()
    print(f"generated {counts[0]:,} cases and {counts[1]:,} transitions "
          f"in {time.perf_counter() - started:.1f} s")

    period = Period.of(args.year)
    params = {"d0": period.first_day, "d1": period.last_day, "t0": period.start,
              "t1": period.end}
    with app.app_context():
        from core.models import Tenant

        tenant = db.session.get(Tenant, tenant_id)
        with tenancy.tenant_scope(tenant_id):
            report_times, report = [], None
            for _ in range(args.repeat):
                db.session.rollback()
                t = time.perf_counter()
                report = build_report(db.session, tenant, args.year)
                report_times.append(time.perf_counter() - t)
            db.session.rollback()

    app_engine = create_engine(database.app_url)
    hand_times, hand = [], {}
    for _ in range(args.repeat):
        with app_engine.begin() as conn:
            # the tenant signed for this transaction (docs/security.md, the database wall)
            rawsql.set_tenant_guc(conn, str(tenant_id), "", tenancy.wall_key())
            t = time.perf_counter()
            hand = {name: conn.execute(text(sql), params).all() for name, sql in HAND_SQL.items()}
            hand_times.append(time.perf_counter() - t)
    app_engine.dispose()

    best_report, best_hand = min(report_times), min(hand_times)
    print(f"year {args.year}: {report['requests']:,} requests, {report['instructions']:,} "
          f"instructions, {report['granted']:,} granted")
    print(f"build_report: best {best_report * 1000:.0f} ms "
          f"(runs: {', '.join(f'{x * 1000:.0f}' for x in report_times)})")
    print(f"hand-written SQL: best {best_hand * 1000:.0f} ms "
          f"(runs: {', '.join(f'{x * 1000:.0f}' for x in hand_times)})")
    ratio = best_report / best_hand
    print(f"ratio report / hand-written SQL: {ratio:.2f} (target <= 1.5) "
          f"{'OK' if ratio <= 1.5 else 'OVER TARGET'}")
    check(report, hand)


def check(report: dict, hand: dict) -> None:
    """Both ways must give the same figures (else the ratio means nothing)."""
    requests, instructions, granted = hand["headline"][0]
    assert (report["requests"], report["instructions"], report["granted"]) == (
        requests, instructions, granted), "headline differs"
    assert {k: v for k, v in report["purpose_counts"].items() if v} == dict(hand["purposes"])
    ages = {**dict.fromkeys(report["applicants"]["age"], 0), **dict(hand["ages"])}
    assert report["applicants"]["age"] == ages, (report["applicants"]["age"], ages)
    for key, n, median, p90 in hand["delays"]:
        assert report["delays"][key] == {"count": n, "median": float(median), "p90": p90}, key
    assert report["loans"]["count"] == hand["loans"][0][0]
    assert report["loans"]["amount_lent"] == hand["loans"][0][1]
    print("figures checked: build_report and the hand-written SQL agree")


if __name__ == "__main__":
    main()
