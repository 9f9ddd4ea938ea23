"""Import of 20,000 legacy loans (``ccas import loans``), after their 20,000 legacy cases.

Usage: python benchmarks/import_loans_20k.py [--admin-url URL] [--loans N] [--keep]

Imports N granted legacy cases first with the case importer (not timed), enables the
lender plugin, then writes a semicolon-separated, Windows-1252 CSV of N loans with French
headers (300-3,000 €, 6-36 months, 3.04 %, disbursed 2019-2026; most repaid to date, some
late, 2 % in default, 15 % settled) and times the loan import + commit: a schedule per
loan, its repayments allocated, guarantee calls for the defaults. Then re-imports the same
file (nothing new). PostgreSQL with ``--admin-url`` / ``$CCAS_BENCH_POSTGRES_URL`` /
``$CCAS_TEST_POSTGRES_URL``, SQLite otherwise. Prints the figures; asserts nothing on time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CASES_HEADER = ("Référence;Date de la demande;Nom;Prénom;Date de naissance;Objet;"
                "Montant demandé;Date d'instruction;Date de décision;Décision;Montant accordé;"
                "Durée (mois)")
LOANS_HEADER = ("Référence dossier;Montant prêté;Durée (mois);Taux;Date de décaissement;"
                "Total remboursé;Date du dernier remboursement;Date de défaillance")


def make_files(count: int, today: date, seed: int = 21) -> tuple[bytes, bytes]:
    from core.loans import build_schedule

    rnd = random.Random(seed)
    cases, loans = [CASES_HEADER], [LOANS_HEADER]
    for i in range(count):
        amount = rnd.randrange(3, 31) * 100
        months = rnd.randrange(6, 37)
        span = (today - date(2019, 1, 1)).days - 40
        disbursed = date(2019, 1, 1) + timedelta(days=rnd.randrange(span))
        asked = disbursed - timedelta(days=60)
        ref = f"L-{i:06d}"
        cases.append(";".join([
            ref, f"{asked:%d/%m/%Y}", f"Nom{i}", "Léa", "17/05/1990", "Mobilité",
            f"{amount},00", f"{asked + timedelta(days=20):%d/%m/%Y}",
            f"{asked + timedelta(days=40):%d/%m/%Y}", "Accordé", f"{amount},00", str(months),
        ]))
        rows = build_schedule(Decimal(amount), months, Decimal("3.04"), start_date=disbursed,
                              subsidy_share=Decimal(100)).installments
        due = [r for r in rows if r.due_date <= today]
        fate = rnd.random()
        repaid, last, default = Decimal(0), None, ""
        if fate < 0.15 and due:  # settled early (or on time) at the last due date
            last = due[-1].due_date
            repaid = sum((r.borrower_payment for r in due), Decimal(0)) + sum(
                (r.principal for r in rows[len(due):]), Decimal(0))
        elif fate < 0.17 and len(due) > 3:  # in default after three instalments
            paid = due[:3]
            repaid, last = sum((r.borrower_payment for r in paid), Decimal(0)), paid[-1].due_date
            default = f"{paid[-1].due_date + timedelta(days=120):%d/%m/%Y}"
            if paid[-1].due_date + timedelta(days=120) > today:
                default = ""
        elif due:  # up to date, or a few instalments behind
            behind = rnd.choice([0, 0, 0, 0, 1, 2, 4])
            paid = due[:max(0, len(due) - behind)]
            if paid:
                repaid = sum((r.borrower_payment for r in paid), Decimal(0))
                last = paid[-1].due_date
        loans.append(";".join([
            ref, f"{amount},00", str(months), "3,04", f"{disbursed:%d/%m/%Y}",
            f"{repaid:.2f}".replace(".", ",") if repaid else "",
            f"{last:%d/%m/%Y}" if last else "", default,
        ]))
    encode = lambda lines: ("\r\n".join(lines) + "\r\n").encode("cp1252")  # noqa: E731
    return encode(cases), encode(loans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get(
        "CCAS_BENCH_POSTGRES_URL", os.environ.get("CCAS_TEST_POSTGRES_URL")))
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.admin_url:
        os.environ["CCAS_TEST_POSTGRES_URL"] = args.admin_url
    else:
        os.environ.pop("CCAS_TEST_POSTGRES_URL", None)

    from core.testing.pytest_plugin import TestDatabase

    with tempfile.TemporaryDirectory() as tmp:
        database = TestDatabase(Path(tmp))
        try:
            run(database, args.loans)
        finally:
            if not args.keep:
                database.drop()
            elif database.dialect == "postgresql":
                print(f"kept database: {database.name}")


def run(database, count: int) -> None:
    from sqlalchemy import func, select

    from core import accounts, clock, plugins, tenancy
    from core.app import create_app
    from core.db import db
    from core.importer import run_import as import_cases
    from plugins.credit_municipal import legacy_import
    from plugins.credit_municipal.models import GuaranteeCall, Installment, Loan, Repayment

    app = create_app(database.app_config())
    with app.app_context():
        from flask import g

        session = db.session
        tenant = accounts.create_tenant(session, "bench", "CCAS Bench", "Bench")
        session.commit()
        g.tenant = tenant
        with tenancy.tenant_scope(tenant.id):
            plugins.set_enabled(session, "credit_municipal", True)
            session.commit()
            plugins.forget_enabled_cache()
            cases_file, loans_file = make_files(count, clock.today(tenant))
            print(f"database: {database.dialect}")
            print(f"loans file: {count:,} loans, {len(loans_file) / 1e6:.1f} MB "
                  f"(Windows-1252, semicolons)")
            started = time.perf_counter()
            result = import_cases(session, tenant, cases_file, "dossiers.csv")
            session.commit()
            print(f"cases first (not timed below): {result.summary()} in "
                  f"{time.perf_counter() - started:.1f} s")
            from import_100k import _server_cpu  # the case import benchmark's probe

            server = _server_cpu(session)
            server_before = server()
            started, cpu = time.perf_counter(), time.process_time()
            loans = legacy_import.run_import(session, tenant, loans_file, "prets.csv")
            session.commit()
            elapsed = time.perf_counter() - started
            server_after = server()
            print(f"import: {loans.summary()}")
            if loans.errors:
                for error in loans.errors[:5]:
                    print(f"  {error}")
            print(f"loan import time: {elapsed:.1f} s ({count / elapsed:,.0f} loans/s); "
                  f"CPU of this process {time.process_time() - cpu:.1f} s"
                  + (f", database server {server_after - server_before:.1f} s"
                     if server_after is not None else "")
                  + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
                  "(wall time includes waiting for a core)")
            counts = {model.__name__: session.scalar(select(func.count()).select_from(model))
                      for model in (Loan, Installment, Repayment, GuaranteeCall)}
            print("written: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()))
            started = time.perf_counter()
            again = legacy_import.run_import(session, tenant, loans_file, "prets.csv")
            session.commit()
            print(f"re-import: {again.created} created, {again.already:,} already imported, "
                  f"in {time.perf_counter() - started:.1f} s")
            assert again.created == 0


if __name__ == "__main__":
    main()
